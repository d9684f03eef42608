"""Failed files, Logs and About pages against a real worker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from app.core.config import ServerConfig
from app.core.secrets import set_token
from app.gui.pages.about import AboutPage
from app.gui.pages.failed import FailedPage
from app.gui.pages.logs import LogsPage
from tests.gui.conftest import Gui
from tests.gui.test_tray_status import drop


def test_failed_files_show_their_reason_and_can_be_retried(gui: Gui, tmp_path: Path) -> None:
    inbox = tmp_path / "in1"
    gui.station.configure(folders={"line1": inbox})
    gui.start_worker()
    gui.connect()
    page = gui.page(FailedPage)
    gui.settle()
    assert page.empty.isVisible()
    drop(inbox, "broken.json", b'{"type": "T", "pn": ')
    gui.until(lambda: page.table.topLevelItemCount() == 1, 30, "the failed file")
    item = page.table.topLevelItem(0)
    assert item is not None
    assert (item.text(0), item.text(1)) == ("broken.json", "line1")
    assert item.text(3)  # the converter's reason, in words
    assert page.title_label.text() == "Failed files (1)"
    assert not page.empty.isVisible()
    item.setSelected(True)
    assert page.retry_button.isEnabled()
    assert page.open_button.isEnabled()
    page.retry_selected()
    gui.until(page.message_bar.isVisible, 10, "the retry message")
    assert page.message_bar.text.text().startswith("1 file(s) moved back to their watch folder")


def test_logs_tail_follow_filter_and_search(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    link = gui.connect()
    page = gui.page(LogsPage)
    gui.until(lambda: page.entries, 10, "the log tail")
    before = len(page.entries)
    gui.run(link.request("uploads.resume"))
    gui.run(link.request("uploads.pause"))
    gui.until(lambda: len(page.entries) > before, 10, "live log lines")
    gui.until(lambda: any("paused" in line for line in page.shown_lines()), 5, "shown")

    page.level.setCurrentIndex(page.level.findData("error"))
    assert all(" ERROR " in f" {line} " or "CRITICAL" in line for line in page.shown_lines())
    page.level.setCurrentIndex(page.level.findData("debug"))
    page.search.setText("uploads")
    page.rerender()
    lines = page.shown_lines()
    assert lines
    assert all("uploads" in line.lower() for line in lines)
    page.deactivate()
    gui.settle()
    assert "log" not in link.client.topics


def test_about_shows_versions_and_copies_diagnostics_without_the_token(gui: Gui) -> None:
    config = gui.station.configure()
    config.server = ServerConfig(url="http://127.0.0.1:9")
    gui.station.store.save(config)
    set_token(gui.station.paths, config, "very-secret-token-123", environ=gui.station.env)
    gui.start_worker()
    gui.connect()
    page = gui.page(AboutPage)
    shown = [
        page.version_grid.itemAt(i).widget().text()  # type: ignore[union-attr]
        for i in range(page.version_grid.count())
    ]
    assert "Worker" in shown
    page.copy_diagnostics()
    gui.until(lambda: page.diagnostics, 10, "the diagnostics")
    copied = QGuiApplication.clipboard().text()
    assert copied == page.diagnostics
    assert copied.startswith("WATS Station diagnostics")
    assert "http://127.0.0.1:9" in copied
    assert "very-secret-token-123" not in copied
    assert "Diagnostics copied to the clipboard" in page.message_bar.text.text()
