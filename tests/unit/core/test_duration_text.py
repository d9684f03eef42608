"""duration_text: the words the CLI and the server check use for a span of time."""

from __future__ import annotations

import pytest

from app.core.duration_text import duration_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (7 * 60 + 12, "7 min 12 s"),
        (3600, "1 h"),
        (2 * 3600 + 5 * 60 + 59, "2 h 5 min"),
        (2 * 86400 - 1, "47 h 59 min"),
        (2 * 86400, "2 days"),
        (9 * 86400 + 3600, "9 days"),
        (-5, "0 s"),
    ],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text
