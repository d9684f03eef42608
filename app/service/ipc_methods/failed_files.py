"""Finding a failed source file in its Error folder, and putting it back to be converted again.

A file that failed is moved to the converter's Error folder with a `<name>.error.txt` sidecar
(app.service.post_actions). The queue's source-files table remembers the failure by the
file's original path and sha256. In the Error folder the file may carry a ` (2)`-style
suffix when a file of the same name failed before, so it is recognised by its content.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

from app.service.post_actions import clash_free_name
from app.service.watcher import ERROR_SIDECAR_SUFFIX

_HASH_CACHE_LIMIT = 10_000
_NO_LINK_ERRNOS = (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP)
_ERROR_NOT_SAME_DEVICE = 17  # Windows: os.rename across drives


class RetryError(Exception):
    """The file cannot be put back; `str()` says why in plain words."""


class HashCache:
    """sha256 of files, remembered while their size and modification time are unchanged."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def sha256(self, path: Path) -> str | None:
        try:
            info = path.stat()
        except OSError:
            return None
        key = (str(path), info.st_size, info.st_mtime_ns)
        digest = self._known.get(key)
        if digest is None:
            try:
                digest = _sha256(path)
            except OSError:
                return None
            if len(self._known) >= _HASH_CACHE_LIMIT:
                self._known.clear()
            self._known[key] = digest
        return digest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def candidate_names(folder: Path, name: str) -> list[Path]:
    """`name` and its clash-free variants (`stem (2).ext`, …) present in `folder`."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    variant = re.compile(re.escape(stem) + r" \((\d+)\)" + re.escape(dot + suffix) + r"\Z")
    found: list[tuple[int, Path]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if entry.name.endswith(ERROR_SIDECAR_SUFFIX) or not entry.is_file():
            continue
        if entry.name == name:
            found.append((1, Path(entry.path)))
        else:
            match = variant.match(entry.name)
            if match:
                found.append((int(match.group(1)), Path(entry.path)))
    return [path for _, path in sorted(found)]


def find_error_file(
    error_folder: Path, original_path: str, sha256: str, hashes: HashCache
) -> Path | None:
    """The failed file in `error_folder`: the candidate whose content has `sha256`."""
    for candidate in candidate_names(error_folder, Path(original_path).name):
        if not sha256 or hashes.sha256(candidate) == sha256.lower():
            return candidate
    return None


def move_back(error_file: Path, folder: Path, name: str) -> Path:
    """Move `error_file` into `folder` as `name` (or a clash-free variant), never overwriting
    anything, and delete its `.error.txt` sidecar. Returns the new path."""
    if not folder.is_dir():
        raise RetryError(f"the watch folder {folder} does not exist or cannot be reached")
    for _attempt in range(3):
        target = clash_free_name(folder, name)
        try:
            _move_no_clobber(error_file, target)
        except FileExistsError:
            continue  # someone created that name in between: take the next one
        except OSError as exc:
            raise RetryError(
                f"cannot move {error_file.name} back to {folder}: {_reason(exc)}"
            ) from None
        break
    else:
        raise RetryError(f"cannot find a free name for {name} in {folder}")
    sidecar = error_file.with_name(error_file.name + ERROR_SIDECAR_SUFFIX)
    # The file is back; a note left over in the Error folder (locked, read-only) harms nothing.
    with contextlib.suppress(OSError):
        sidecar.unlink()
    return target


def _move_no_clobber(source: Path, target: Path) -> None:
    try:
        if sys.platform == "win32":
            os.rename(source, target)  # refuses to replace an existing file on Windows
            return
        os.link(source, target)  # fails with EEXIST instead of replacing: an atomic check
    except FileExistsError:
        raise
    except OSError as exc:
        other_drive = getattr(exc, "winerror", None) == _ERROR_NOT_SAME_DEVICE
        if not other_drive and exc.errno not in _NO_LINK_ERRNOS:
            raise
        # Another drive, or no hard links (FAT, some shares): copy, then remove the source.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(target)) from None
        shutil.copy2(source, target)
    os.unlink(source)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or str(exc)


def return_folder(original_path: str, watch_folder: Path) -> Path:
    """Where a retried file goes: its original folder if that still exists inside the watch
    folder (recursive watching), else the watch folder itself."""
    parent = Path(original_path).parent
    try:
        inside = parent == watch_folder or parent.is_relative_to(watch_folder)
    except ValueError:
        inside = False
    return parent if inside and parent.is_dir() else watch_folder


def restore(error_file: Path, original_path: str, watch_folder: Path) -> Path:
    """Put a failed file back where the pipeline picks it up; returns its new path."""
    return move_back(
        error_file, return_folder(original_path, watch_folder), Path(original_path).name
    )
