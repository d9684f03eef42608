"""The selftest's check runner: one line per check, prerequisites, failures in plain words."""

from __future__ import annotations

import io

from app.commands.selftest import Check, CheckFailed, run_checks


def _boom() -> str:
    raise CheckFailed("the worker did not answer within 90 s")


def _crash() -> str:
    raise KeyError("pid")


def test_prints_one_line_per_check_and_skips_checks_whose_prerequisite_failed() -> None:
    out = io.StringIO()
    outcomes = run_checks(
        [
            Check("modules", lambda: "171 modules imported"),
            Check("worker", _boom),
            Check("ipc", lambda: "never runs", needs=("worker",)),
            Check("converters", lambda: "7 samples"),
        ],
        out,
    )
    lines = out.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["PASS", "modules"],
        ["FAIL", "worker"],
        ["FAIL", "ipc"],
        ["PASS", "converters"],
    ]
    assert "the worker did not answer within 90 s" in lines[1]
    assert "not run: worker failed" in lines[2]
    assert [o.passed for o in outcomes] == [True, False, False, True]
    assert outcomes[2].detail == "not run: worker failed"


def test_an_unexpected_exception_is_a_failure_with_its_type_not_a_traceback() -> None:
    out = io.StringIO()
    outcomes = run_checks([Check("ipc", _crash)], out)
    assert not outcomes[0].passed
    assert outcomes[0].detail == "KeyError: 'pid'"
    assert "Traceback" not in out.getvalue()


def test_names_line_up_in_a_column() -> None:
    out = io.StringIO()
    run_checks([Check("a", lambda: "x"), Check("longer-name", lambda: "y")], out)
    first, second = out.getvalue().splitlines()
    assert first.index("x") == second.index("y")
