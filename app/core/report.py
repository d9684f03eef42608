"""WSJF test (UUT) and repair (UUR) reports: the model every converter produces (wats-api.md §3).

Reading is lenient, writing is strict:

- `parse_report` accepts what real testers and servers write (letters in any case, C#
  operator codes, odd date forms, numbers as strings, missing operators, pyWATS asset and
  loop names) and raises `ReportError` with the path of the first bad field.
- `to_wsjf` / `to_json` write camelCase keys exactly as §3, omit None, write statuses as
  letters, operators as names, `start` with its offset and `startUTC` in UTC with a `Z`.
  Fields the server only ever *sends* (`origin`, `productName`, `processCodeFormat`,
  `assetStats`, `refUURs`) are read but never written.

Field names are snake_case in Python and camelCase on the wire; models accept either.
Python code builds reports with the classes directly, e.g. `UUTReport(pn=..., root=Step(...))`.
Fixes that change data (a fresh id, dates before 1970) are explicit functions, never a side
effect of parsing: `ensure_id`, `replace_invalid_dates`.
"""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from app.core.report_errors import ReportError, error_from_validation
from app.core.report_types import (
    CompOp,
    LenientBool,
    LenientCompOp,
    LenientGroup,
    LenientMeasurementStatus,
    LenientResult,
    LenientStepStatus,
    LocalDateTime,
    NullIsEmpty,
    OptionalFloat,
    OptionalInt,
    OptionalInt16,
    OptionalUUID,
    ReportType,
    UtcDateTime,
    as_utc,
    in_station_zone,
)

__all__ = [
    "AdditionalData",
    "AdditionalDataArray",
    "AdditionalDataArrayIndex",
    "AdditionalDataProperty",
    "Asset",
    "Attachment",
    "BinaryData",
    "BooleanMeasurement",
    "CallExe",
    "Chart",
    "ChartSeries",
    "CompOp",
    "Failure",
    "LoopInfo",
    "MessagePopup",
    "MiscInfo",
    "NumericMeasurement",
    "Report",
    "ReportBase",
    "ReportError",
    "SequenceCall",
    "Step",
    "StringMeasurement",
    "SubUnit",
    "UURInfo",
    "UURReport",
    "UUTInfo",
    "UUTReport",
    "ensure_id",
    "iter_steps",
    "number_steps",
    "parse_report",
    "replace_invalid_dates",
]


class WsjfModel(BaseModel):
    """Shared settings: camelCase aliases, snake_case names accepted too, unknown keys dropped."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        # Unknown keys are not sent on: the server would reject what it does not know.
        extra="ignore",
        # sn 12345 written as a number is still the serial number "12345".
        coerce_numbers_to_str=True,
        # The C# model's measured value is a non-nullable double: NaN must survive as "NaN".
        ser_json_inf_nan="strings",
    )


# ---------------------------------------------------------------- step payloads


class NumericMeasurement(WsjfModel):
    """One numeric limit measurement. Single-limit operators keep their limit in `low_limit`."""

    name: str | None = None
    status: LenientMeasurementStatus | None = None
    value: OptionalFloat = None
    unit: str | None = None
    comp_op: LenientCompOp = CompOp.LOG
    low_limit: OptionalFloat = None
    high_limit: OptionalFloat = None
    value_format: str | None = None
    low_limit_format: str | None = None
    high_limit_format: str | None = None


class BooleanMeasurement(WsjfModel):
    """A pass/fail measurement: its status is the verdict (Active mode keeps it)."""

    name: str | None = None
    status: LenientMeasurementStatus | None = None


class StringMeasurement(WsjfModel):
    """A string value compared with `limit` by CASESENSIT, IGNORECASE or LOG."""

    name: str | None = None
    status: LenientMeasurementStatus | None = None
    value: str | None = None
    comp_op: LenientCompOp = CompOp.LOG
    limit: str | None = None


class LoopInfo(WsjfModel):
    """Loop summary (`num`, `ending_index`, `passed`, `failed`) or one iteration (`idx`)."""

    # pyWATS writes i/n; the server knows only idx/num.
    idx: OptionalInt16 = Field(default=None, validation_alias=AliasChoices("idx", "i"))
    num: OptionalInt16 = Field(default=None, validation_alias=AliasChoices("num", "n"))
    ending_index: OptionalInt16 = None
    passed: OptionalInt16 = None
    failed: OptionalInt16 = None


class SequenceCall(WsjfModel):
    path: str | None = None
    name: str | None = None
    version: str | None = None


class ChartSeries(WsjfModel):
    """One series; `xdata`/`ydata` are ";"-separated numbers with "." as decimal point."""

    data_type: str | None = "XYG"
    name: str | None = None
    xdata: str | None = None
    ydata: str | None = None


class Chart(WsjfModel):
    chart_type: str | None = None
    label: str | None = None
    x_label: str | None = None
    x_unit: str | None = None
    y_label: str | None = None
    y_unit: str | None = None
    series: Annotated[list[ChartSeries], NullIsEmpty] = Field(default_factory=list)


class Attachment(WsjfModel):
    """A step's single attachment; `data` is base64."""

    name: str | None = None
    content_type: str | None = None
    data: str | None = None


class CallExe(WsjfModel):
    exit_code: OptionalFloat = None
    exit_code_format: str | None = None


class MessagePopup(WsjfModel):
    response: str | None = None
    button: OptionalInt16 = None
    button_format: str | None = None


class AdditionalDataArrayIndex(WsjfModel):
    text: str | None = None
    indexes: list[int] | None = None
    value: AdditionalDataProperty | None = None


class AdditionalDataArray(WsjfModel):
    dimension: int = 1
    type: str | None = None
    indexes: list[AdditionalDataArrayIndex] | None = None


class AdditionalDataProperty(WsjfModel):
    """A typed property; `props` nests sub-properties (type Obj), `array` holds an array."""

    name: str | None = None
    type: str | None = None
    flags: OptionalInt = None
    value: str | None = None
    num_format: str | None = None
    comment: str | None = None
    props: list[AdditionalDataProperty] | None = None
    array: AdditionalDataArray | None = None


AdditionalDataArrayIndex.model_rebuild()


class AdditionalData(WsjfModel):
    """Free-form structured data: `additionalData` on a report, `additionalResults` on a step."""

    name: str | None = None
    props: Annotated[list[AdditionalDataProperty], NullIsEmpty] = Field(default_factory=list)


class Step(WsjfModel):
    """One step of the test tree. Any `step_type` is accepted; payloads are all optional.

    `status` None means "not given": Active mode computes it (wats-api.md §3.5).
    """

    id: OptionalInt = None
    group: LenientGroup = "M"
    step_type: str | None = None
    name: str | None = None
    status: LenientStepStatus | None = None
    start: LocalDateTime | None = None
    tot_time: OptionalFloat = None
    tot_time_format: str | None = None
    error_code: OptionalInt = None
    error_code_format: str | None = None
    error_message: str | None = None
    report_text: str | None = None
    ts_guid: str | None = None
    caused_uut_failure: LenientBool = Field(default=False, alias="causedUUTFailure")
    caused_seq_failure: bool | None = None
    interactive_exe_num: OptionalInt = None
    interactive_exe_num_format: str | None = None
    loop: LoopInfo | None = None
    seq_call: SequenceCall | None = None
    numeric_meas: list[NumericMeasurement] | None = None
    boolean_meas: list[BooleanMeasurement] | None = None
    string_meas: list[StringMeasurement] | None = None
    chart: Chart | None = None
    attachment: Attachment | None = None
    call_exe: CallExe | None = None
    message_popup: MessagePopup | None = None
    additional_results: list[AdditionalData] | None = None
    steps: list[Step] | None = None

    @property
    def has_measurements(self) -> bool:
        return bool(self.numeric_meas or self.boolean_meas or self.string_meas)


# ---------------------------------------------------------------- header parts


class MiscInfo(WsjfModel):
    """A free header value: exports fill `text` or `numeric`."""

    description: str | None = None
    text: str | None = None
    numeric: OptionalInt16 = None
    numeric_format: str | None = None
    typedef: str | None = None
    id: OptionalUUID = None


class BinaryData(WsjfModel):
    """A base64 attachment on a repair report or one of its failures."""

    content_type: str | None = None
    data: str | None = None
    name: str | None = None
    id: OptionalUUID = None


class Failure(WsjfModel):
    """A repair finding; `category`/`code` come from the repair process's fail-code tree."""

    category: str | None = None
    code: str | None = None
    comment: str | None = None
    com_ref: str | None = None
    func_block: str | None = None
    ref_step_id: OptionalInt = None
    ref_step_name: str | None = None
    art_number: str | None = None
    art_rev: str | None = None
    art_vendor: str | None = None
    art_description: str | None = None
    attachments: list[BinaryData] | None = None


class SubUnit(WsjfModel):
    """A sub-unit. Repair reports add the tree (`idx`, `parent_idx`, …) and `failures`."""

    part_type: str | None = None
    pn: str | None = None
    rev: str | None = None
    sn: str | None = None
    idx: OptionalInt = None
    parent_idx: OptionalInt = None
    position: OptionalInt16 = None
    replaced_idx: OptionalInt = None
    failures: list[Failure] | None = None


class Asset(WsjfModel):
    """Test equipment used. Reads the official and the pyWATS names, writes the official."""

    asset_sn: str | None = Field(
        default=None,
        validation_alias=AliasChoices("assetSN", "asset_sn", "sn"),
        serialization_alias="assetSN",
    )
    usage_count: OptionalInt = None
    usage_count_format: str | None = None
    # pyWATS-only fields: readable here, never sent (the server's Asset has no such keys).
    asset_type: str | None = Field(default=None, exclude=True)
    part_number: str | None = Field(default=None, exclude=True)


class UUTInfo(WsjfModel):
    """The `uut` object of a test report."""

    user: str | None = None
    comment: str | None = None
    exec_time: OptionalFloat = None
    exec_time_format: str | None = None
    test_socket_index: OptionalInt16 = None
    test_socket_index_format: str | None = None
    fixture_id: str | None = None
    batch_sn: str | None = Field(default=None, alias="batchSN")
    batch_fail_count: OptionalInt = None
    batch_fail_count_format: str | None = None
    batch_loop_index: OptionalInt = None
    batch_loop_index_format: str | None = None
    error_code: OptionalInt = None
    error_code_format: str | None = None
    error_message: str | None = None
    step_id_caused_uut_failure: OptionalInt = Field(default=None, alias="stepIdCausedUUTFailure")
    ref_uurs: list[Any] | None = Field(default=None, alias="refUURs", exclude=True)


class UURInfo(WsjfModel):
    """The `uur` object of a repair report; `process_code` is the *test* operation."""

    user: str | None = None
    comment: str | None = None
    process_code: OptionalInt16 = None
    process_name: str | None = None
    ref_uut: OptionalUUID = Field(default=None, alias="refUUT")
    confirm_date: UtcDateTime | None = None
    finalize_date: UtcDateTime | None = None
    exec_time: OptionalFloat = None
    parent: OptionalUUID = None
    children: list[uuid.UUID] | None = None
    process_code_format: str | None = Field(default=None, exclude=True)


# ---------------------------------------------------------------- reports


class ReportBase(WsjfModel):
    """Header fields shared by test and repair reports (wats-api.md §3.1)."""

    type: ReportType
    # None until `ensure_id` gives it one; the id is the server's upsert key (§6.1).
    id: OptionalUUID = None
    pn: str
    sn: str
    rev: str
    process_code: OptionalInt16 = None
    process_name: str | None = None
    # None until Active mode computes it (or the caller sets it).
    result: LenientResult | None = None
    # Optional on input only because every station has a default name (DESIGN.md §5) that
    # the pipeline fills in; the server requires it.
    machine_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    start: LocalDateTime | None = None
    start_utc: UtcDateTime | None = Field(default=None, alias="startUTC")
    misc_infos: Annotated[list[MiscInfo], NullIsEmpty] = Field(default_factory=list)
    sub_units: Annotated[list[SubUnit], NullIsEmpty] = Field(default_factory=list)
    assets: Annotated[list[Asset], NullIsEmpty] = Field(default_factory=list)
    binary_data: Annotated[list[BinaryData], NullIsEmpty] = Field(default_factory=list)
    additional_data: Annotated[list[AdditionalData], NullIsEmpty] = Field(default_factory=list)
    # Output-only: the server fills these on export and ignores them on submit.
    origin: str | None = Field(default=None, exclude=True)
    product_name: str | None = Field(default=None, exclude=True)
    process_code_format: str | None = Field(default=None, exclude=True)
    asset_stats: list[Any] | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _required_alternatives(self) -> ReportBase:
        # The server needs a start time and a process; either field of each pair will do.
        if self.start is None and self.start_utc is None:
            raise ValueError("start: field required")
        if self.process_code is None and not self.process_name:
            raise ValueError("processCode: field required")
        return self

    def start_times(self) -> tuple[datetime, datetime]:
        """(`start` with its offset, `startUTC` in UTC), deriving whichever is missing.

        A start known only in UTC is shown in this station's zone.
        """
        start, start_utc = self.start, self.start_utc
        if start is None and start_utc is None:
            raise ReportError("field required", field="start")
        if start is None:
            assert start_utc is not None
            start = in_station_zone(start_utc)
        return start, as_utc(start_utc if start_utc is not None else start)

    def to_wsjf(self) -> dict[str, Any]:
        """The report as the WSJF dict the server accepts (JSON types only)."""
        result: dict[str, Any] = json.loads(self.to_json())
        return result

    def to_json(self) -> bytes:
        """The report as a WSJF document, UTF-8 JSON."""
        return self._for_output().model_dump_json(by_alias=True, exclude_none=True).encode()

    def _for_output(self) -> ReportBase:
        start, start_utc = self.start_times()
        if start is self.start and start_utc is self.start_utc:
            return self
        # A shallow copy: only the two start fields differ from the report itself.
        return self.model_copy(update={"start": start, "start_utc": start_utc})


class UUTReport(ReportBase):
    """A test report: `root` is the step tree (a SequenceCall, usually "MainSequence Callback")."""

    type: Literal["T"] = "T"
    root: Step
    uut: UUTInfo = Field(default_factory=UUTInfo)


class UURReport(ReportBase):
    """A repair report. Top-level `process_code` is the repair operation (e.g. 500)."""

    type: Literal["R"] = "R"
    uur: UURInfo = Field(default_factory=UURInfo)


Report = Annotated[UUTReport | UURReport, Field(discriminator="type")]
"""A WSJF report of either type, chosen by its `type` letter."""

_REPORT = TypeAdapter[UUTReport | UURReport](Report)

# ---------------------------------------------------------------- parsing


def parse_report(data: bytes | str | Mapping[str, Any]) -> UUTReport | UURReport:
    """Read a WSJF report (a JSON document or an already decoded mapping).

    Raises `ReportError` naming the first bad field. The id is kept as given: a missing,
    empty or all-zero id reads as None (see `ensure_id`).
    """
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            raw = bytes(data)
            if raw.startswith(b"\xef\xbb\xbf"):  # Windows tools write a UTF-8 BOM
                raw = raw[3:]
            with _no_gc_pauses(len(raw)):
                return _REPORT.validate_json(raw)
        if isinstance(data, str):
            with _no_gc_pauses(len(data)):
                return _REPORT.validate_json(data.removeprefix("\ufeff"))
        return _REPORT.validate_python(dict(data))
    except ValidationError as exc:
        retried = _retry_with_type_letter_upper(data, exc)
        if retried is not None:
            return retried
        raise error_from_validation(exc) from None


_LARGE_DOCUMENT = 256 * 1024


@contextmanager
def _no_gc_pauses(size: int) -> Iterator[None]:
    # Building tens of thousands of models triggers the cyclic collector over and over, which
    # costs up to half the parse time of a large report; the models hold no reference cycles,
    # so the collector has nothing to find until we are done. Restores the previous state.
    if size < _LARGE_DOCUMENT or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _retry_with_type_letter_upper(
    data: bytes | str | Mapping[str, Any], exc: ValidationError
) -> UUTReport | UURReport | None:
    # A lower-case "t"/"r" fails the discriminator before any validator runs; this rare case
    # takes the slow path instead of slowing every parse with a Python discriminator.
    first = exc.errors(include_url=False)[0]
    if first["type"] != "union_tag_invalid":
        return None
    tag = first["ctx"].get("tag") if first.get("ctx") else None
    if not isinstance(tag, str) or tag.strip().upper() not in ("T", "R"):
        return None
    try:
        mapping = dict(data) if isinstance(data, Mapping) else json.loads(data)
    except ValueError:
        return None
    if not isinstance(mapping, dict):
        return None
    mapping["type"] = tag.strip().upper()
    try:
        return _REPORT.validate_python(mapping)
    except ValidationError as again:
        raise error_from_validation(again) from None


# ---------------------------------------------------------------- tree and fixes


def iter_steps(root: Step) -> Iterator[tuple[Step, tuple[str, ...]]]:
    """Every step under and including `root`, depth first, with its path of step names.

    The path starts with the root's name: ("MainSequence Callback", "Power rails", "Idle").
    """
    stack: list[tuple[Step, tuple[str, ...]]] = [(root, (root.name or "",))]
    while stack:
        step, path = stack.pop()
        yield step, path
        if step.steps:
            stack.extend((child, (*path, child.name or "")) for child in reversed(step.steps))


def number_steps(root: Step, first_id: int = 0) -> None:
    """Give every step a fresh `id` in tree order (root = `first_id`), as §3.3 requires."""
    for number, (step, _path) in enumerate(iter_steps(root), start=first_id):
        step.id = number


def ensure_id(report: UUTReport | UURReport, new_id: uuid.UUID | None = None) -> None:
    """Give a report without an id (missing, empty or all zeros) `new_id`, or a fresh uuid4.

    Converters pass a deterministic id (DESIGN.md §3) so a re-converted file upserts the
    same report instead of duplicating it. A report that has an id keeps it.
    """
    if report.id is None or report.id.int == 0:
        report.id = new_id if new_id is not None else uuid.uuid4()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def replace_invalid_dates(report: UUTReport | UURReport, submit_time: datetime) -> list[str]:
    """Apply the server's date rule before submitting (wats-api.md §6.5).

    Dates before 1970 are invalid. The report's start (both `start` and `startUTC`) becomes
    `submit_time` (an aware datetime); optional dates before 1970 (a step's start, a repair's
    confirm/finalize date) are removed rather than invented. Returns the WSJF paths changed.
    """
    if submit_time.utcoffset() is None:
        raise ValueError("submit_time must be timezone-aware")
    changed: list[str] = []
    if any(_before_1970(value) for value in (report.start, report.start_utc)):
        report.start = submit_time
        report.start_utc = as_utc(submit_time)
        changed.append("start")
    if isinstance(report, UURReport):
        if _before_1970(report.uur.confirm_date):
            report.uur.confirm_date = None
            changed.append("uur.confirmDate")
        if _before_1970(report.uur.finalize_date):
            report.uur.finalize_date = None
            changed.append("uur.finalizeDate")
    else:
        for step, path in iter_steps(report.root):
            if _before_1970(step.start):
                step.start = None
                changed.append("/".join(path) + ": start")
    return changed


def _before_1970(value: datetime | None) -> bool:
    if value is None:
        return False
    # Decide far-off years without arithmetic: offsets at datetime.min would overflow.
    if value.year not in (1969, 1970):
        return value.year < 1970
    return value.replace(tzinfo=value.tzinfo or UTC) < _EPOCH
