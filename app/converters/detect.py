"""Which converter reads a file, when nobody said: file-name patterns, then a content sniff.

1. Every converter whose patterns match the file name (case-insensitive; the catch-all `*`
   says nothing and does not count) is a candidate.
2. Every converter sniffs the first 8 KiB (`Converter.sniff`, a confidence 0..1).
3. The candidate with the highest confidence wins (a lone candidate even at 0), unless it
   is below `WEAK` while another converter is sure of the content (at least `STRONG`):
   content beats a file name, which for `.txt` or `.csv` says little.
4. With no candidate, the most confident sniff wins if it is at least `WEAK`.
5. Otherwise `DetectionError` says what was tried and how to choose a converter by hand.

The reason returned says which rule chose the converter, for the user to check.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from app.converters.base import ConversionError, Converter

HEAD_BYTES: Final = 8192
STRONG: Final = 0.5  # a sniff this sure overrides the file-name candidates that see nothing
WEAK: Final = 0.2  # below this, content alone does not choose a converter


class DetectionError(ConversionError):
    """No converter fits the file; `str()` says what was tried."""


def detect(
    path: Path, converters: Mapping[str, type[Converter]] | Iterable[type[Converter]]
) -> tuple[type[Converter], str]:
    """The converter that should read `path`, and why (one line for the user)."""
    classes = list(converters.values() if isinstance(converters, Mapping) else converters)
    if not classes:
        raise DetectionError("no converters are available")
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise DetectionError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    by_pattern = {cls: pattern for cls in classes if (pattern := matching_pattern(cls, path.name))}
    scores = {cls: sniff_score(cls, head) for cls in classes}

    def best(among: Iterable[type[Converter]]) -> tuple[type[Converter], float] | None:
        ranked = sorted(among, key=lambda cls: scores[cls], reverse=True)
        return (ranked[0], scores[ranked[0]]) if ranked else None

    candidate = best(by_pattern)
    anyone = best(classes)
    assert anyone is not None
    if candidate is not None:
        cls, score = candidate
        # Content beats a file name: a converter sure of the content wins over candidates
        # that barely recognise it (`.txt` and `.csv` fit many formats).
        content_says_other = score < WEAK and anyone[1] >= STRONG and anyone[0] is not cls
        if not content_says_other and (score > 0.0 or len(by_pattern) == 1):
            reason = f"the file name matches {by_pattern[cls]}"
            if score > 0.0:
                reason += f" and the content looks like {cls.name} (confidence {score:.2f})"
            if len(by_pattern) > 1:
                others = ", ".join(sorted(other.name for other in by_pattern if other is not cls))
                reason += f"; also matched by name: {others}"
            return cls, reason
    cls, score = anyone
    if score >= WEAK:
        reason = f"the content looks like {cls.name} (confidence {score:.2f})"
        if by_pattern:
            names = ", ".join(sorted(other.name for other in by_pattern))
            reason += f", although the file name suggests {names}"
        return cls, reason
    known = ", ".join(sorted(cls.name for cls in classes))
    named = (
        "the file name matches " + ", ".join(sorted(other.name for other in by_pattern))
        + " but their content check fails"
        if by_pattern
        else "no converter's file pattern matches its name"
    )  # fmt: skip
    raise DetectionError(
        f"cannot tell which converter reads {path.name}: {named}, and no converter "
        f"recognises its content; choose one by name (known converters: {known})"
    )


def matching_pattern(cls: type[Converter], file_name: str) -> str | None:
    """The first of the converter's patterns (other than `*`) that matches the file name."""
    name = file_name.lower()
    patterns: tuple[str, ...] = tuple(getattr(cls, "patterns", ()))
    for pattern in patterns:
        if pattern.strip() in ("*", "*.*", ""):
            continue
        if fnmatch.fnmatchcase(name, pattern.lower()):
            return pattern
    return None


def sniff_score(cls: type[Converter], head: bytes) -> float:
    """The converter's confidence in `head`, 0..1; a sniff that fails counts as 0."""
    try:
        score = float(cls().sniff(head))
    except Exception:
        return 0.0  # a plug-in's broken sniff must not stop detection
    if math.isnan(score):
        return 0.0
    return min(max(score, 0.0), 1.0)
