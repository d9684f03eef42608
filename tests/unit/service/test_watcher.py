"""Which files a converter picks up, folder scans, and the watchdog observer (real folders)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.service.watcher import FileFilter, FolderWatcher, folder_identity, scan_folder
from tests.fixtures.waiting import eventually


async def wait_for(condition: Callable[[], bool]) -> None:
    await eventually(condition, timeout=5.0)


def make_filter(folder: Path, *, patterns: tuple[str, ...] = ("*.json",), recursive=False):
    return FileFilter(
        folder=folder,
        patterns=patterns,
        recursive=recursive,
        excluded_dirs=(folder / "Done", folder / "Error"),
    )


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("result.json", True),
        ("RESULT.JSON", True),
        ("unit 42 – résultat ✓.json", True),
        ("result.xml", False),
        ("result.json.error.txt", False),
        ("~$result.json", False),
        (".result.json", False),
        ("result.json.tmp", False),
        ("result.tmp", False),
    ],
)
def test_filter_names(tmp_path: Path, name: str, accepted: bool) -> None:
    assert make_filter(tmp_path).accepts(tmp_path / name) is accepted


def test_filter_never_takes_done_or_error_even_when_recursive(tmp_path: Path) -> None:
    flat = make_filter(tmp_path)
    deep = make_filter(tmp_path, recursive=True)
    assert not flat.accepts(tmp_path / "Done" / "a.json")
    assert not deep.accepts(tmp_path / "Done" / "a.json")
    assert not deep.accepts(tmp_path / "Error" / "sub" / "a.json")
    assert not deep.accepts(tmp_path / ".hidden" / "a.json")
    assert deep.accepts(tmp_path / "line 2" / "a.json")
    assert not flat.accepts(tmp_path / "line 2" / "a.json")
    assert not deep.accepts(tmp_path.parent / "a.json")


def test_star_pattern_takes_everything_but_temp_files(tmp_path: Path) -> None:
    everything = make_filter(tmp_path, patterns=("*",))
    assert everything.accepts(tmp_path / "log.dat")
    assert not everything.accepts(tmp_path / "log.dat.error.txt")


def test_scan_finds_candidates_only(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "c.xml", "a.json.error.txt", "~$x.json"):
        (tmp_path / name).write_text("{}")
    for sub in ("Done", "Error", "line 2"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "inner.json").write_text("{}")
    flat = {p.name for p in scan_folder(make_filter(tmp_path))}
    deep = {
        p.relative_to(tmp_path).as_posix()
        for p in scan_folder(make_filter(tmp_path, recursive=True))
    }
    assert flat == {"a.json", "b.json"}
    assert deep == {"a.json", "b.json", "line 2/inner.json"}


def test_scan_of_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        scan_folder(make_filter(tmp_path / "gone"))


def test_folder_identity_changes_when_recreated(tmp_path: Path) -> None:
    folder = tmp_path / "watch"
    folder.mkdir()
    (folder / "keep-inode-busy").write_text("x")  # so the new folder cannot reuse the inode
    first = folder_identity(folder)
    moved = tmp_path / "old"
    folder.rename(moved)
    assert folder_identity(folder) is None
    folder.mkdir()
    assert folder_identity(folder) not in (None, first)


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
async def test_watcher_reports_new_files_on_the_loop(tmp_path: Path, polling: bool) -> None:
    seen: list[tuple[Path | None, bool]] = []
    loop = asyncio.get_running_loop()
    watcher = FolderWatcher(
        make_filter(tmp_path),
        lambda path, closed: seen.append((path, closed)),
        loop,
        polling=polling,
        polling_interval_s=0.1,
    )
    watcher.start()
    try:
        (tmp_path / "ignored.xml").write_text("x")
        (tmp_path / "Done").mkdir()
        (tmp_path / "Done" / "old.json").write_text("{}")
        (tmp_path / "new result.json").write_text("{}")
        await wait_for(lambda: any(p == tmp_path / "new result.json" for p, _ in seen))
        if sys.platform.startswith("linux") and not polling:
            # inotify's close-after-write lets the settle step skip its wait.
            await wait_for(lambda: (tmp_path / "new result.json", True) in seen)
        assert {p.name for p, _ in seen if p is not None} == {"new result.json"}
    finally:
        watcher.stop()
    assert not watcher.running


@pytest.mark.parametrize("recursive", [False, True], ids=["flat", "recursive"])
async def test_renames_into_and_within_the_folder_are_reported(
    tmp_path: Path, recursive: bool
) -> None:
    folder = tmp_path / "watch"
    folder.mkdir()
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    seen: list[Path | None] = []
    loop = asyncio.get_running_loop()
    watcher = FolderWatcher(
        make_filter(folder, recursive=recursive), lambda p, c: seen.append(p), loop
    )
    watcher.start()
    try:
        (folder / "a.json.tmp").write_text("{}")
        (folder / "a.json.tmp").rename(folder / "a.json")  # a tester's atomic save
        outside.rename(folder / "b.json")  # moved in from elsewhere
        (folder / "a.json").rename(folder / "c.json")  # renamed in place
        await wait_for(lambda: {folder / n for n in ("a.json", "b.json", "c.json")} <= set(seen))
    finally:
        watcher.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_flat_watch_leaves_out_the_move_halves_watchdog_would_hold_back(tmp_path: Path) -> None:
    from watchdog.observers.inotify_c import InotifyConstants

    loop = asyncio.new_event_loop()
    masks = {}
    try:
        for recursive in (False, True):
            watcher = FolderWatcher(make_filter(tmp_path, recursive=recursive), print, loop)
            watcher.start()
            try:
                assert watcher._observer is not None
                (emitter,) = watcher._observer.emitters
                masks[recursive] = emitter.get_event_mask_from_filter()
            finally:
                watcher.stop()
    finally:
        loop.close()
    moved_from = InotifyConstants.IN_MOVED_FROM
    arrive = (
        InotifyConstants.IN_CREATE | InotifyConstants.IN_MOVED_TO | InotifyConstants.IN_CLOSE_WRITE
    )
    assert not masks[False] & moved_from
    assert masks[False] & arrive == arrive
    assert masks[False] & InotifyConstants.IN_DELETE_SELF  # the folder going away
    assert masks[True] & moved_from  # watchdog follows renamed subfolders with both halves


async def test_watcher_is_not_current_after_folder_recreated(tmp_path: Path) -> None:
    folder = tmp_path / "watch"
    folder.mkdir()
    (folder / "pin").write_text("x")
    loop = asyncio.get_running_loop()
    watcher = FolderWatcher(make_filter(folder), lambda p, c: None, loop)
    watcher.start()
    try:
        assert watcher.is_current()
        shutil.rmtree(folder)
        assert not watcher.is_current()
        (tmp_path / "other").mkdir()  # takes the old inode number if the FS reuses it early
        folder.mkdir()
        # Even with a reused inode number, the deleted folder's watch has ended (inotify tells
        # the emitter thread; give it a moment).
        await wait_for(lambda: not watcher.is_current())
    finally:
        watcher.stop()


def test_watcher_refuses_missing_folder(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        watcher = FolderWatcher(make_filter(tmp_path / "nope"), lambda p, c: None, loop)
        with pytest.raises(FileNotFoundError):
            watcher.start()
        assert not watcher.running
    finally:
        loop.close()
