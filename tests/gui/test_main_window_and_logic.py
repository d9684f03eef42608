"""The main window (every page opens, nothing needs more than a 1366x768 screen, keyboard
shortcuts), resubmitting a rejected report, and the pure rules behind the tray and pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.gui.config_edit import field_errors
from app.gui.folder_checks import check_folder, same_folder
from app.gui.formats import format_count, format_duration
from app.gui.icons import TrayState, available_icons
from app.gui.main_window import PAGE_KEYS, MainWindow
from app.gui.pages.queue import QueuePage
from app.gui.report_detail import ResubmitDialog
from app.gui.report_tree import limits_text, verdict_text
from app.gui.status_view import tooltip, tray_state
from app.samples.generate import generated_uut
from tests.fixtures.devserver import DevServerProcess
from tests.gui.conftest import Gui
from tests.gui.test_tray_status import drop

SCREEN_W, SCREEN_H = 1366, 768


def test_every_page_opens_and_fits_a_1366x768_screen(gui: Gui, tmp_path: Path) -> None:
    gui.station.configure(folders={"line1": tmp_path / "in1"})
    gui.start_worker()
    gui.connect()
    window = MainWindow(gui.context)
    gui.show(window)
    window.resize(SCREEN_W, SCREEN_H - 40)
    assert window.minimumSizeHint().width() <= SCREEN_W
    assert window.minimumSizeHint().height() <= SCREEN_H - 40
    assert len(window.pages) == 1  # only Status is built at start; the rest on demand
    for key in PAGE_KEYS:
        page = window.show_page(key)
        assert window.current_key == key
        assert window.stack.currentWidget() is page
        hint = page.minimumSizeHint()
        available = SCREEN_W - window.navigation.width()
        assert hint.width() <= available, f"{key} needs {hint.width()} px of {available}"
    gui.settle()
    # Keyboard: Ctrl+2 is the Queue page.
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_key == "queue"


def test_a_rejected_report_is_fixed_and_resubmitted(
    gui: Gui, devserver: DevServerProcess, tmp_path: Path
) -> None:
    inbox = tmp_path / "in1"
    gui.station.configure(server=devserver, folders={"line1": inbox})
    gui.start_worker()
    gui.connect()
    page = gui.page(QueuePage)
    drop(inbox, "unknown.json", json.dumps(generated_uut(5, process_code=4242)).encode())
    page.state_filter.setCurrentIndex(page.state_filter.findData("rejected"))
    gui.until(lambda: page.model.total == 1 and page.model.loaded_row(0), 30, "the rejection")
    row = page.model.loaded_row(0)
    assert row is not None
    assert "4242" in str(row["last_error"])
    page.table.selectRow(0)
    assert page.resubmit_button.isEnabled()
    dialog = ResubmitDialog(gui.context, row)
    gui.show(dialog)
    dialog.edits["processCode"].setText("not a number")
    dialog.submit()
    assert dialog.errors["processCode"].text() == "Enter a whole number from 0 to 32767."
    dialog.edits["processCode"].setText("50")
    done: list[bool] = []
    dialog.resubmitted.connect(lambda: done.append(True))
    dialog.submit()
    gui.until(lambda: done, 10, "the resubmission")
    gui.until(
        lambda: gui.station.call("queue.stats")["uploaded"] == 1, 30, "the fixed report uploaded"
    )
    assert gui.station.call("queue.stats")["rejected"] == 0


# ---------------------------------------------------------------- rules without a worker


def status(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "worker_state": "running",
        "server_state": "online",
        "uploads": "idle",
        "queue": {"queued": 0, "uploading": 0, "uploaded": 5, "rejected": 0},
        "converters": [],
        "alarms": [],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("connected", "snapshot", "expected"),
    [
        (False, status(), TrayState.STOPPED),
        (True, None, TrayState.STOPPED),
        (True, status(worker_state="stopping"), TrayState.STOPPED),
        (True, status(), TrayState.OK),
        (True, status(uploads="running"), TrayState.OK),  # looking for work, nothing to send
        (
            True,
            status(uploads="running", queue={"queued": 3, "uploading": 1, "uploaded": 0}),
            TrayState.UPLOADING,
        ),
        (True, status(server_state="offline"), TrayState.OFFLINE),
        (True, status(uploads="backing_off"), TrayState.OFFLINE),
        (True, status(uploads="paused", queue={"queued": 2}), TrayState.OFFLINE),
        (True, status(uploads="paused"), TrayState.OK),  # paused, nothing waiting
        (True, status(server_state="not_configured", queue={"queued": 1}), TrayState.OFFLINE),
        (True, status(queue={"rejected": 1}), TrayState.ATTENTION),
        (True, status(server_state="auth_failed"), TrayState.ATTENTION),
        (True, status(converters=[{"name": "a", "state": "error"}]), TrayState.ATTENTION),
        (
            True,
            status(server_state="offline", alarms=[{"kind": "write_failed", "message": "x"}]),
            TrayState.ATTENTION,
        ),
    ],
)
def test_tray_state_rules(
    qapp: object, connected: bool, snapshot: dict[str, Any] | None, expected: TrayState
) -> None:
    assert tray_state(connected, snapshot) is expected


def test_tooltip_is_short_and_counts(qapp: object) -> None:
    text = tooltip(
        TrayState.OFFLINE,
        status(queue={"queued": 1200, "uploading": 3, "uploaded": 7, "rejected": 2}),
    )
    assert text == ("WATS Station – Reports waiting\nQueued 1\u2009203 · Uploaded 7 · Rejected 2")
    assert len(text) < 127  # Windows cuts longer tooltips


def test_every_tray_state_has_an_icon() -> None:
    assert {f"tray-{s.value}" for s in TrayState} <= set(available_icons())


def test_limits_and_verdicts_read_as_words() -> None:
    assert limits_text({"compOp": "GELE", "lowLimit": 4.9, "highLimit": 5.1}) == "4.9 ≤ x ≤ 5.1"
    assert limits_text({"compOp": "LE", "lowLimit": 500.0}) == "≤ 500"
    assert limits_text({"compOp": "LOG", "lowLimit": 1}) == ""
    assert limits_text({"compOp": "LTGT", "lowLimit": 1, "highLimit": 2}) == "x < 1 or x > 2"
    assert limits_text({"compOp": "EQ", "limit": "OK", "value": "OK"}) == "= OK"
    assert verdict_text("F") == "Failed"
    assert verdict_text("Passed") == "Passed"
    assert verdict_text(None) == ""


def test_worker_refusals_are_split_by_field() -> None:
    fields, rest = field_errors(
        "converters[1].watch_folder: folder does not exist (/x); station.name: must not be empty"
    )
    assert fields == {
        "converters[1].watch_folder": "folder does not exist (/x)",
        "station.name": "must not be empty",
    }
    assert rest == ""
    assert field_errors("the worker is busy") == ({}, "the worker is busy")


def test_folder_checks(tmp_path: Path) -> None:
    assert check_folder(str(tmp_path)).ok
    assert not check_folder("").ok
    assert check_folder("", required=False).ok
    missing = check_folder(str(tmp_path / "nope"))
    assert (missing.ok, missing.missing) == (False, True)
    assert check_folder(str(tmp_path / "nope"), missing_ok=True).ok
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert check_folder(str(a_file)).message == "This is a file, not a folder. Choose a folder."
    assert same_folder(tmp_path / "a" / ".." / "b", tmp_path / "b")


def test_formats() -> None:
    assert format_count(1234567) == "1\u2009234\u2009567"
    assert format_duration(3) == "3 s"
    assert format_duration(250) == "4 min 10 s"
    assert format_duration(7500) == "2 h 5 min"
    assert format_duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
