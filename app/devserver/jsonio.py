"""JSON in and out of the local server, with orjson (several times faster than json here).

The server answers thousands of small requests per second in benchmarks; JSON encoding and
decoding is the largest share of its per-request work after HTTP parsing.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An error reply: raised by handlers, turned into `{"Message": ...}` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def dumps(value: Any) -> bytes:
    # Non-string dict keys (e.g. int counters) are allowed; datetimes come out as ISO 8601.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(body=dumps(value), status=status, content_type=JSON_TYPE, headers=headers)


def error_response(error: ApiError) -> web.Response:
    return json_response({"Message": error.message}, status=error.status, headers=error.headers)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or a 400 naming what is wrong with it."""
    return parse_json_body(await request.read())


def parse_json_body(body: bytes) -> Any:
    """A request body as JSON, or a 400 naming what is wrong with it."""
    if not body.strip():
        raise ApiError(400, "The request body is empty; expected JSON")
    try:
        return loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"Malformed JSON in the request body: {exc}") from None
