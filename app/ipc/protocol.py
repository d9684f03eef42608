"""The IPC wire protocol (DESIGN.md §4): JSON lines, message shapes, error codes, encoding.

One JSON object per line, UTF-8, at most `MAX_MESSAGE_BYTES` per line, every object carries
`"v": 1`. Requests carry an `id` chosen by the client; the worker answers each with a result
or an error carrying the same id, in whatever order the handlers finish. Events (after
`subscribe`) carry a topic and data instead of an id.

This module is plain Python (no Qt) so the worker, the GUI client, the blocking CLI client
and the unit tests all share exactly one definition of the wire format.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from pathlib import PurePath
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

PROTOCOL_VERSION: Final = 1
# Bigger lines close the connection that sent them (after an error reply when possible).
MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024

Topic = Literal["status", "queue", "file", "log", "alarm", "yield"]
TOPICS: Final[tuple[str, ...]] = get_args(Topic)

# Request ids are JSON numbers or strings (bools are not ids even though Python says so).
RequestId = int | str


class ErrorCode(enum.StrEnum):
    """The `error.code` values a worker answers with."""

    PARSE_ERROR = "parse_error"  # the line is not UTF-8 JSON
    INVALID_REQUEST = "invalid_request"  # JSON, but not a request (or too long)
    UNKNOWN_METHOD = "unknown_method"
    INVALID_PARAMS = "invalid_params"  # message names the pydantic field path
    VERSION_MISMATCH = "version_mismatch"  # missing or unsupported "v"
    INTERNAL_ERROR = "internal_error"  # a handler failed; details only in the worker log
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"  # also used client-side: no worker, lost connection, timeout


class IpcError(Exception):
    """An error reply from the worker, or a client-side transport failure.

    Handlers raise it (e.g. `IpcError(ErrorCode.NOT_FOUND, "no report 123")`) to answer a
    specific error; clients raise it when the worker answered one.
    """

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class WorkerNotRunning(IpcError):
    """Nothing answers on the instance's socket: the worker is not running."""

    def __init__(self, instance: str, detail: str = "") -> None:
        message = f"The WATS Station worker for instance '{instance}' is not running."
        if detail:
            message = f"{message} ({detail})"
        super().__init__(ErrorCode.UNAVAILABLE, message)
        self.instance = instance


class ConnectionLost(IpcError):
    """The connection closed while a request was waiting for its reply."""

    def __init__(self, detail: str = "the connection to the worker was closed") -> None:
        super().__init__(ErrorCode.UNAVAILABLE, detail)


class IpcTimeout(IpcError):
    """The worker did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, message)


class MessageTooLong(ValueError):
    """A line exceeded MAX_MESSAGE_BYTES; the connection that sent it must be closed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"message longer than {limit} bytes")
        self.limit = limit


class ProtocolError(Exception):
    """A received line is not a valid request; carries the error reply to send back."""

    def __init__(self, code: ErrorCode, message: str, request_id: RequestId | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


# ---------------------------------------------------------------- message models


class Request(BaseModel):
    """`{"v": 1, "id": 7, "method": "queue.list", "params": {...}}`."""

    # Unknown envelope keys are ignored so that a newer client's additions do not break.
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1]
    id: StrictInt | StrictStr
    method: StrictStr = Field(min_length=1, max_length=200)
    params: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class Response(BaseModel):
    """`{"v": 1, "id": 7, "result": ...}` or `{"v": 1, "id": 7, "error": {...}}`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1]
    id: int | str | None
    result: Any = None
    error: ErrorBody | None = None


class Event(BaseModel):
    """`{"v": 1, "event": "queue", "data": ...}`, pushed to subscribers of the topic."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1]
    event: str
    data: Any = None


class NoParams(BaseModel):
    """The params model of a method that takes no parameters: anything given is refused."""

    model_config = ConfigDict(extra="forbid")


class TopicsParams(BaseModel):
    """Params of the built-in `subscribe` and `unsubscribe` methods."""

    model_config = ConfigDict(extra="forbid")

    topics: list[Topic] = Field(min_length=1)


# ---------------------------------------------------------------- encoding


def json_default(value: Any) -> Any:
    """What `json.dumps` cannot encode itself: datetimes, paths, enums, models, dataclasses."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # asdict() keeps nested datetimes etc. as they are; json calls us again for those.
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot send a {type(value).__name__} over IPC")


# NaN/Infinity are not JSON; refusing them keeps the wire readable by any JSON parser.
_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=json_default
)


def encode(message: dict[str, Any]) -> bytes:
    """One framed line. Raises TypeError/ValueError for values that cannot be sent."""
    return _encoder.encode(message).encode("utf-8") + b"\n"


def encode_request(request_id: RequestId, method: str, params: Any = None) -> bytes:
    message: dict[str, Any] = {"v": PROTOCOL_VERSION, "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return encode(message)


def encode_result(request_id: RequestId, result: Any) -> bytes:
    return encode({"v": PROTOCOL_VERSION, "id": request_id, "result": result})


def encode_error(request_id: RequestId | None, code: ErrorCode | str, message: str) -> bytes:
    return encode(
        {
            "v": PROTOCOL_VERSION,
            "id": request_id,
            "error": {"code": str(code), "message": message},
        }
    )


def encode_event(topic: str, data: Any) -> bytes:
    return encode({"v": PROTOCOL_VERSION, "event": topic, "data": data})


# ---------------------------------------------------------------- decoding


def format_validation_error(exc: ValidationError, prefix: str = "", limit: int = 5) -> str:
    """`params.topics.0: Input should be 'status', ...` — field paths, no pydantic URLs."""
    parts: list[str] = []
    errors = exc.errors(include_url=False, include_input=False)
    for error in errors[:limit]:
        loc = ".".join(str(item) for item in (prefix, *error["loc"]) if item != "")
        parts.append(f"{loc}: {error['msg']}" if loc else str(error["msg"]))
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)


def _valid_id(value: Any) -> RequestId | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value


def parse_request(line: bytes) -> Request:
    """Decode one received line (without its newline) into a Request.

    Raises ProtocolError with the error to answer; its request_id is the line's id when the
    line had a usable one, so the client can match the error to its request.
    """
    try:
        # Decoded explicitly: json.loads(bytes) would also guess UTF-16/32 from a BOM.
        obj = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR, f"message is not UTF-8: {exc.reason}", None
        ) from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR, f"message is not valid JSON: {exc}", None
        ) from None
    if not isinstance(obj, dict):
        raise ProtocolError(
            ErrorCode.INVALID_REQUEST, "a message must be a JSON object, one per line", None
        )
    request_id = _valid_id(obj.get("id"))
    version = obj.get("v")
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        said = "no protocol version" if "v" not in obj else f"protocol version {version!r}"
        raise ProtocolError(
            ErrorCode.VERSION_MISMATCH,
            f"the message has {said}; this worker speaks version {PROTOCOL_VERSION}",
            request_id,
        )
    try:
        return Request.model_validate(obj)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.INVALID_REQUEST,
            f"not a valid request: {format_validation_error(exc)}",
            request_id,
        ) from None


def parse_server_message(line: bytes) -> Response | Event:
    """Decode one line a worker sent (a reply or an event). Raises IpcError if malformed."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise IpcError(ErrorCode.PARSE_ERROR, f"the worker sent invalid JSON: {exc}") from None
    try:
        if isinstance(obj, dict) and "event" in obj:
            return Event.model_validate(obj)
        return Response.model_validate(obj)
    except ValidationError as exc:
        raise IpcError(
            ErrorCode.INVALID_REQUEST,
            f"the worker sent an unexpected message: {format_validation_error(exc)}",
        ) from None


# ---------------------------------------------------------------- framing


class LineBuffer:
    """Splits a byte stream into lines, enforcing the per-message size limit.

    `feed()` returns the complete lines (newline stripped, empty lines skipped) and keeps the
    rest. A line longer than the limit raises MessageTooLong as soon as that is certain, even
    before its newline arrives, so a peer cannot make us buffer without bound.
    """

    def __init__(self, limit: int = MAX_MESSAGE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        # Bytes of _buffer already searched for a newline (long lines arrive in many chunks).
        self._scanned = 0

    def __len__(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        self._buffer += data
        lines: list[bytes] = []
        start = 0
        buffer = self._buffer
        search_from = self._scanned
        while True:
            end = buffer.find(b"\n", search_from)
            if end < 0:
                break
            if end - start > self.limit:
                raise MessageTooLong(self.limit)
            if end > start:
                line = bytes(buffer[start:end])
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line.strip():
                    lines.append(line)
            start = search_from = end + 1
        if start:
            del buffer[:start]
        if len(buffer) > self.limit:
            raise MessageTooLong(self.limit)
        self._scanned = len(buffer)
        return lines
