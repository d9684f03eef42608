"""Writing and removing the registration's files (atomic, with their mode)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from app.core.durable import fsync_dir
from app.service.registration.model import FileArtefact, RequiredFolder


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def is_current(artefact: FileArtefact) -> bool:
    """The file exists with exactly the planned content and mode."""
    try:
        info = artefact.path.stat()
    except FileNotFoundError:
        return False
    return stat.S_IMODE(info.st_mode) == artefact.mode and read(artefact.path) == artefact.content


def write(artefact: FileArtefact) -> bool:
    """Write the file unless it is already current; True if it was (re)written.

    Temp file, fsync, rename, fsync the folder: a crash never leaves half a unit file for the
    service manager, nor loses the rename.
    """
    if is_current(artefact):
        return False
    folder = artefact.path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{artefact.path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(artefact.content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, artefact.mode)
        os.replace(temp, artefact.path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_dir(folder)
    return True


def remove(artefact: FileArtefact) -> bool:
    """Delete the file; True if it existed."""
    try:
        artefact.path.unlink()
    except FileNotFoundError:
        return False
    return True


def ensure_folder(folder: RequiredFolder, *, may_chown: bool) -> bool:
    """Create the folder (and missing parents); True if anything was created. Folders created
    for another user are given to that user, so the worker can write its logs there."""
    missing: list[Path] = []
    current = folder.path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    if not missing:
        return False
    folder.path.mkdir(parents=True, exist_ok=True)
    if folder.owner and may_chown:
        for created in reversed(missing):
            shutil.chown(created, user=folder.owner)
    return True
