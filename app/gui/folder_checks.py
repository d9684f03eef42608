"""Is a folder usable as a watch, Done or Error folder? Plain words on what to do if not.

Blocking file-system calls (a dead network share can hang for many seconds), so the GUI runs
these on a helper thread (async_ops.in_thread), never on the UI thread.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FolderCheck:
    ok: bool
    message: str = ""
    missing: bool = False  # the folder could be created with "Create folder"


def same_folder(a: str | Path, b: str | Path) -> bool:
    """Equal after normalising (case-insensitively on Windows); no disk access."""
    return os.path.normcase(os.path.normpath(str(a))) == os.path.normcase(os.path.normpath(str(b)))


def check_folder(
    text: str, *, required: bool = True, what: str = "watch folder", missing_ok: bool = False
) -> FolderCheck:
    """Exists, is a folder, and this program may create and delete files in it.

    `missing_ok`: a folder the worker creates when it first needs it (Done, Error).
    """
    raw = text.strip()
    if not raw:
        if required:
            return FolderCheck(False, f"Choose a {what} (Browse…).")
        return FolderCheck(True)
    path = Path(raw).expanduser()
    if not path.is_absolute():
        example = r"C:\TestData\Line1" if os.name == "nt" else "/srv/testdata/line1"
        return FolderCheck(False, f"Enter the full path of the folder, e.g. {example}.")
    try:
        if not path.exists():
            if missing_ok:
                return FolderCheck(True)
            return FolderCheck(
                False,
                "This folder does not exist. Click “Create folder” or choose an existing one.",
                missing=True,
            )
        if not path.is_dir():
            return FolderCheck(False, "This is a file, not a folder. Choose a folder.")
    except OSError as exc:
        return FolderCheck(False, f"This folder cannot be reached ({exc.strerror or exc}).")
    if not _writable(path):
        return FolderCheck(
            False,
            "WATS Station cannot write in this folder (it moves processed files out of it). "
            "Choose another folder or ask for write permission.",
        )
    return FolderCheck(True)


def _writable(folder: Path) -> bool:
    # os.access() says yes for root and ignores Windows ACLs and share permissions: only a
    # real file tells the truth.
    try:
        handle, name = tempfile.mkstemp(prefix=".wats-station-probe-", dir=folder)
    except OSError:
        return False
    os.close(handle)
    try:
        os.unlink(name)
    except OSError:
        return False
    return True


def create_folder(text: str) -> FolderCheck:
    try:
        Path(text.strip()).expanduser().mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return FolderCheck(False, f"The folder cannot be created: {exc.strerror or exc}.")
    return check_folder(text)
