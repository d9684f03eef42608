"""What happens to a source file after its reports are safely in the queue, or after it failed.

These are blocking file operations: the pipeline runs them in a worker thread. None of them
ever overwrites or loses a file. If an operation fails (read-only Done folder, disk full,
file locked) it raises `PostActionError` and leaves the source file where it was; the next
scan finds the file again, its reports are already queued (insert-or-ignore by id), and the
post-action is simply retried.

- move (default): into the Done folder; a name clash gets ` (2)`, ` (3)` … before the suffix.
- delete: remove the file.
- zip: append to a dated archive in the Done folder (`Done/2026-11-22.zip`), fsynced before
  the source file is deleted. An undo journal makes the append crash-safe (see `_ZipJournal`).
- keep: leave the file; the queue's source-files table remembers its sha256 so it is not
  converted again (that part lives in the pipeline, which owns the queue).
- failed files go to the Error folder with a `<name>.error.txt` sidecar saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import struct
import sys
import threading
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from app.core.durable import fsync_dir, fsync_file
from app.service.watcher import ERROR_SIDECAR_SUFFIX

PostAction = Literal["move", "delete", "zip", "keep"]
MAX_CLASH_SUFFIX = 10_000


class PostActionError(Exception):
    """The post-action did not happen; the source file is untouched. `str()` is plain words."""


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (is the folder read-only?)"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or str(exc)


def clash_free_name(folder: Path, name: str, taken: set[str] | None = None) -> Path:
    """`folder/name`, or `folder/stem (2).ext`, `(3)` … — the first that does not exist."""
    candidate = folder / name
    taken = taken or set()
    if not candidate.exists() and name not in taken:
        return candidate
    stem, dot, suffix = _split(name)
    for number in range(2, MAX_CLASH_SUFFIX):
        alternative = f"{stem} ({number}){dot}{suffix}"
        candidate = folder / alternative
        if not candidate.exists() and alternative not in taken:
            return candidate
    raise PostActionError(f"too many files named {name} in {folder}")


def _split(name: str) -> tuple[str, str, str]:
    """("report", ".", "json") for "report.json"; ("README", "", "") without a suffix."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot, suffix) if stem else (name, "", "")


def _move_no_clobber(source: Path, target: Path) -> None:
    """Rename `source` to `target`, failing instead of overwriting an existing target."""
    try:
        if sys.platform == "win32":
            os.rename(source, target)  # refuses to replace an existing file on Windows
        else:
            # link() fails with EEXIST instead of replacing: the no-overwrite check is atomic.
            os.link(source, target)
            os.unlink(source)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        if not source.exists():
            raise
    # Another drive, or a file system without hard links (FAT, some shares): copy, make the
    # copy durable, then remove the source. The target name was free just before and only
    # this worker writes into the folder.
    if target.exists():
        raise FileExistsError(errno.EEXIST, "file exists", str(target))
    shutil.copy2(source, target)
    fsync_file(target)
    os.unlink(source)


def move_to_folder(source: Path, folder: Path) -> Path:
    """Move `source` into `folder` under a clash-free name; return where it went."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PostActionError(f"cannot create the folder {folder}: {_reason(exc)}") from exc
    for _attempt in range(3):
        target = clash_free_name(folder, source.name)
        try:
            _move_no_clobber(source, target)
            return target
        except FileExistsError:
            continue  # someone created that name in between: pick the next one
        except OSError as exc:
            raise PostActionError(f"cannot move {source.name} to {folder}: {_reason(exc)}") from exc
    raise PostActionError(f"cannot find a free name for {source.name} in {folder}")


def delete_file(source: Path) -> None:
    try:
        source.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise PostActionError(f"cannot delete {source.name}: {_reason(exc)}") from exc


def zip_path_for(folder: Path, day: date) -> Path:
    return folder / f"{day.isoformat()}.zip"


class _ZipJournal:
    """Undo log for appending to a zip archive in place.

    Appending rewrites the archive's central directory (its table of contents, at the end).
    A crash half-way would leave an archive whose old entries no tool can list. So before
    appending, the tail from the start of the central directory to the end of the file is
    saved, with its offset, to `<zip>.journal` and fsynced; after the append is fsynced the
    journal is deleted. Finding a journal means an append was interrupted: the archive is cut
    back to the offset and the saved tail written back, which is exactly the old archive.
    """

    _HEADER = struct.Struct("<Q")

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.path = archive.with_name(archive.name + ".journal")

    def recover(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if len(data) < self._HEADER.size:
            self.path.unlink()  # the journal itself was never completed: nothing was appended
            return
        (offset,) = self._HEADER.unpack_from(data)
        with open(self.archive, "r+b") as handle:
            handle.seek(offset)
            handle.write(data[self._HEADER.size :])
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        self.path.unlink()

    def save(self, offset: int) -> None:
        with open(self.archive, "rb") as handle:
            handle.seek(offset)
            tail = handle.read()
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(self._HEADER.pack(offset) + tail)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        fsync_dir(self.path.parent)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        fsync_dir(self.path.parent)


_archive_locks: dict[Path, threading.Lock] = {}
_archive_locks_guard = threading.Lock()


def _archive_lock(archive: Path) -> threading.Lock:
    """Appends to one archive from several threads must take turns."""
    with _archive_locks_guard:
        return _archive_locks.setdefault(archive, threading.Lock())


def archive_to_zip(sources: list[Path], folder: Path, day: date) -> Path:
    """Append `sources` to the day's archive in `folder`, fsync it, then delete the sources.

    The sources are deleted only after the archive holding them is durable. Names already in
    the archive get ` (2)` … like moved files. Returns the archive's path.
    """
    archive = zip_path_for(folder, day)
    with _archive_lock(archive):
        _append_to_archive(archive, sources, folder)
    for source in sources:
        delete_file(source)
    return archive


def _append_to_archive(archive: Path, sources: list[Path], folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        journal = _ZipJournal(archive)
        journal.recover()
        if archive.exists():
            with zipfile.ZipFile(archive, "r") as existing:
                offset = existing.start_dir
                names = set(existing.namelist())
            journal.save(offset)
        else:
            names = set()
        with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as bundle:
            for source in sources:
                arcname = _free_arcname(source.name, names)
                names.add(arcname)
                bundle.write(source, arcname)
        fsync_file(archive)
        journal.discard()
    except zipfile.BadZipFile as exc:
        raise PostActionError(
            f"the archive {archive.name} is damaged ({exc}); move it away so a new one starts"
        ) from exc
    except OSError as exc:
        _undo_failed_append(archive)
        raise PostActionError(f"cannot add files to {archive}: {_reason(exc)}") from exc


def _undo_failed_append(archive: Path) -> None:
    """After a failed append (disk full), put the archive back as it was, if possible."""
    # If this fails too, the journal stays and the next append recovers it first.
    with contextlib.suppress(OSError):
        _ZipJournal(archive).recover()


def _free_arcname(name: str, names: set[str]) -> str:
    if name not in names:
        return name
    stem, dot, suffix = _split(name)
    for number in range(2, MAX_CLASH_SUFFIX):
        alternative = f"{stem} ({number}){dot}{suffix}"
        if alternative not in names:
            return alternative
    raise PostActionError(f"too many files named {name} in the archive")


@dataclass(frozen=True)
class FailureDetails:
    """What the `<name>.error.txt` sidecar says."""

    converter: str
    converter_version: str
    message: str
    line: int | None = None
    when: datetime | None = None

    def render(self, source_name: str) -> str:
        when = (self.when or datetime.now().astimezone()).isoformat(timespec="seconds")
        lines = [
            f"File:      {source_name}",
            f"Converter: {self.converter} {self.converter_version}".rstrip(),
            f"Time:      {when}",
        ]
        if self.line is not None:
            lines.append(f"Line:      {self.line}")
        lines += ["", self.message, ""]
        return "\n".join(lines)


def move_to_error(source: Path, folder: Path, details: FailureDetails) -> Path:
    """Move a failed file to the Error folder and write its `.error.txt` sidecar beside it."""
    target = move_to_folder(source, folder)
    sidecar = target.with_name(target.name + ERROR_SIDECAR_SUFFIX)
    try:
        temporary = sidecar.with_name(sidecar.name + ".tmp")
        temporary.write_text(details.render(source.name), encoding="utf-8")
        os.replace(temporary, sidecar)
    except OSError as exc:
        # The file itself is safe in the Error folder; say so instead of failing it again.
        raise PostActionError(
            f"{source.name} was moved to {folder}, but the error note could not be written: "
            f"{_reason(exc)}"
        ) from exc
    return target


def run_post_action(action: PostAction, source: Path, done_folder: Path, day: date) -> Path | None:
    """Run one post-action for a committed file; return where the file went (None: gone/kept)."""
    if action == "move":
        return move_to_folder(source, done_folder)
    if action == "delete":
        delete_file(source)
        return None
    if action == "zip":
        return archive_to_zip([source], done_folder, day)
    if action == "keep":
        return source
    raise PostActionError(f"unknown post-action {action!r}")
