"""PyInstaller runtime hook: programs this executable starts get the system's library path.

On Linux the one-file bootloader points LD_LIBRARY_PATH at its unpack folder so the bundled
libraries are found. That is right for this process and wrong for the system programs it
runs (systemctl, loginctl, xdg-open, ...): they would load the bundled OpenSSL, GLib and
friends instead of their own. The dynamic loader read the variable when this process
started, so restoring the user's value (kept in LD_LIBRARY_PATH_ORIG) now changes nothing
here and everything for the children. Children that are this executable (the worker, a
converter process) get the bundle's path again from their own bootloader.
"""

import os
import sys


def _restore_library_path() -> None:
    if not sys.platform.startswith("linux") or not getattr(sys, "frozen", False):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


_restore_library_path()
