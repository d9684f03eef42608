"""The script PyInstaller freezes: the executable's one entry point (app/__main__.py).

A separate file so the analysis path is the repository root, not app/ (which would make the
app's sub-packages importable as top-level modules inside the bundle).
"""

import sys

from app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
