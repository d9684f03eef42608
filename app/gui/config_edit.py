"""Editing the station configuration through the worker (config.get / config.set).

Pages hold the dict config.get returned, change their part of it and send it whole with
config.set; the worker validates and applies it live. When the worker refuses, its message
names the field ("converters[1].watch_folder: folder does not exist"); `field_errors` splits
it so each page can show every problem next to its field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import ValidationError

from app.core.config import describe_validation_error

# "server.url: ...", "params.config.station.name: ...", "converters[0].watch_folder: ..."
_FIELD_LINE = re.compile(
    r"^\s*(?:params\.)?(?:config\.|values\.)?(?P<field>[\w\[\]. -]+?):\s*(?P<msg>.+)$"
)
_TOP_LEVEL = {"secret_store", "schema"}
_PREFIX = re.compile(r"^invalid params for [\w.]+:\s*", re.IGNORECASE)


def field_errors(message: str) -> tuple[dict[str, str], str]:
    """({dotted field: problem}, what is left over) from an invalid_params message."""
    text = _PREFIX.sub("", message.strip())
    fields: dict[str, str] = {}
    rest: list[str] = []
    for part in re.split(r"\n|;\s+(?=[\w\[\].]+:)", text):
        match = _FIELD_LINE.match(part)
        field = match["field"].strip() if match else ""
        if match and ("." in field or "[" in field or field in _TOP_LEVEL):
            fields.setdefault(field, match["msg"].strip())
        elif part.strip():
            rest.append(part.strip())
    return fields, "; ".join(rest)


def local_problem(model: type[Any], data: dict[str, Any], field: str) -> str:
    """Validate one section with the config model; the first problem of `field`, or ''."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            name, _, problem = line.partition(": ")
            if name == field or name.startswith(f"{field}.") or name.startswith(f"{field}["):
                return problem or line
    return ""


def with_section(config: dict[str, Any], section: str, values: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `config` with `values` merged into `config[section]`."""
    result = copy.deepcopy(config)
    target = result.setdefault(section, {})
    target.update(values)
    return result


def converter_index(config: dict[str, Any], name: str) -> int | None:
    for index, converter in enumerate(config.get("converters") or []):
        if str(converter.get("name", "")).casefold() == name.casefold():
            return index
    return None
