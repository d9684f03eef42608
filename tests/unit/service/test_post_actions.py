"""Post-actions on real files: never overwrite, never lose a file, crash-safe zip appends."""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.service import post_actions
from app.service.post_actions import (
    FailureDetails,
    PostActionError,
    archive_to_zip,
    clash_free_name,
    delete_file,
    move_to_error,
    move_to_folder,
    run_post_action,
    zip_path_for,
)

DAY = date(2026, 11, 22)


@contextmanager
def read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A folder nobody may write to. Root ignores permission bits, so it is simulated too."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = post_actions._move_no_clobber

        def refuse(source: Path, target: Path) -> None:
            if target.parent == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(target))
            real(source, target)

        monkeypatch.setattr(post_actions, "_move_no_clobber", refuse)
    try:
        yield
    finally:
        folder.chmod(0o755)
        monkeypatch.undo()


def test_move_to_done(tmp_path: Path) -> None:
    source = tmp_path / "unit 7 – résumé.json"
    source.write_text("one")
    target = move_to_folder(source, tmp_path / "Done")
    assert target == tmp_path / "Done" / "unit 7 – résumé.json"
    assert target.read_text() == "one"
    assert not source.exists()


def test_name_clashes_get_a_number_and_nothing_is_overwritten(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    for index, content in enumerate(["first", "second", "third"]):
        source = tmp_path / "r.json"
        source.write_text(content)
        move_to_folder(source, done)
        assert len(list(done.iterdir())) == index + 1
    assert (done / "r.json").read_text() == "first"
    assert (done / "r (2).json").read_text() == "second"
    assert (done / "r (3).json").read_text() == "third"


def test_clash_free_name_without_suffix(tmp_path: Path) -> None:
    (tmp_path / "LOG").write_text("x")
    assert clash_free_name(tmp_path, "LOG") == tmp_path / "LOG (2)"
    assert clash_free_name(tmp_path, "new.json") == tmp_path / "new.json"


def test_move_across_file_systems_copies_then_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(post_actions.os, "link", no_links)
    monkeypatch.setattr(post_actions.os, "rename", no_links)
    source = tmp_path / "r.json"
    source.write_text("data")
    (tmp_path / "Done").mkdir()
    (tmp_path / "Done" / "r.json").write_text("older")
    target = move_to_folder(source, tmp_path / "Done")
    assert target.name == "r (2).json"
    assert target.read_text() == "data"
    assert (tmp_path / "Done" / "r.json").read_text() == "older"
    assert not source.exists()


def test_read_only_done_folder_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "r.json"
    source.write_text("data")
    done = tmp_path / "Done"
    with read_only(done, monkeypatch), pytest.raises(PostActionError, match="permission denied"):
        move_to_folder(source, done)
    assert source.read_text() == "data"
    assert list(done.iterdir()) == []


def test_delete(tmp_path: Path) -> None:
    source = tmp_path / "r.json"
    source.write_text("x")
    delete_file(source)
    assert not source.exists()
    delete_file(source)  # already gone: fine


def test_zip_appends_to_the_dated_archive(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    first, second, third = (tmp_path / n for n in ("a.json", "b.json", "dir-a.json"))
    first.write_text("A1")
    second.write_text("B")
    archive = archive_to_zip([first, second], done, DAY)
    assert archive == done / "2026-11-22.zip" == zip_path_for(done, DAY)
    first.write_text("A2")  # the tester writes a file of the same name again
    third.write_text("C")
    archive_to_zip([first, third], done, DAY)
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.testzip() is None
        contents = {name: bundle.read(name).decode() for name in bundle.namelist()}
    assert contents == {"a.json": "A1", "b.json": "B", "a (2).json": "A2", "dir-a.json": "C"}
    assert not any(p.exists() for p in (first, second, third))
    assert not archive.with_name(archive.name + ".journal").exists()


def test_interrupted_zip_append_is_undone(tmp_path: Path) -> None:
    """A crash half-way through an append: the journal restores the old archive."""
    done = tmp_path / "Done"
    old = tmp_path / "old.json"
    old.write_text("kept safe")
    archive = archive_to_zip([old], done, DAY)
    with zipfile.ZipFile(archive) as bundle:
        offset = bundle.start_dir
    journal = post_actions._ZipJournal(archive)
    journal.save(offset)
    with open(archive, "r+b") as handle:  # the append started overwriting the directory
        handle.seek(offset)
        handle.write(b"PK\x03\x04 half a local header and garbage" * 100)
    new = tmp_path / "new.json"
    new.write_text("fresh")
    archive_to_zip([new], done, DAY)
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.testzip() is None
        assert {n: bundle.read(n).decode() for n in bundle.namelist()} == {
            "old.json": "kept safe",
            "new.json": "fresh",
        }


def test_damaged_archive_keeps_the_source(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    done.mkdir()
    zip_path_for(done, DAY).write_bytes(b"not a zip at all")
    source = tmp_path / "r.json"
    source.write_text("x")
    with pytest.raises(PostActionError, match="damaged"):
        archive_to_zip([source], done, DAY)
    assert source.exists()


def test_error_folder_gets_file_and_sidecar(tmp_path: Path) -> None:
    source = tmp_path / "bad file.json"
    source.write_text("{oops")
    details = FailureDetails(
        converter="wsjf",
        converter_version="1.0",
        message="not valid JSON: key must be a string",
        line=1,
        when=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    )
    target = move_to_error(source, tmp_path / "Error", details)
    sidecar = tmp_path / "Error" / "bad file.json.error.txt"
    assert target.read_text() == "{oops"
    text = sidecar.read_text(encoding="utf-8")
    assert "Converter: wsjf 1.0" in text
    assert "Line:      1" in text
    assert "2026-11-22T10:00:00+00:00" in text
    assert "not valid JSON: key must be a string" in text
    # The same name failing again keeps both, each with its own sidecar.
    source.write_text("{again")
    second = move_to_error(source, tmp_path / "Error", details)
    assert second.name == "bad file (2).json"
    assert (tmp_path / "Error" / "bad file (2).json.error.txt").exists()


def test_run_post_action_dispatch(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    kept = tmp_path / "k.json"
    kept.write_text("k")
    assert run_post_action("keep", kept, done, DAY) == kept
    assert kept.exists()
    moved = run_post_action("move", kept, done, DAY)
    assert moved == done / "k.json"
    assert moved is not None
    assert run_post_action("delete", moved, done, DAY) is None
    assert not moved.exists()
    with pytest.raises(PostActionError):
        run_post_action("shred", kept, done, DAY)  # type: ignore[arg-type]
