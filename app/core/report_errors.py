"""Errors about report content, worded for the people who fix them (operators, converter authors).

Pydantic's validation errors are turned into one line that names the field by its WSJF path
("root.steps[3].numericMeas[0].value: not a number (got 'abc')"), never a traceback.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ReportError(ValueError):
    """A report that cannot be read or sent. `str()` is one line: "<field path>: <problem>".

    `field` is the path of the bad field in WSJF names ("root.steps[3].numericMeas[0].value"),
    or None when the problem is the document as a whole (e.g. not valid JSON). `problems`
    lists every problem found, the first of which is the message.
    """

    def __init__(
        self, problem: str, field: str | None = None, problems: list[str] | None = None
    ) -> None:
        message = f"{field}: {problem}" if field else problem
        super().__init__(message)
        self.field = field
        self.problem = problem
        self.problems = problems if problems is not None else [message]


_JSON_POSITION = re.compile(
    r"^Invalid JSON: (?P<what>.*?) at line (?P<line>\d+) column (?P<col>\d+)"
)
_FIELD_IN_MESSAGE = re.compile(
    r"^(?:Value error, )?(?P<field>[A-Za-z][\w.\[\]]*): (?P<problem>.+)$"
)

_PROBLEM_BY_TYPE = {
    "missing": "field required",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "finite_number": "not a number",
    "int_parsing": "not a whole number",
    "int_type": "not a whole number",
    "int_from_float": "not a whole number",
    "int_parsing_size": "not a whole number in range",
    "uuid_parsing": "not a UUID",
    "uuid_type": "not a UUID",
    "uuid_version": "not a UUID",
    "bool_parsing": "not true or false",
    "bool_type": "not true or false",
    "string_type": "not text",
    "model_type": "not an object",
    "model_attributes_type": "not an object",
    "dict_type": "not an object",
    "list_type": "not a list",
    "datetime_parsing": "not a date and time",
    "datetime_from_date_parsing": "not a date and time",
    "datetime_type": "not a date and time",
}


def error_from_validation(exc: ValidationError) -> ReportError:
    """One readable `ReportError` for all the problems pydantic found, the first as message."""
    errors = exc.errors(include_url=False)
    described = [_describe(error) for error in errors]
    field, problem = described[0]
    problems = [f"{f}: {p}" if f else p for f, p in described]
    return ReportError(problem, field=field, problems=problems)


def _describe(error: ErrorDetails) -> tuple[str | None, str]:
    kind = error["type"]
    message = error["msg"]
    if kind == "json_invalid":
        match = _JSON_POSITION.match(message)
        if match:
            where = f"line {match['line']} column {match['col']}"
            return None, f"not valid JSON: {where}: {match['what']}"
        return None, "not valid JSON: " + message.removeprefix("Invalid JSON: ")
    if kind == "union_tag_not_found":
        return "type", "field required"
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag")
        return "type", f"must be T or R (got {tag!r})"
    if kind in ("model_attributes_type", "dict_type", "model_type") and not error["loc"]:
        return None, "not a WSJF report: expected a JSON object"
    loc = error["loc"]
    field = _field_path(loc)
    if kind == "value_error":
        match = _FIELD_IN_MESSAGE.match(message)
        if match:
            # Model-level checks name their field in the message (see ReportBase).
            prefix = f"{field}." if field else ""
            return prefix + match["field"], match["problem"]
        return field, message.removeprefix("Value error, ")
    if error.get("input", "") is None and kind.endswith("_type"):
        return field, "must not be null"
    problem = _PROBLEM_BY_TYPE.get(kind)
    if problem is None:
        problem = message.replace("Input should be", "must be", 1)
        problem = problem[:1].lower() + problem[1:]
    if kind != "missing":
        problem += _shown_input(error.get("input"))
    return field, problem


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    parts: list[str] = []
    for index, item in enumerate(loc):
        if index == 0 and item in ("T", "R"):
            continue  # the union member's tag, not a field
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(item)
    return "".join(parts) or None


def _shown_input(value: object) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        shown = repr(value)
        if len(shown) <= 40:
            return f" (got {shown})"
    return ""
