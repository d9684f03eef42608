"""Culture-aware reading of numbers, booleans and dates in tester files.

Testers write numbers the way their PC's regional settings say: `1.5` in the invariant and
English cultures, `1,5` in German, French, Norwegian and Swedish ones, sometimes with digit
grouping (`1 234,5`, `1.234,5`, `1,234.5`). The converter's `culture` parameter says which; a
decimal-comma culture still reads a number written with a point and no comma (`1.5`, `2E-3`),
because machine-written values often ignore the regional settings.

All functions raise ValueError with a short reason; converters turn it into ConversionError
with the line or field it came from.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final

CULTURES: Final = ("invariant", "en-US", "de-DE", "fr-FR", "nb-NO", "sv-SE")
_DECIMAL_COMMA: Final = frozenset({"de-de", "fr-fr", "nb-no", "sv-se", "da-dk", "fi-fi", "nl-nl"})
# Spaces used for digit grouping: space, no-break space, narrow no-break space, thin space.
_GROUP_SPACES: Final = str.maketrans("", "", " \u00a0\u202f\u2009'")
_SPECIAL: Final = {
    "nan": math.nan,
    "+nan": math.nan,
    "-nan": math.nan,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "∞": math.inf,
    "+∞": math.inf,
    "-∞": -math.inf,
    "1.#inf": math.inf,
    "-1.#inf": -math.inf,
    "1.#qnan": math.nan,
    "-1.#ind": math.nan,
}
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_POINT_GROUPS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?(?:[eE][+-]?\d+)?")
_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?")


def uses_decimal_comma(culture: str) -> bool:
    return culture.strip().lower() in _DECIMAL_COMMA


def parse_float(text: str, culture: str = "invariant") -> float:
    """A number as the given culture writes it; NaN and infinities in their usual spellings."""
    raw = text.strip()
    if _PLAIN_NUMBER.fullmatch(raw):
        return float(raw)  # the common case, whatever the culture
    if not raw:
        raise ValueError("empty value where a number was expected")
    special = _SPECIAL.get(raw.lower())
    if special is not None:
        return special
    compact = raw.translate(_GROUP_SPACES)
    if uses_decimal_comma(culture):
        if "," in compact:
            if "." in compact and not _POINT_GROUPS.fullmatch(compact):
                raise ValueError(f"{raw!r} is not a number in culture {culture}")
            compact = compact.replace(".", "").replace(",", ".")
    elif "," in compact:
        if not _COMMA_GROUPS.fullmatch(compact):
            raise ValueError(
                f"{raw!r} is not a number in culture {culture} (a decimal comma needs the "
                "converter's culture parameter set, e.g. de-DE)"
            )
        compact = compact.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(compact):
        raise ValueError(f"{raw!r} is not a number")
    value = float(compact)
    return value


def parse_int(text: str, culture: str = "invariant") -> int:
    """A whole number; `3.0` is accepted, `3.5` is not."""
    value = parse_float(text, culture)
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{text.strip()!r} is not a whole number")
    return int(value)


_TRUE: Final = frozenset({"true", "1", "yes", "y", "passed", "pass", "p", "ok", "-1"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "failed", "fail", "f"})


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{text.strip()!r} is not true or false")


# ---------------------------------------------------------------- dates

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:[.,](?P<f>\d*))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_TIME = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:[.,](?P<f>\d+))?\s*(?P<ampm>[AaPp][Mm])?"
_DMY_DOT = re.compile(r"(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{2,4})(?:\s+" + _TIME + r")?")
_SLASH = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{2,4})(?:\s+" + _TIME + r")?")
_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "januar", "janv", "january"),
            ("feb", "febr", "février", "fevrier", "february", "februar"),
            ("mar", "mär", "mars", "march", "märz", "maerz"),
            ("apr", "avr", "april", "avril"),
            ("may", "mai", "maj"),
            ("jun", "juin", "june", "juni"),
            ("jul", "juil", "july", "juli"),
            ("aug", "août", "aout", "august"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "okt", "october", "oktober", "octobre"),
            ("nov", "november", "novembre"),
            ("dec", "dez", "des", "december", "dezember", "décembre", "desember"),
        ),
        start=1,
    )
    for name in names
}
# 26-FEB-16  14:10:50 (Teradyne), 26-Feb-2016 14:10:50
_DMONY = re.compile(
    r"(?P<d>\d{1,2})[- ](?P<mon>[^\W\d_]{3,9})\.?[- ](?P<y>\d{2,4})(?:\s+" + _TIME + r")?"
)


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _fraction(text: str | None) -> int:
    if not text:
        return 0
    return int((text + "000000")[:6])


def _build(
    year: int, month: int, day: int, match: re.Match[str], tz: tzinfo | None = None
) -> datetime:
    """The datetime of a date plus the optional time groups h, mi, s, f (and ampm) of `match`."""
    groups = match.groupdict()
    hour = int(groups["h"]) if groups.get("h") else 0
    ampm = groups.get("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM")
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    return datetime(
        year,
        month,
        day,
        hour,
        int(groups["mi"]) if groups.get("mi") else 0,
        int(groups["s"]) if groups.get("s") else 0,
        _fraction(groups.get("f")),
        tzinfo=tz,
    )


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(sign * offset)


def parse_datetime(text: str, culture: str = "invariant") -> datetime:
    """A date and time; aware when the text has a zone, naive (tester-local) otherwise.

    Reads ISO 8601 (with `T` or a space, fractions of any length, `Z` or an offset, also the
    odd `...00.Z`), the culture's short form (`dd.MM.yyyy HH:mm:ss` for de-DE and nb-NO,
    `M/d/yyyy h:mm:ss tt` for en-US, `dd/MM/yyyy` for fr-FR) and `dd-MMM-yy HH:mm:ss`.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty value where a date was expected")
    if len(raw) >= 19 and raw[4] == "-" and raw[10] in "T ":
        try:
            return datetime.fromisoformat(raw)  # the common case, in C
        except ValueError:
            pass  # odd fraction lengths, ".Z", …: the patterns below read those
    try:
        match = _ISO.fullmatch(raw)
        if match:
            return _build(
                int(match["y"]), int(match["mo"]), int(match["d"]), match, _zone(match["tz"])
            )
        match = _DMY_DOT.fullmatch(raw)
        if match:
            return _build(_year(match["y"]), int(match["mo"]), int(match["d"]), match)
        match = _SLASH.fullmatch(raw)
        if match:
            first, second = int(match["a"]), int(match["b"])
            # en-US and the invariant culture write month first; the others day first.
            month_first = culture.strip().lower() in ("invariant", "en-us", "")
            month, day = (first, second) if month_first else (second, first)
            return _build(_year(match["y"]), month, day, match)
        match = _DMONY.fullmatch(raw)
        if match:
            month_number = _MONTHS.get(match["mon"].lower())
            if month_number is None:
                raise ValueError(f"unknown month {match['mon']!r}")
            return _build(_year(match["y"]), month_number, int(match["d"]), match)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{raw!r} is not a valid date ({exc})") from None
    raise ValueError(f"{raw!r} is not a date in a known format")
