"""The station configuration model (DESIGN.md §5, §6): what `config.json` holds.

Every section keeps keys it does not know (a newer version wrote them, or a person added
them): they round-trip through load and save, and `unknown_keys()` lists them. Secrets are
never part of the model; they live in the OS keyring (app.core.secrets).

Environment variables override settings at run time only: `effective(config, environ)`
returns a copy with the overrides applied and marks it, and the store refuses to save a
marked copy, so an override can never leak into the file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import quote, urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from app.core.yield_settings import YieldSettings

SCHEMA_VERSION: Literal[1] = 1
MAX_NAME = 100  # the WATS server's limit for machineName, location and purpose

PostAction = Literal["move", "delete", "zip", "keep"]
ConverterMode = Literal["active", "import"]
ValidationMode = Literal["reject", "truncate"]
SecretStoreKind = Literal["keyring", "file"]


class ConfigError(Exception):
    """The configuration cannot be read, written or changed. `problems` name the fields."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems if problems is not None else [message]
        super().__init__(message)


class _FieldProblem(ValueError):
    """A validation problem that belongs to a field below the one being validated."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        self.message = message
        super().__init__(message)


def _raise_problems(problems: list[_FieldProblem]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        # Several problems at once: pydantic reports one error per validator, so carry all.
        raise _FieldProblem((), "\n".join(_render_loc(p.loc) + ": " + p.message for p in problems))


# ---------------------------------------------------------------- field checks


def _optional_text(value: str | None, limit: int = MAX_NAME) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValueError(f"is {len(text)} characters long, at most {limit} are allowed")
    return text


def _url(value: str | None, schemes: tuple[str, ...], what: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme.lower() not in schemes or not parts.hostname or not port_ok:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{text!r} is not a valid {what} URL (expected {allowed}host[:port])")
    if parts.password:
        raise ValueError(
            "must not contain a password; store it with `wats-station config set proxy-password`"
        )
    return text


def _absolute_folder(value: Path | None) -> Path | None:
    if value is None:
        return None
    if not str(value).strip():
        raise ValueError("must not be empty")
    folder = value.expanduser()
    if not folder.is_absolute():
        raise ValueError(f"{str(value)!r} is not an absolute path")
    return folder


def _same_folder(a: Path, b: Path) -> bool:
    """Equal after normalising (case-insensitively on Windows); no disk access."""
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


# ---------------------------------------------------------------- sections


class _Section(BaseModel):
    # Unknown keys are kept so a file written by a newer version survives a round trip.
    model_config = ConfigDict(extra="allow")


class RegistrationConfig(_Section):
    """Optional registration as a managed WATS client (wats-api.md §1.3)."""

    enabled: bool = False
    mac: str | None = None

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        digits = re.sub(r"[:\-. ]", "", value.strip()).upper()
        if not re.fullmatch(r"[0-9A-F]{12}", digits):
            raise ValueError(f"{value!r} is not a MAC address (12 hex digits, e.g. 4C5F70D62FF4)")
        return digits


class ServerConfig(_Section):
    url: str | None = None
    proxy: str | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    registration: RegistrationConfig = Field(default_factory=RegistrationConfig)

    @field_validator("url")
    @classmethod
    def _server_url(cls, value: str | None) -> str | None:
        return _url(value, ("http", "https"), "server")

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        return _url(value, ("http", "https", "socks5", "socks5h"), "proxy")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        return _absolute_folder(value)


class StationInfo(_Section):
    name: str = Field(default_factory=socket.gethostname)
    location: str | None = None
    purpose: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        text = _optional_text(value)
        if text is None:
            raise ValueError("must not be empty")
        return text

    @field_validator("location", "purpose")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return _optional_text(value)


class UploadsConfig(_Section):
    concurrency: int = Field(default=4, ge=1, le=32)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    post_timeout_s: float = Field(default=100.0, gt=0, le=3600)
    backoff_base_s: float = Field(default=2.0, gt=0, le=3600)
    backoff_cap_s: float = Field(default=300.0, gt=0, le=86400)
    paused: bool = False

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> UploadsConfig:
        if self.backoff_cap_s < self.backoff_base_s:
            raise _FieldProblem(
                ("backoff_cap_s",),
                f"{self.backoff_cap_s:g} is below backoff_base_s ({self.backoff_base_s:g})",
            )
        return self


class TimersConfig(_Section):
    ping_s: int = Field(default=300, ge=1)
    client_update_s: int = Field(default=3600, ge=1)
    rescan_s: int = Field(default=60, ge=1)


class PipelineConfig(_Section):
    settle_ms: int = Field(default=500, ge=0, le=600_000)
    convert_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    keep_uploaded_days: int = Field(default=14, ge=0)
    validation_mode: ValidationMode = "truncate"


class GuiConfig(_Section):
    start_minimised: bool = False


# Common converter parameters (app.converters.base.COMMON_PARAMETERS) and their types; any
# other key is converter-specific and kept as given.
TEXT_PARAMETERS = (
    "fallback_pn",
    "fallback_rev",
    "operator",
    "station",
    "location",
    "purpose",
    "culture",
    "encoding",
)
DEFAULT_PROCESS_CODE = 10


def _check_parameters(params: dict[str, Any]) -> dict[str, Any]:
    checked = dict(params)
    problems: list[_FieldProblem] = []
    for key in TEXT_PARAMETERS:
        value = checked.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.append(_FieldProblem((key,), f"{value!r} is not text"))
            continue
        checked[key] = str(value).strip() or None
    encoding = checked.get("encoding")
    if isinstance(encoding, str):
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(_FieldProblem(("encoding",), f"{encoding!r} is not a known encoding"))
    code = checked.get("fallback_process_code")
    if code is not None:
        try:
            if isinstance(code, bool) or (isinstance(code, float) and not code.is_integer()):
                raise ValueError
            number = int(str(code).strip()) if isinstance(code, str) else int(code)
        except (TypeError, ValueError):
            problems.append(
                _FieldProblem(("fallback_process_code",), f"{code!r} is not a whole number")
            )
        else:
            if not 0 <= number <= 32767:
                problems.append(
                    _FieldProblem(("fallback_process_code",), f"{number} is not in 0..32767")
                )
            checked["fallback_process_code"] = number
    mode = checked.get("validation_mode")
    if mode is not None and mode not in ("reject", "truncate"):
        problems.append(
            _FieldProblem(("validation_mode",), f"{mode!r} is not 'reject' or 'truncate'")
        )
    _raise_problems(problems)
    return checked


class ConverterConfig(_Section):
    """One watch folder and the converter that reads it (DESIGN.md §6)."""

    name: str
    converter: str
    enabled: bool = True
    watch_folder: Path
    patterns: list[str] = Field(default_factory=list)  # empty = the converter's own patterns
    recursive: bool = False
    polling: bool = False  # poll instead of OS events (network shares have no events)
    post_action: PostAction = "move"
    done_folder: Path | None = None  # None = <watch_folder>/Done
    error_folder: Path | None = None  # None = <watch_folder>/Error
    mode: ConverterMode = "active"
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        text = _optional_text(value)
        if text is None:
            raise ValueError("must not be empty")
        return text

    @field_validator("converter")
    @classmethod
    def _converter_key(cls, value: str) -> str:
        key = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
            raise ValueError(f"{value!r} is not a converter name (e.g. wsjf)")
        return key

    @field_validator("watch_folder", "done_folder", "error_folder")
    @classmethod
    def _folders(cls, value: Path | None) -> Path | None:
        return _absolute_folder(value)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        patterns = [p.strip() for p in value]
        if any(not p for p in patterns):
            raise ValueError("patterns must not be empty strings")
        return patterns

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_parameters(value)

    @model_validator(mode="after")
    def _folders_apart(self) -> ConverterConfig:
        problems = [
            _FieldProblem((field,), "must not be the watch folder itself")
            for field, folder in (
                ("done_folder", self.done_folder),
                ("error_folder", self.error_folder),
            )
            if folder is not None and _same_folder(folder, self.watch_folder)
        ]
        _raise_problems(problems)
        return self

    def effective_done_folder(self) -> Path:
        return self.done_folder if self.done_folder is not None else self.watch_folder / "Done"

    def effective_error_folder(self) -> Path:
        return self.error_folder if self.error_folder is not None else self.watch_folder / "Error"


class StationConfig(_Section):
    """The whole of `config.json`."""

    schema_version: Literal[1] = Field(default=SCHEMA_VERSION, alias="schema")
    server: ServerConfig = Field(default_factory=ServerConfig)
    station: StationInfo = Field(default_factory=StationInfo)
    converters: list[ConverterConfig] = Field(default_factory=list)
    uploads: UploadsConfig = Field(default_factory=UploadsConfig)
    timers: TimersConfig = Field(default_factory=TimersConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    gui: GuiConfig = Field(default_factory=GuiConfig)
    secret_store: SecretStoreKind = "keyring"
    # Shifts, FPY targets and alarm rules of the yield dashboard. "yield" is a Python keyword,
    # so the field has another name; the file says "yield".
    yield_settings: YieldSettings = Field(
        default_factory=YieldSettings,
        alias="yield",
        validation_alias=AliasChoices("yield", "yield_settings"),
    )

    # Names of the environment variables effective() applied; such a copy must not be saved.
    _applied_env: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("schema_version", mode="before")
    @classmethod
    def _known_schema(cls, value: object) -> object:
        number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
        if isinstance(number, int) and not isinstance(number, bool) and number > SCHEMA_VERSION:
            raise ValueError(
                f"this file has schema {number}, written by a newer WATS Station; this version "
                f"reads schema {SCHEMA_VERSION}"
            )
        return value

    @model_validator(mode="after")
    def _converters_apart(self) -> StationConfig:
        problems: list[_FieldProblem] = []
        names: dict[str, int] = {}
        watched: list[tuple[int, Path]] = []
        for index, conv in enumerate(self.converters):
            key = conv.name.casefold()
            if key in names:
                problems.append(
                    _FieldProblem(
                        ("converters", index, "name"),
                        f"{conv.name!r} is already the name of converters[{names[key]}]",
                    )
                )
            else:
                names[key] = index
            for other, folder in watched:
                if _same_folder(conv.watch_folder, folder):
                    problems.append(
                        _FieldProblem(
                            ("converters", index, "watch_folder"),
                            f"{str(conv.watch_folder)!r} is already watched by converters[{other}]",
                        )
                    )
            watched.append((index, conv.watch_folder))
        for index, conv in enumerate(self.converters):
            for other, other_conv in enumerate(self.converters):
                if other == index:
                    continue
                for label, folder in (
                    ("Done", other_conv.effective_done_folder()),
                    ("Error", other_conv.effective_error_folder()),
                ):
                    if _same_folder(conv.watch_folder, folder):
                        problems.append(
                            _FieldProblem(
                                ("converters", index, "watch_folder"),
                                f"is the {label} folder of converters[{other}] "
                                "(its processed files would be converted again)",
                            )
                        )
        _raise_problems(problems)
        return self

    @property
    def applied_env_overrides(self) -> tuple[str, ...]:
        return self._applied_env

    def converter_named(self, name: str) -> ConverterConfig | None:
        key = name.strip().casefold()
        return next((c for c in self.converters if c.name.casefold() == key), None)

    def to_json_dict(self) -> dict[str, Any]:
        """The file form: aliases ("schema"), paths as strings, unknown keys included."""
        return self.model_dump(mode="json", by_alias=True)


# ---------------------------------------------------------------- validation errors


def _render_loc(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One readable line per problem, each starting with the field's dotted name."""
    lines: list[str] = []
    for error in exc.errors():
        loc: tuple[str | int, ...] = tuple(error["loc"])
        message = str(error["msg"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, _FieldProblem):
            if not cause.loc:
                lines.extend(
                    line if not loc else f"{_render_loc(loc)}.{line}"
                    for line in cause.message.splitlines()
                )
                continue
            loc, message = loc + cause.loc, cause.message
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        lines.append(f"{_render_loc(loc)}: {message}" if loc else message)
    return lines


def validate_config(data: Any) -> StationConfig:
    """Build a StationConfig from parsed JSON; ConfigError names every bad field."""
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    try:
        return StationConfig.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        raise ConfigError("; ".join(problems), problems) from None


# ---------------------------------------------------------------- unknown keys


def unknown_keys(config: StationConfig) -> list[str]:
    """Dotted names of keys the model does not know (kept in the file, not used)."""
    return sorted(_unknown(config, ()))


def _unknown(model: BaseModel, loc: tuple[str | int, ...]) -> Iterator[str]:
    for key in model.model_extra or {}:
        yield _render_loc((*loc, key))
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _unknown(value, (*loc, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _unknown(item, (*loc, name, index))


# ---------------------------------------------------------------- dotted keys

_KEY_PART = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def parse_key(dotted_key: str) -> list[str | int]:
    """`converters[0].watch_folder` (or `converters.0.watch_folder`) → ["converters", 0, ...].

    A bracket may also hold a converter's name: `converters[ICT line 1].enabled`.
    """
    key = dotted_key.strip()
    parts: list[str | int] = []
    pos = 0
    while pos < len(key):
        if parts and key[pos] == ".":
            pos += 1
        match = _KEY_PART.match(key, pos)
        if match is None or match.end() == pos:
            raise ConfigError(f"{dotted_key!r} is not a setting name (e.g. server.url)")
        bracket, plain = match.groups()
        text = (bracket if bracket is not None else plain).strip()
        parts.append(int(text) if text.isdigit() else text)
        pos = match.end()
    if not parts:
        raise ConfigError("the setting name is empty (e.g. server.url)")
    return parts


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not NoneType]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _resolve(
    config: StationConfig, parts: list[str | int], dotted_key: str
) -> tuple[list[str | int], Any, bool]:
    """Concrete path (names, list indexes) of a key, the field's type and whether None is ok."""
    annotation: Any = StationConfig
    nullable = False
    path: list[str | int] = []
    node: Any = config.to_json_dict()
    for part in parts:
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field_name = _field_name(annotation, str(part))
            if field_name is None:
                if isinstance(node, dict) and str(part) in node:
                    annotation, nullable = Any, True  # an unknown key the file already has
                    path.append(str(part))
                    node = node[str(part)]
                    continue
                where = _render_loc(tuple(path)) or "the configuration"
                raise ConfigError(f"{dotted_key}: {where} has no setting {str(part)!r}")
            info = annotation.model_fields[field_name]
            key = info.alias or field_name
            annotation, nullable = _unwrap_optional(info.annotation)
            path.append(key)
            node = node.get(key) if isinstance(node, dict) else None
        elif origin is list:
            items = node if isinstance(node, list) else []
            index = _list_index(items, part, _render_loc(tuple(path)), dotted_key)
            annotation, nullable = _unwrap_optional(get_args(annotation)[0])
            path.append(index)
            node = items[index] if index < len(items) else None
        elif origin is dict:
            annotation, nullable = _parameter_type(str(part))
            path.append(str(part))
            node = node.get(str(part)) if isinstance(node, dict) else None
        else:
            raise ConfigError(f"{dotted_key}: {_render_loc(tuple(path))} has no sub-settings")
    return path, annotation, nullable


def _field_name(model: type[BaseModel], key: str) -> str | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name
    return None


def _list_index(items: list[Any], part: str | int, where: str, dotted_key: str) -> int:
    if isinstance(part, int):
        if part > len(items):
            count = f"{len(items)} entr{'y' if len(items) == 1 else 'ies'}"
            raise ConfigError(f"{dotted_key}: {where} has {count}, so there is no [{part}]")
        return part  # == len(items) appends a new entry
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("name", "")).casefold() == part.casefold():
            return index
    raise ConfigError(f"{dotted_key}: no entry in {where} is named {part!r}")


def _parameter_type(key: str) -> tuple[Any, bool]:
    if key in TEXT_PARAMETERS:
        return str, True
    if key == "fallback_process_code":
        return int, True
    if key == "validation_mode":
        return ValidationMode, True
    return Any, True


def _parse_raw(raw: str, annotation: Any, nullable: bool, dotted_key: str) -> Any:
    """Turn a command-line string into a value pydantic will check against the field type."""
    text = raw.strip()
    if nullable and text.lower() in ("", "none", "null"):
        return None
    origin = get_origin(annotation)
    structured = origin in (list, dict) or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    )
    if structured:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            if origin is list and get_args(annotation) == (str,):
                return [item.strip() for item in text.split(",") if item.strip()]
            raise ConfigError(f"{dotted_key}: expects JSON, e.g. {_json_example(origin)}") from None
    if annotation is Any:
        try:
            return json.loads(text)  # numbers, true/false, lists; anything else stays text
        except json.JSONDecodeError:
            return raw
    if annotation is str:
        return raw
    return text


def _json_example(origin: Any) -> str:
    return '["*.json", "*.txt"]' if origin is list else '{"key": "value"}'


def value_at(config: StationConfig, dotted_key: str) -> Any:
    """The value of one setting in its JSON form (unknown keys the file has can be read too)."""
    path, _, _ = _resolve(config, parse_key(dotted_key), dotted_key)
    node: Any = config.to_json_dict()
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError(f"{dotted_key}: there is no such entry")
            node = node[part]
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def with_value(config: StationConfig, dotted_key: str, raw: str) -> StationConfig:
    """A new config with one setting changed from its command-line text, fully validated."""
    path, annotation, nullable = _resolve(config, parse_key(dotted_key), dotted_key)
    value = _parse_raw(raw, annotation, nullable, dotted_key)
    data = config.to_json_dict()
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    else:
        node[last] = value
    return validate_config(data)


# ---------------------------------------------------------------- environment overrides


@dataclass(frozen=True)
class EnvOverride:
    variable: str
    key: str
    meaning: str


ENV_OVERRIDES: tuple[EnvOverride, ...] = (
    EnvOverride("WATS_STATION_SERVER_URL", "server.url", "WATS server URL"),
    EnvOverride("WATS_STATION_PROXY", "server.proxy", "proxy URL"),
    EnvOverride("WATS_STATION_VERIFY_TLS", "server.verify_tls", "verify the server certificate"),
    EnvOverride("WATS_STATION_CA_BUNDLE", "server.ca_bundle", "extra CA certificates (PEM file)"),
    EnvOverride("WATS_STATION_STATION_NAME", "station.name", "station name"),
    EnvOverride("WATS_STATION_STATION_LOCATION", "station.location", "station location"),
    EnvOverride("WATS_STATION_STATION_PURPOSE", "station.purpose", "station purpose"),
    EnvOverride("WATS_STATION_UPLOADS_PAUSED", "uploads.paused", "start with uploads paused"),
    EnvOverride("WATS_STATION_UPLOADS_CONCURRENCY", "uploads.concurrency", "uploads in flight"),
    EnvOverride("WATS_STATION_SECRET_STORE", "secret_store", "where the token is kept"),
)

# Read by app.core.secrets, listed here so `config show` and the docs have one table.
SECRET_ENV = {
    "WATS_STATION_TOKEN": "server token (wins over the stored one)",
    "WATS_STATION_PROXY_PASSWORD": "proxy password (wins over the stored one)",
}


def overrides_in_effect(environ: Mapping[str, str] | None = None) -> list[EnvOverride]:
    """The overrides (including the secret ones) whose variable is set to a non-empty value."""
    env = os.environ if environ is None else environ
    active = [o for o in ENV_OVERRIDES if env.get(o.variable, "").strip()]
    active += [
        EnvOverride(name, "(secret)", meaning)
        for name, meaning in SECRET_ENV.items()
        if env.get(name, "").strip()
    ]
    return active


def effective(config: StationConfig, environ: Mapping[str, str] | None = None) -> StationConfig:
    """A copy of `config` with the WATS_STATION_* overrides applied (never to be saved).

    A variable set to an empty string counts as not set. A bad value raises ConfigError
    naming the variable.
    """
    env = os.environ if environ is None else environ
    result = config.model_copy(deep=True)
    applied: list[str] = []
    for override in ENV_OVERRIDES:
        raw = env.get(override.variable, "")
        if not raw.strip():
            continue
        try:
            result = with_value(result, override.key, raw)
        except ConfigError as exc:
            problems = [f"{override.variable}: {p}" for p in exc.problems]
            raise ConfigError("; ".join(problems), problems) from None
        applied.append(override.variable)
    result._applied_env = tuple(applied)
    return result


def converter_parameters(config: StationConfig, converter: ConverterConfig) -> dict[str, Any]:
    """The parameters one converter runs with: station defaults, then its own settings."""
    params: dict[str, Any] = {
        "fallback_process_code": DEFAULT_PROCESS_CODE,
        "station": config.station.name,
        "location": config.station.location,
        "purpose": config.station.purpose,
        "validation_mode": config.pipeline.validation_mode,
    }
    params.update({k: v for k, v in converter.parameters.items() if v is not None})
    return params


def proxy_with_password(proxy: str | None, password: str | None) -> str | None:
    """The proxy URL with the stored password inserted after its user name, if it has one."""
    if proxy is None or not password:
        return proxy
    parts = urlsplit(proxy)
    if not parts.username:
        return proxy
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}"
    return parts._replace(netloc=netloc).geturl()
