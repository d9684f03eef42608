"""The IPC wire format: framing, request validation, error codes, JSON encoding."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.ipc.protocol import (
    MAX_MESSAGE_BYTES,
    TOPICS,
    ErrorCode,
    Event,
    IpcError,
    LineBuffer,
    MessageTooLong,
    NoParams,
    ProtocolError,
    Response,
    TopicsParams,
    encode,
    encode_error,
    encode_event,
    encode_request,
    encode_result,
    format_validation_error,
    parse_request,
    parse_server_message,
)


def decode(line: bytes) -> Any:
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    return json.loads(line)


# ---------------------------------------------------------------- encoding


def test_request_line_is_one_compact_json_object_with_version() -> None:
    line = encode_request(7, "queue.list", {"state": "queued", "limit": 50})
    assert decode(line) == {
        "v": 1,
        "id": 7,
        "method": "queue.list",
        "params": {"state": "queued", "limit": 50},
    }
    assert b" " not in line


def test_request_without_params_leaves_them_out() -> None:
    assert decode(encode_request("a", "ping")) == {"v": 1, "id": "a", "method": "ping"}


def test_result_error_and_event_lines() -> None:
    assert decode(encode_result(3, {"ok": True})) == {"v": 1, "id": 3, "result": {"ok": True}}
    assert decode(encode_error(None, ErrorCode.PARSE_ERROR, "bad")) == {
        "v": 1,
        "id": None,
        "error": {"code": "parse_error", "message": "bad"},
    }
    assert decode(encode_event("queue", [1, 2])) == {"v": 1, "event": "queue", "data": [1, 2]}


def test_newlines_in_strings_never_break_framing() -> None:
    line = encode_result(1, "two\nlines\r\nand ünïcode")
    assert decode(line)["result"] == "two\nlines\r\nand ünïcode"
    assert "ünïcode".encode() in line  # UTF-8 on the wire, not \\u escapes


class Colour(enum.Enum):
    RED = "red"


class Model(BaseModel):
    when: dt.datetime
    where: Path


@dataclasses.dataclass
class Row:
    id: uuid.UUID
    at: dt.date


def test_default_encodes_datetimes_paths_enums_models_dataclasses() -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    data = {
        "when": when,
        "path": Path("/data/x.json"),
        "colour": Colour.RED,
        "model": Model(when=when, where=Path("/a")),
        "row": Row(ident, dt.date(2024, 1, 2)),
        "span": dt.timedelta(seconds=90),
        "tags": {"b", "a"},
    }
    assert decode(encode_result(1, data))["result"] == {
        "when": "2024-05-06T07:08:09+00:00",
        "path": str(Path("/data/x.json")),
        "colour": "red",
        "model": {"when": "2024-05-06T07:08:09Z", "where": str(Path("/a"))},
        "row": {"id": str(ident), "at": "2024-01-02"},
        "span": 90.0,
        "tags": ["a", "b"],
    }


def test_unencodable_values_and_nan_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot send a object"):
        encode({"x": object()})
    with pytest.raises(ValueError, match="Out of range float"):
        encode({"x": float("nan")})


# ---------------------------------------------------------------- parsing requests


def test_valid_request_parses() -> None:
    request = parse_request(b'{"v":1,"id":7,"method":"queue.list","params":{"limit":5}}')
    assert (request.id, request.method, request.params) == (7, "queue.list", {"limit": 5})


def test_unknown_envelope_keys_are_ignored_and_params_may_be_null() -> None:
    request = parse_request(b'{"v":1,"id":"x","method":"ping","params":null,"trace":1}')
    assert (request.id, request.params) == ("x", None)


@pytest.mark.parametrize(
    ("line", "code", "request_id", "words"),
    [
        (b'{"v":1,"id":1,"method":', ErrorCode.PARSE_ERROR, None, "not valid JSON"),
        (b"\xff\xfe{}", ErrorCode.PARSE_ERROR, None, "not UTF-8"),
        (b"[1,2]", ErrorCode.INVALID_REQUEST, None, "JSON object"),
        (b'{"id":4,"method":"ping"}', ErrorCode.VERSION_MISMATCH, 4, "no protocol version"),
        (b'{"v":2,"id":5,"method":"ping"}', ErrorCode.VERSION_MISMATCH, 5, "version 2"),
        (b'{"v":true,"id":5,"method":"ping"}', ErrorCode.VERSION_MISMATCH, 5, "True"),
        (b'{"v":1,"id":6}', ErrorCode.INVALID_REQUEST, 6, "method: Field required"),
        (b'{"v":1,"id":6,"method":""}', ErrorCode.INVALID_REQUEST, 6, "method"),
        (b'{"v":1,"id":6,"method":3}', ErrorCode.INVALID_REQUEST, 6, "method"),
        (b'{"v":1,"method":"ping"}', ErrorCode.INVALID_REQUEST, None, "id: Field required"),
        (b'{"v":1,"id":true,"method":"ping"}', ErrorCode.INVALID_REQUEST, None, "id"),
        (b'{"v":1,"id":[1],"method":"ping"}', ErrorCode.INVALID_REQUEST, None, "id"),
        (b'{"v":1,"id":8,"method":"p","params":[1]}', ErrorCode.INVALID_REQUEST, 8, "params"),
    ],
)
def test_bad_requests_get_the_right_error(
    line: bytes, code: ErrorCode, request_id: object, words: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(line)
    assert caught.value.code == code
    assert caught.value.request_id == request_id
    assert words in caught.value.message
    assert "https://" not in caught.value.message  # no pydantic doc links for users


def test_validation_errors_name_the_field_path() -> None:
    with pytest.raises(ValidationError) as caught:
        TopicsParams.model_validate({"topics": ["queue", "weather"]})
    message = format_validation_error(caught.value, "params")
    assert message.startswith("params.topics.1: Input should be 'status'")


def test_validation_error_list_is_capped() -> None:
    class Many(BaseModel):
        a: int
        b: int
        c: int

    with pytest.raises(ValidationError) as caught:
        Many.model_validate({})
    assert format_validation_error(caught.value, limit=2) == (
        "a: Field required; b: Field required; and 1 more"
    )


def test_no_params_refuses_anything_given() -> None:
    assert NoParams.model_validate({}) == NoParams()
    with pytest.raises(ValidationError):
        NoParams.model_validate({"x": 1})


def test_topics_are_the_design_list() -> None:
    assert TOPICS == ("status", "queue", "file", "log", "alarm", "yield")
    with pytest.raises(ValidationError):
        TopicsParams.model_validate({"topics": []})


# ---------------------------------------------------------------- parsing server messages


def test_server_messages_parse_to_responses_and_events() -> None:
    reply = parse_server_message(encode_result(2, [1]).rstrip(b"\n"))
    assert isinstance(reply, Response)
    assert (reply.id, reply.result, reply.error) == (2, [1], None)
    error = parse_server_message(encode_error(3, ErrorCode.NOT_FOUND, "gone"))
    assert isinstance(error, Response)
    assert error.error is not None
    assert (error.error.code, error.error.message) == ("not_found", "gone")
    event = parse_server_message(encode_event("alarm", {"a": 1}))
    assert isinstance(event, Event)
    assert (event.event, event.data) == ("alarm", {"a": 1})


@pytest.mark.parametrize("line", [b"nonsense", b'{"v":1,"event":3}', b'{"v":2,"id":1}'])
def test_malformed_server_messages_raise_ipc_error(line: bytes) -> None:
    with pytest.raises(IpcError) as caught:
        parse_server_message(line)
    assert "the worker sent" in caught.value.message


def test_ipc_error_keeps_code_and_plain_message() -> None:
    error = IpcError(ErrorCode.CONFLICT, "already uploading")
    assert (error.code, str(error)) == ("conflict", "already uploading")
    assert repr(error) == "IpcError('conflict', 'already uploading')"


# ---------------------------------------------------------------- framing


def test_line_buffer_joins_chunks_and_splits_lines() -> None:
    buffer = LineBuffer()
    assert buffer.feed(b'{"a"') == []
    assert buffer.feed(b":1}\n{") == [b'{"a":1}']
    assert buffer.feed(b'"b":2}\r\n\n  \n{"c":3}\n') == [b'{"b":2}', b'{"c":3}']
    assert len(buffer) == 0


def test_line_buffer_accepts_a_line_of_exactly_the_limit() -> None:
    buffer = LineBuffer(limit=10)
    assert buffer.feed(b"0123456789\n") == [b"0123456789"]
    assert buffer.feed(b"01234") == []
    assert buffer.feed(b"56789\nab") == [b"0123456789"]


def test_line_buffer_refuses_a_complete_line_over_the_limit() -> None:
    with pytest.raises(MessageTooLong):
        LineBuffer(limit=10).feed(b"0123456789A\n")


def test_line_buffer_refuses_a_partial_line_over_the_limit_before_its_end() -> None:
    buffer = LineBuffer(limit=10)
    buffer.feed(b"012345")
    with pytest.raises(MessageTooLong):
        buffer.feed(b"6789AB")


def test_default_limit_is_four_mebibytes() -> None:
    assert MAX_MESSAGE_BYTES == 4 * 1024 * 1024
    buffer = LineBuffer()
    chunk = b"x" * (1024 * 1024)
    for _ in range(4):
        assert buffer.feed(chunk) == []
    assert buffer.feed(b"\n") == [chunk * 4]
    for _ in range(4):
        buffer.feed(chunk)
    with pytest.raises(MessageTooLong):
        buffer.feed(b"y")
