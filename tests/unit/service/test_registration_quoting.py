"""Quoting round trips: what we write into units, desktop entries and Windows command lines
reads back as exactly the argv we meant, for awkward paths too."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.service.registration import desktop_entry, unitfile, windows

# Printable text without NUL or line breaks (a path or argument can hold anything else).
ARG = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
AWKWARD = [
    "/opt/WATS Station/bin/wats-station",
    "100%",
    "$HOME",
    'say "hi"',
    "back\\slash",
    "tab\there",
    "it's",
    "",
]


@given(st.lists(ARG, min_size=1, max_size=5))
def test_systemd_exec_round_trip(argv: list[str]) -> None:
    assert unitfile.split_words(unitfile.exec_value(argv)) == tuple(argv)


@pytest.mark.parametrize("arg", [a for a in AWKWARD if a])
def test_systemd_exec_escapes_specifiers_and_variables(arg: str) -> None:
    value = unitfile.exec_value(["/bin/x", arg])
    assert unitfile.split_words(value) == ("/bin/x", arg)
    if "%" in arg:
        assert "%%" in value
    if "$" in arg:
        assert "$$" in value


def test_systemd_environment_value_keeps_dollar_literal() -> None:
    value = unitfile.environment_value("WATS_STATION_HOME", "/srv/$x 100%")
    assert value == '"WATS_STATION_HOME=/srv/$x 100%%"'
    assert unitfile.split_words(value, exec_line=False) == ("WATS_STATION_HOME=/srv/$x 100%",)


@given(st.lists(ARG, min_size=1, max_size=5))
def test_desktop_exec_round_trip(argv: list[str]) -> None:
    assert desktop_entry.split_exec(desktop_entry.exec_value(argv)) == tuple(argv)


def test_desktop_exec_uses_four_backslashes_for_one_in_quotes() -> None:
    assert desktop_entry.exec_value(["/a b/c\\d"]) == '"/a b/c\\\\\\\\d"'


@given(st.lists(ARG.filter(lambda a: '"' not in a), min_size=1, max_size=5))
def test_windows_command_line_round_trip(argv: list[str]) -> None:
    # The program name has its own rule (no escapes), as in CommandLineToArgvW.
    line = subprocess.list2cmdline(argv)
    if " " not in argv[0] and "\t" not in argv[0]:
        assert windows.split_command_line(line) == tuple(argv)


@given(st.lists(ARG, min_size=0, max_size=5))
def test_windows_arguments_round_trip(args: list[str]) -> None:
    line = subprocess.list2cmdline([r"C:\Program Files\WATS Station\wats-station.exe", *args])
    assert windows.split_command_line(line) == (
        r"C:\Program Files\WATS Station\wats-station.exe",
        *args,
    )


def test_windows_service_binary_path_splits_like_the_service_manager() -> None:
    assert windows.split_command_line(
        r'"C:\Program Files\WATS\wats-station.exe" --windows-service --instance line2'
    ) == (r"C:\Program Files\WATS\wats-station.exe", "--windows-service", "--instance", "line2")


def test_unit_parser_rejects_what_systemd_would_not_read() -> None:
    with pytest.raises(unitfile.UnitSyntaxError, match="outside any"):
        unitfile.parse_unit("ExecStart=/bin/true\n")
    with pytest.raises(unitfile.UnitSyntaxError, match="not KEY=VALUE"):
        unitfile.parse_unit("[Service]\nExecStart /bin/true\n")


def test_unit_checker_names_each_problem() -> None:
    text = (
        "[Unit]\nDescription=x\n[Service]\nExecStart=bin/x\nRestart=sometimes\n"
        "RestartSec=soon\nRestartSek=5\nEnvironment=NOEQUALS\n[Sales]\nX=1\n"
    )
    assert unitfile.check_service_unit(text) == [
        "the [Install] section is missing",
        "line 7: unknown key 'RestartSek' in [Service]",
        "unknown section [Sales]",
        "the program 'bin/x' is not an absolute path",
        "Restart=sometimes is not a restart policy",
        "RestartSec=soon is not a time span",
        "Environment=NOEQUALS: 'NOEQUALS' is not NAME=VALUE",
        "WantedBy= is missing: the unit would never start by itself",
    ]
