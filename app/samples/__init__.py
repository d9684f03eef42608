"""The project's own copies of the shared WATS sample files (demo, selftest, tests)."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


def sample_path(name: str) -> Path:
    """Path of a bundled sample file, e.g. sample_path("wsjf-uut-minimal.json")."""
    path = SAMPLES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"no bundled sample named {name!r} in {SAMPLES_DIR}")
    return path
