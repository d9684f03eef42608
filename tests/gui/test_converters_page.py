"""Converters page, editor and "test on a file" against a real worker: the list loads, a new
converter is saved and watched, enable/disable/remove apply, and bad folders are refused in
place (missing, not writable, the same as another converter's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.gui.converter_editor import ConverterEditor
from app.gui.converter_test import ConverterTestDialog
from app.gui.pages.converters import ConvertersPage
from app.samples import sample_path
from tests.gui.conftest import Gui


def converters_saved(gui: Gui) -> list[dict[str, Any]]:
    converters: list[dict[str, Any]] = gui.station.call("config.get")["config"]["converters"]
    return converters


@pytest.fixture
def page(gui: Gui, tmp_path: Path) -> ConvertersPage:
    gui.station.configure(folders={"line1": tmp_path / "in1"})
    gui.start_worker()
    gui.connect()
    converters = gui.page(ConvertersPage)
    gui.until(lambda: converters.config and converters.available, 10, "converters to load")
    return converters


def open_editor(gui: Gui, page: ConvertersPage, index: int | None = None) -> ConverterEditor:
    editor = page.edit(index)
    assert editor is not None
    gui.qtbot.addWidget(editor)
    return editor


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may create files in, even root (immutable attribute) where possible."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], check=False).returncode:
        pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_list_loads_from_the_worker(gui: Gui, page: ConvertersPage, tmp_path: Path) -> None:
    gui.until(lambda: page.item_texts() and page.item_texts()[0][3], 10, "the live state")
    name, kind, folder, state, _today = page.item_texts()[0]
    assert (name, kind, folder) == ("line1", "wsjf", str(tmp_path / "in1"))
    assert state in ("Watching", "Idle")
    names = {a["name"] for a in page.available}
    assert {"wsjf", "wsxf", "wstf", "atml"} <= names


def test_add_a_converter_creating_its_folder(
    gui: Gui, page: ConvertersPage, tmp_path: Path
) -> None:
    editor = open_editor(gui, page)
    editor.name.setText("line2")
    editor.kind.setCurrentIndex(editor.kind.findData("wstf"))
    folder = tmp_path / "new" / "in2"
    editor.watch.set_text(str(folder))
    gui.until(lambda: editor.watch.check is not None, 10, "the folder check")
    assert not editor.watch.valid
    assert editor.watch.error.text().startswith("This folder does not exist. Click “Create folder”")
    assert editor.watch.create_button.isVisible()
    editor.save()
    gui.settle()
    assert editor.isVisible()
    assert "Not saved" in editor.message_bar.text.text()
    assert len(converters_saved(gui)) == 1

    editor.watch.create_button.click()
    gui.until(lambda: editor.watch.valid, 10, "the created folder to pass")
    assert folder.is_dir()
    assert not editor.watch.error.isVisible()
    editor.post_action.setCurrentIndex(editor.post_action.findData("keep"))
    editor.parameters.editors["fallback_pn"].set_value("PN-FALLBACK")
    editor.save()
    gui.until(lambda: not editor.isVisible(), 10, "the editor to close after saving")
    saved = converters_saved(gui)
    assert [c["name"] for c in saved] == ["line1", "line2"]
    assert saved[1]["converter"] == "wstf"
    assert saved[1]["watch_folder"] == str(folder)
    assert saved[1]["post_action"] == "keep"
    assert saved[1]["parameters"] == {"fallback_pn": "PN-FALLBACK"}
    gui.until(
        lambda: any(c["name"] == "line2" for c in gui.station.status()["converters"]),
        10,
        "the worker to watch it",
    )
    assert [row[0] for row in page.item_texts()] == ["line1", "line2"]


def test_the_same_folder_for_two_converters_is_refused(
    gui: Gui, page: ConvertersPage, tmp_path: Path
) -> None:
    editor = open_editor(gui, page)
    editor.name.setText("line2")
    editor.watch.set_text(str(tmp_path / "in1"))
    gui.until(lambda: editor.watch.check is not None, 10, "the folder check")
    assert not editor.watch.valid
    assert editor.watch.error.text().startswith(
        "This folder is already watched by converter “line1”. Each converter needs its own folder"
    )
    editor.save()
    gui.settle()
    assert editor.isVisible()
    assert len(converters_saved(gui)) == 1
    # Its Done folder is refused too: processed files would be converted again.
    editor.watch.set_text(str(tmp_path / "in1" / "Done"))
    gui.until(lambda: editor.watch.check is not None, 10, "the folder check")
    assert "Done folder of converter “line1”" in editor.watch.error.text()


def test_a_folder_that_is_not_writable_is_refused(
    gui: Gui, page: ConvertersPage, read_only_folder: Path
) -> None:
    editor = open_editor(gui, page)
    editor.name.setText("line2")
    editor.watch.set_text(str(read_only_folder))
    gui.until(lambda: editor.watch.check is not None, 10, "the folder check")
    assert not editor.watch.valid
    assert editor.watch.error.text().startswith("WATS Station cannot write in this folder")
    assert "Choose another folder or ask for write permission" in editor.watch.error.text()


def test_a_duplicate_name_and_a_relative_path_are_refused(gui: Gui, page: ConvertersPage) -> None:
    editor = open_editor(gui, page)
    editor.name.setText("LINE1")
    editor.watch.set_text("relative/folder")
    gui.until(lambda: editor.watch.check is not None, 10, "the folder check")
    assert editor.watch.error.text().startswith("Enter the full path of the folder")
    editor.save()
    gui.settle()
    assert (
        editor.name_error.text()
        == "Another converter is already called “LINE1”. Choose another name."
    )


def test_disable_enable_and_remove(gui: Gui, page: ConvertersPage) -> None:
    page.select("line1")
    assert page.toggle_button.text() == "Disable"
    page.toggle_selected()
    gui.until(lambda: converters_saved(gui)[0]["enabled"] is False, 10, "disabled")
    gui.until(lambda: page.item_texts()[0][3] == "Disabled", 10, "the table to say so")
    page.select("line1")
    assert page.toggle_button.text() == "Enable"
    page.toggle_selected()
    gui.until(lambda: converters_saved(gui)[0]["enabled"] is True, 10, "enabled again")
    page.remove(0)
    gui.until(lambda: converters_saved(gui) == [], 10, "removed")
    gui.until(lambda: page.item_texts() == [], 10, "the table to empty")


def test_test_on_a_file_shows_the_step_tree_or_the_error(
    gui: Gui, page: ConvertersPage, tmp_path: Path
) -> None:
    dialog = ConverterTestDialog(gui.context, "wsjf", {}, "active")
    gui.show(dialog)
    dialog.path.setText(str(sample_path("wsjf-uut-minimal.json")))
    dialog.run_test()
    gui.until(lambda: dialog.outcome is not None, 30, "the conversion")
    assert dialog.summary_line.text() == "1 report from this file"
    first = dialog.reports.topLevelItem(0)
    assert first is not None
    assert first.text(2) == "FATTest-299"
    assert first.text(3) == "Failed"
    assert dialog.tree.step_count > 5
    assert dialog.tree.failing_item is not None

    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "T", "pn": ')
    dialog.path.setText(str(bad))
    dialog.run_test()
    gui.until(dialog.message_bar.isVisible, 30, "the conversion error")
    assert dialog.message_bar.text.text().startswith("This file cannot be converted")
    assert dialog.reports.topLevelItemCount() == 0


def test_the_editor_tests_with_the_settings_being_edited(gui: Gui, page: ConvertersPage) -> None:
    editor = open_editor(gui, page, 0)
    editor.mode.setCurrentIndex(editor.mode.findData("import"))
    editor.test_on_file()
    dialog = editor.test_dialog
    gui.qtbot.addWidget(dialog)
    assert dialog.mode == "import"
    assert dialog.converter == "wsjf"
    dialog.path.setText(str(sample_path("wsjf-uut-minimal.json")))
    dialog.run_test()
    gui.until(lambda: dialog.outcome is not None, 30, "the conversion")
    assert dialog.outcome["ok"]  # type: ignore[index]
