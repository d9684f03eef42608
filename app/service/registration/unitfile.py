"""systemd unit files: quoting for what we write, parsing and checking for what we read.

Quoting follows systemd.syntax(7) and systemd.service(5): words with anything but plain
characters are double-quoted with C-style escapes, "%" is a specifier prefix (written "%%")
and, on Exec lines only, "$" starts a variable (written "$$").

`check_service_unit` is our own syntax check, used before a unit is written and by the tests
where `systemd-analyze verify` is not installed: sections, keys, values we rely on, and an
absolute ExecStart program that exists and can be run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_SECTION = re.compile(r"\[([A-Za-z]+)\]")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_C_UNESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "s": " "}

# The sections and keys our units use, plus common ones an administrator might add.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "Unit": frozenset(
        {
            "Description",
            "Documentation",
            "Wants",
            "Requires",
            "After",
            "Before",
            "StartLimitIntervalSec",
            "StartLimitBurst",
            "ConditionPathExists",
        }
    ),
    "Service": frozenset(
        {
            "Type",
            "ExecStart",
            "ExecStop",
            "Environment",
            "EnvironmentFile",
            "User",
            "Group",
            "WorkingDirectory",
            "Restart",
            "RestartSec",
            "RestartPreventExitStatus",
            "TimeoutStopSec",
            "KillMode",
            "Nice",
            "UMask",
        }
    ),
    "Install": frozenset({"WantedBy", "RequiredBy", "Alias", "Also"}),
}
RESTART_VALUES = frozenset(
    {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}
)
TYPE_VALUES = frozenset({"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"})
_TIME_SPAN = re.compile(r"\d+(\.\d+)?\s*(us|ms|s|sec|min|m|h)?")


class UnitSyntaxError(ValueError):
    """The text is not a unit file systemd can read."""


def _quote(arg: str, *, exec_line: bool) -> str:
    text = arg.replace("%", "%%")
    if exec_line:
        text = text.replace("$", "$$")
    if _PLAIN.fullmatch(arg):
        return text
    return '"' + "".join(_C_ESCAPES.get(ch, ch) for ch in text) + '"'


def exec_value(argv: Sequence[str]) -> str:
    """The value of an ExecStart= line running exactly `argv`."""
    return " ".join(_quote(arg, exec_line=True) for arg in argv)


def environment_value(name: str, value: str) -> str:
    """The value of an Environment= line setting one variable (no "$" expansion there)."""
    return _quote(f"{name}={value}", exec_line=False)


def split_words(value: str, *, exec_line: bool = True) -> tuple[str, ...]:
    """The words of a value as systemd reads them (quotes, C escapes, %% and $$)."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote: str | None = None
    i = 0
    while i < len(value):
        ch = value[i]
        if quote is None and ch in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            i += 1
            continue
        in_word = True
        if quote is None and ch in "\"'":
            quote = ch
        elif quote is not None and ch == quote:
            quote = None
        elif ch == "\\" and i + 1 < len(value):
            i += 1
            current.append(_C_UNESCAPES.get(value[i], value[i]))
        elif ch == "%" and value[i + 1 : i + 2] == "%":
            current.append("%")
            i += 1
        elif exec_line and ch == "$" and value[i + 1 : i + 2] == "$":
            current.append("$")
            i += 1
        else:
            current.append(ch)
        i += 1
    if quote is not None:
        raise UnitSyntaxError(f"unterminated quote in {value!r}")
    if in_word:
        words.append("".join(current))
    return tuple(words)


@dataclass
class UnitFile:
    # section name -> [(key, value, line number)]
    sections: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)

    def values(self, section: str, key: str) -> list[str]:
        return [v for k, v, _ in self.sections.get(section, []) if k == key]

    def value(self, section: str, key: str) -> str | None:
        found = self.values(section, key)
        return found[-1] if found else None


def parse_unit(text: str) -> UnitFile:
    unit = UnitFile()
    section: str | None = None
    pending = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        header = _SECTION.fullmatch(line)
        if header:
            section = header.group(1)
            unit.sections.setdefault(section, [])
            continue
        if section is None:
            raise UnitSyntaxError(f"line {number}: {line!r} is outside any [Section]")
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise UnitSyntaxError(f"line {number}: {line!r} is not KEY=VALUE")
        unit.sections[section].append((key, value.strip(), number))
    return unit


def exec_start(text: str) -> tuple[str, ...] | None:
    """The command a service unit starts (prefixes such as "-" or "@" removed)."""
    try:
        value = parse_unit(text).value("Service", "ExecStart")
        if not value:
            return None
        return split_words(value.lstrip("-@:+!"))
    except UnitSyntaxError:
        return None


def check_service_unit(text: str) -> list[str]:
    """Problems that would stop systemd from running this worker unit; [] when none."""
    try:
        unit = parse_unit(text)
    except UnitSyntaxError as exc:
        return [str(exc)]
    problems: list[str] = []
    for name in ("Unit", "Service", "Install"):
        if name not in unit.sections:
            problems.append(f"the [{name}] section is missing")
    for name, entries in unit.sections.items():
        known = KNOWN_KEYS.get(name)
        if known is None:
            problems.append(f"unknown section [{name}]")
            continue
        problems.extend(
            f"line {line}: unknown key {key!r} in [{name}]"
            for key, _, line in entries
            if key not in known
        )
    problems.extend(_check_service_values(unit))
    if not unit.values("Install", "WantedBy"):
        problems.append("WantedBy= is missing: the unit would never start by itself")
    return problems


def _check_service_values(unit: UnitFile) -> list[str]:
    problems: list[str] = []
    starts = unit.values("Service", "ExecStart")
    if len(starts) != 1:
        problems.append(f"a simple service needs exactly one ExecStart=, found {len(starts)}")
    else:
        try:
            argv = split_words(starts[0].lstrip("-@:+!"))
        except UnitSyntaxError as exc:
            problems.append(f"ExecStart=: {exc}")
            argv = ()
        problems.extend(check_program(argv))
    restart = unit.value("Service", "Restart")
    if restart is not None and restart not in RESTART_VALUES:
        problems.append(f"Restart={restart} is not a restart policy")
    kind = unit.value("Service", "Type")
    if kind is not None and kind not in TYPE_VALUES:
        problems.append(f"Type={kind} is not a service type")
    delay = unit.value("Service", "RestartSec")
    if delay is not None and not _TIME_SPAN.fullmatch(delay):
        problems.append(f"RestartSec={delay} is not a time span")
    for value in unit.values("Service", "Environment"):
        try:
            words = split_words(value, exec_line=False)
        except UnitSyntaxError as exc:
            problems.append(f"Environment=: {exc}")
            continue
        problems.extend(
            f"Environment={value}: {word!r} is not NAME=VALUE" for word in words if "=" not in word
        )
    return problems


def check_program(argv: Sequence[str]) -> list[str]:
    """The program of a command line must be an absolute path to an executable file."""
    if not argv:
        return ["the command is empty"]
    program = Path(argv[0])
    if not program.is_absolute():
        return [f"the program {argv[0]!r} is not an absolute path"]
    if not program.is_file():
        return [f"the program {argv[0]} does not exist"]
    if not os.access(program, os.X_OK):
        return [f"the program {argv[0]} is not executable"]
    return []
