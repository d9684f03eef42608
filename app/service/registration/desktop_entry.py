"""XDG desktop entries (the autostart entry that starts the tray at login).

The Exec key has two layers of escaping (Desktop Entry Specification, "The Exec key"):
arguments with reserved characters are double-quoted with `"`, `` ` ``, `$` and `\\`
backslash-escaped inside the quotes, "%" is written "%%" (field codes); then the whole value
gets the general string escaping, which doubles every backslash again.
"""

from __future__ import annotations

from collections.abc import Sequence

_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_IN_QUOTES = frozenset('"`$\\')
_STRING_UNESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


class DesktopEntryError(ValueError):
    """The text is not a desktop entry we can read."""


def _quote(arg: str) -> str:
    text = arg.replace("%", "%%")
    if arg and not (_RESERVED & set(arg)):
        return text
    return '"' + "".join("\\" + ch if ch in _IN_QUOTES else ch for ch in text) + '"'


def exec_value(argv: Sequence[str]) -> str:
    """The Exec= value that runs exactly `argv`."""
    joined = " ".join(_quote(arg) for arg in argv)
    return joined.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def _unescape_string(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(_STRING_UNESCAPES.get(value[i + 1], "\\" + value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def split_exec(value: str) -> tuple[str, ...]:
    """The argv an Exec= value runs (field codes other than %% are left as written)."""
    text = _unescape_string(value)
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in _IN_QUOTES:
                current.append(text[i + 1])
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        elif ch == '"':
            quoted = in_word = True
        else:
            current.append(ch)
            in_word = True
        i += 1
    if quoted:
        raise DesktopEntryError(f"unterminated quote in Exec={value}")
    if in_word:
        words.append("".join(current))
    return tuple(w.replace("%%", "%") for w in words)


def parse_entry(text: str) -> dict[str, str]:
    """The keys of the [Desktop Entry] group (other groups are ignored)."""
    group: str | None = None
    keys: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise DesktopEntryError(f"line {number}: {line!r} is not KEY=VALUE")
        if group is None:
            raise DesktopEntryError(f"line {number}: {line!r} is outside any [group]")
        if group == "Desktop Entry":
            keys[key.strip()] = value.strip()
    if group is None:
        raise DesktopEntryError("there is no [Desktop Entry] group")
    return keys


def entry_command(text: str) -> tuple[str, ...] | None:
    try:
        value = parse_entry(text).get("Exec")
        return split_exec(value) if value else None
    except DesktopEntryError:
        return None
