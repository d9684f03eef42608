from datetime import UTC, datetime

import httpx
import pytest

from app.wats import parse_retry_after
from app.wats._failures import server_message

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 11:59:00 GMT", 0.0),  # already past: go now
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


def _response(body: bytes, content_type: str = "application/json", status: int = 400):
    return httpx.Response(status, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"message": "pn is missing"}', "pn is missing"),
        (b'{"Message": "The request is invalid."}', "The request is invalid."),
        (b'{"error": "bad id"}', "bad id"),
        (b'{"error": {"message": "nested reason"}}', "nested reason"),
        (b'{"detail": "too big"}', "too big"),
        (b'{"title": "Not acceptable"}', "Not acceptable"),
        (
            b'{"title": "One or more validation errors occurred.", '
            b'"errors": {"sn": ["The sn field is required."]}}',
            "One or more validation errors occurred. (sn: The sn field is required.)",
        ),
        (b'[{"Message": "in an array"}]', "in an array"),
        (b'"just a string"', "just a string"),
        (b"plain words\n  on two lines", "plain words on two lines"),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>x</body></html>",
            "502 Bad Gateway",
        ),
        (b"", "400 Bad Request"),
        (b'{"unrelated": 1}', '{"unrelated": 1}'),
    ],
)
def test_server_message_reads_the_usual_error_body_shapes(body, expected):
    assert server_message(_response(body)) == expected


def test_server_message_is_truncated():
    message = server_message(_response(b"x" * 5000, "text/plain"))
    assert len(message) == 500
    assert message.endswith("…")
