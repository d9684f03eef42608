"""The OData subset of `GET /api/Report/Query/Header` (wats-api.md §2.6).

Supported: `$filter` with eq ne gt ge lt le, in (...), and or not, parentheses and the
functions contains, startswith, endswith; `$orderby` on start, uuid, serialNumber and
timeStamp with asc/desc; `$top` (default 10, at most 10000), `$skip` and `$select`.
String comparisons ignore case, as WATS's SQL Server collation does. Literals: 'text'
(with '' for a quote), numbers, true/false/null, bare dates (2025-03-01 or
2025-03-01T08:00:00Z) and bare GUIDs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.devserver.timeparse import parse_time

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

TOP_DEFAULT = 10
TOP_MAX = 10000
ORDERABLE = {
    "start": "start",
    "uuid": "uuid",
    "serialnumber": "serialNumber",
    "timestamp": "timeStamp",
}
DATE_FIELDS = frozenset({"start"})
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})


class ODataError(ValueError):
    """A query option the server cannot read; the message names the option and the problem."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, guid, date, number, name, punct
    text: str

    def literal(self) -> Any:
        if self.kind == "string":
            return self.text[1:-1].replace("''", "'")
        if self.kind == "guid":
            return self.text.lower()
        if self.kind == "date":
            moment = parse_time(self.text)
            if moment is None:
                raise ODataError(f"$filter: {self.text!r} is not a valid date")
            return moment
        if self.kind == "number":
            return float(self.text) if "." in self.text else int(self.text)
        lowered = self.text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        raise ODataError(f"$filter: expected a value, got {self.text!r}")

    @property
    def is_literal(self) -> bool:
        return self.kind in ("string", "guid", "date", "number") or (
            self.kind == "name" and self.text.lower() in ("true", "false", "null")
        )


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"$filter: cannot read {text[position:].strip()[:30]!r}")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, str]) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.fields = fields  # lower-case name -> row key

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise ODataError("$filter: the expression ends too early")
        self.position += 1
        return token

    def accept_word(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "name" and token.text.lower() == word:
            self.position += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        token = self.next()
        if token.kind != "punct" or token.text != char:
            raise ODataError(f"$filter: expected {char!r}, got {token.text!r}")

    def field(self, token: Token) -> str:
        key = self.fields.get(token.text.lower())
        if token.kind != "name" or key is None:
            raise ODataError(f"$filter: unknown field {token.text!r}")
        return key

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        token = self.peek()
        if token is not None:
            raise ODataError(f"$filter: unexpected {token.text!r}")
        return predicate

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.accept_word("or"):
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda row: any(part(row) for part in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_unary()]
        while self.accept_word("and"):
            parts.append(self.parse_unary())
        if len(parts) == 1:
            return parts[0]
        return lambda row: all(part(row) for part in parts)

    def parse_unary(self) -> Predicate:
        if self.accept_word("not"):
            inner = self.parse_unary()
            return lambda row: not inner(row)
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.next()
            inner = self.parse_or()
            self.expect_punct(")")
            return inner
        return self.parse_comparison()

    def parse_comparison(self) -> Predicate:
        first = self.next()
        if first.kind == "name" and first.text.lower() in FUNCTIONS:
            return self.parse_function(first.text.lower())
        if first.is_literal:
            # `'x' eq serialNumber`: swap to field-first with the mirrored operator.
            op_token = self.next()
            key = self.field(self.next())
            return _compare(key, _mirror(op_token.text.lower()), first.literal())
        key = self.field(first)
        op_token = self.next()
        op = op_token.text.lower()
        if op == "in":
            self.expect_punct("(")
            values = [self.next().literal()]
            while (token := self.next()).text == ",":
                values.append(self.next().literal())
            if token.text != ")":
                raise ODataError(f"$filter: expected ')' to close 'in', got {token.text!r}")
            return lambda row: any(_compare(key, "eq", value)(row) for value in values)
        if op not in COMPARISONS:
            raise ODataError(f"$filter: unknown operator {op_token.text!r} after {first.text!r}")
        value_token = self.next()
        if not value_token.is_literal:
            raise ODataError(
                f"$filter: expected a value after {op_token.text!r}, got {value_token.text!r}"
            )
        return _compare(key, op, value_token.literal())

    def parse_function(self, name: str) -> Predicate:
        self.expect_punct("(")
        key = self.field(self.next())
        self.expect_punct(",")
        value = self.next().literal()
        self.expect_punct(")")
        if not isinstance(value, str):
            raise ODataError(f"$filter: {name} needs a text value")
        needle = value.casefold()
        test: Callable[[str], bool] = {
            "contains": lambda text: needle in text,
            "startswith": lambda text: text.startswith(needle),
            "endswith": lambda text: text.endswith(needle),
        }[name]
        return lambda row: row.get(key) is not None and test(str(row.get(key)).casefold())


def _mirror(op: str) -> str:
    return {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)


def _comparable(key: str, row_value: Any, literal: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable type, or None when they cannot be compared."""
    if isinstance(literal, datetime) or key in DATE_FIELDS:
        left = row_value if isinstance(row_value, datetime) else parse_time(row_value)
        right = literal if isinstance(literal, datetime) else parse_time(literal)
        return (left, right) if left is not None and right is not None else None
    if isinstance(literal, bool) or isinstance(row_value, bool):
        return (
            (row_value, literal)
            if isinstance(row_value, bool) and isinstance(literal, bool)
            else None
        )
    if isinstance(row_value, int | float) or isinstance(literal, int | float):
        try:
            return (float(row_value), float(literal))
        except (TypeError, ValueError):
            return None
    return (str(row_value).casefold(), str(literal).casefold())


def _compare(key: str, op: str, literal: Any) -> Predicate:
    def predicate(row: Row) -> bool:
        row_value = row.get(key)
        if literal is None or row_value is None:
            both_null = literal is None and row_value is None
            return both_null if op == "eq" else (not both_null if op == "ne" else False)
        pair = _comparable(key, row_value, literal)
        if pair is None:
            return op == "ne"
        left, right = pair
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)

    return predicate


def parse_filter(text: str, fields: Iterable[str]) -> Predicate:
    """A row predicate for an OData `$filter` over rows with the given field names."""
    return _Parser(text, {name.lower(): name for name in fields}).parse()


def parse_orderby(text: str | None) -> list[tuple[str, bool]]:
    """[(row key, descending)] for `$orderby`; newest first when absent."""
    if text is None or not text.strip():
        return [("start", True)]
    order: list[tuple[str, bool]] = []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2:
            raise ODataError(f"$orderby: cannot read {item.strip()!r}")
        key = ORDERABLE.get(words[0].lower())
        if key is None:
            raise ODataError(
                f"$orderby: cannot order by {words[0]!r}; "
                "use start, uuid, serialNumber or timeStamp"
            )
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError(f"$orderby: direction must be asc or desc, got {words[1]!r}")
        order.append((key, direction == "desc"))
    return order


def parse_count(text: str | None, option: str, default: int, maximum: int | None = None) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ODataError(f"{option} must be a whole number, got {text!r}") from None
    if value < 0:
        raise ODataError(f"{option} must not be negative, got {value}")
    if maximum is not None and value > maximum:
        raise ODataError(f"{option} must be at most {maximum}, got {value}")
    return value


def sort_rows(rows: list[dict[str, Any]], order: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Sort by several keys: the last key first, each sort stable (Python's sort is)."""
    result = list(rows)
    for key, descending in reversed(order):
        if key in DATE_FIELDS:
            result.sort(
                key=lambda row: parse_time(row.get(key)) or _EARLIEST,
                reverse=descending,
            )
        else:
            result.sort(
                key=lambda row: (row.get(key) is not None, _sort_key(row.get(key))),
                reverse=descending,
            )
    return result


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    return value if value is not None else ""
