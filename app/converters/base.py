"""The converter contract (DESIGN.md §6).

A converter turns one result file into one or more WATS reports. It is pure domain code: no Qt,
no network, no writing files. The worker runs it in a separate process with a timeout, so a
converter may be slow or even crash without harming the worker; but it should raise
`ConversionError` with a readable reason for any input it cannot read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from app.core.report import UURReport, UUTReport

ConverterMode = Literal["active", "import"]
ValidationMode = Literal["reject", "truncate"]


class ConversionError(Exception):
    """The file cannot be converted. `str()` is the reason an operator reads in the Error folder."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True)
class ParameterSpec:
    """One converter parameter, described so the GUI can show an editor for it."""

    key: str
    label: str
    kind: Literal["str", "int", "float", "bool", "choice", "mapping"] = "str"
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""


# Parameters every converter honours (issue: "common converter parameters").
COMMON_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("fallback_pn", "Part number if the file has none"),
    ParameterSpec("fallback_rev", "Revision if the file has none"),
    ParameterSpec("fallback_process_code", "Process code if the file has none", "int", 10),
    ParameterSpec("operator", "Operator if the file has none"),
    ParameterSpec("station", "Station name if the file has none (default: this station)"),
    ParameterSpec("location", "Location if the file has none"),
    ParameterSpec("purpose", "Purpose if the file has none"),
    ParameterSpec(
        "culture",
        "Number and date culture",
        "choice",
        "invariant",
        ("invariant", "en-US", "de-DE", "fr-FR", "nb-NO", "sv-SE"),
    ),
    ParameterSpec("encoding", "File encoding", "str", "utf-8"),
    ParameterSpec(
        "validation_mode", "Over-long text", "choice", "truncate", ("truncate", "reject")
    ),
)


@dataclass(frozen=True)
class ConverterParameters:
    """Effective parameters of one conversion: common fallbacks plus converter-specific keys."""

    fallback_pn: str | None = None
    fallback_rev: str | None = None
    fallback_process_code: int = 10
    operator: str | None = None
    station: str | None = None
    location: str | None = None
    purpose: str | None = None
    culture: str = "invariant"
    encoding: str = "utf-8"
    validation_mode: ValidationMode = "truncate"
    mode: ConverterMode = "active"
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The server's process codes by lower-case process name, for files that name their
    # process but give no code (WSTF OperationTypeName, WSJF processName); filled by the worker
    # from the server's process list. Unknown names fall back to fallback_process_code.
    process_codes: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, mode: ConverterMode = "active"
    ) -> ConverterParameters:
        known = {f for f in cls.__dataclass_fields__ if f not in ("extra", "mode", "process_codes")}
        common = {k: v for k, v in values.items() if k in known and v not in (None, "")}
        extra = {k: v for k, v in values.items() if k not in known}
        if "fallback_process_code" in common:
            try:
                common["fallback_process_code"] = int(common["fallback_process_code"])
            except (TypeError, ValueError) as exc:
                raise ConversionError(
                    f"parameter fallback_process_code: {common['fallback_process_code']!r} "
                    "is not a whole number"
                ) from exc
        if common.get("validation_mode", "truncate") not in ("reject", "truncate"):
            raise ConversionError("parameter validation_mode: must be 'reject' or 'truncate'")
        return cls(mode=mode, extra=extra, **common)


@dataclass
class ConverterSource:
    """What a converter reads: the path (for names and dates), an open read-only stream."""

    path: Path
    stream: BinaryIO
    parameters: ConverterParameters = field(default_factory=ConverterParameters)

    def read_bytes(self) -> bytes:
        return self.stream.read()

    def read_text(self) -> str:
        """The whole file as text in the configured encoding, with a readable error if it is not."""
        data = self.read_bytes()
        encoding = self.parameters.encoding or "utf-8"
        if encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
            encoding = "utf-8-sig"  # tolerate a byte-order mark
        try:
            return data.decode(encoding)
        except LookupError as exc:
            raise ConversionError(f"unknown file encoding {encoding!r}") from exc
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConversionError(
                f"the file is not valid {encoding} text (byte 0x{data[exc.start]:02x} at "
                f"offset {exc.start}); set the converter's encoding parameter",
                line=line,
            ) from exc


Report = UUTReport | UURReport


class Converter(ABC):
    """Base class of every converter, built-in or plug-in."""

    name: ClassVar[str]
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = ""
    patterns: ClassVar[tuple[str, ...]] = ("*",)
    parameters: ClassVar[tuple[ParameterSpec, ...]] = ()
    # Whether statuses in the file are kept as they are ("import") whatever the configured mode.
    always_import: ClassVar[bool] = False

    @abstractmethod
    def convert(self, source: ConverterSource) -> list[Report]:
        """Read the file and return its reports; raise ConversionError for bad input."""

    def sniff(self, head: bytes) -> float:
        """Confidence 0..1 that `head` (the first few KiB of a file) is this converter's format."""
        return 0.0

    @classmethod
    def parameter_specs(cls) -> tuple[ParameterSpec, ...]:
        return COMMON_PARAMETERS + cls.parameters
