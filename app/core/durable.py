"""Making file-system changes survive a power cut (DESIGN.md §3 "Durability").

Writing and fsyncing a file makes its bytes durable, but a create, rename or delete is a
change to the folder, which needs its own fsync on POSIX. Windows has no directory handles
for that (NTFS journals metadata itself), so there it is a no-op.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a create, rename or delete in `folder` durable."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush an already written file's bytes to the disk."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


__all__ = ["fsync_dir", "fsync_file"]
