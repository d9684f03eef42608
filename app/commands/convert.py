"""`wats-station convert FILE`: convert one tester file here and now, to look at or to save.

Runs the converter and the same finishing steps as the worker (ids, fallbacks, text limits,
Active-mode verdicts) in this process: no worker, no queue, no server. It says which
converter it chose and why, and prints one summary line per report; `--show` adds the step
tree, `--out` writes the WSJF (one report: an object; several: an array).

`--converter` takes a converter's name (built-in or plug-in) or the name of a converter
configured in the instance, whose parameters and mode then apply. `--param KEY=VALUE`
overrides a parameter (repeatable); values of number, yes/no and mapping parameters are
read as such, mappings as JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.commands.exitcodes import EPILOG, Exit

if TYPE_CHECKING:
    from app.converters.base import Converter, Report
    from app.core.config import ConverterConfig, StationConfig
    from app.core.paths import InstancePaths


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a tester result file and show or save the WATS reports",
        description=(
            "Convert one result file with a converter (chosen from the file name and content "
            "unless --converter says which), finish the reports as the worker would (ids, "
            "fallbacks, text limits, Active-mode verdicts) and print a summary. Nothing is "
            "queued or sent."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the result file to convert")
    parser.add_argument(
        "--converter",
        metavar="NAME",
        help="converter name (e.g. table, wsjf, a plug-in) or a converter configured in the "
        "instance; default: detect it from the file name and content",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="print each report's step tree with values, limits, units and verdicts",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write the reports as WSJF to FILE ('-' for standard output)",
    )
    parser.add_argument(
        "--mode",
        choices=("active", "import"),
        help="active: compute verdicts from limits (default); import: keep the file's statuses",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a converter parameter, e.g. --param culture=de-DE or "
        '--param \'columns={"value": "Reading"}\' (repeatable)',
    )
    parser.add_argument(
        "--instance",
        metavar="NAME",
        default="default",
        help='the instance whose plug-ins, station name and converters apply (default "default")',
    )
    parser.set_defaults(handler=run)


class _Stop(Exception):
    """Ends the command with an exit code after its message was printed."""

    def __init__(self, code: Exit, message: str) -> None:
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    # With --out - the reports go to stdout, so everything else goes to stderr.
    info = sys.stderr if args.out == "-" else sys.stdout
    try:
        return _run(args, info)
    except _Stop as stop:
        print(f"error: {stop}", file=sys.stderr)
        return int(stop.code)


def _run(args: argparse.Namespace, info: TextIO) -> int:
    import hashlib
    import io

    from app.converters.base import ConversionError, ConverterParameters, ConverterSource
    from app.converters.finalize import finalize_reports
    from app.converters.registry import all_converters
    from app.core.paths import InstanceNameError, InstancePaths
    from app.core.report import ReportError

    try:
        paths = InstancePaths.for_instance(args.instance)
    except InstanceNameError as exc:
        raise _Stop(Exit.USAGE, str(exc)) from None
    overrides = _parse_params(args.param)
    config = _load_config(paths)
    converters, problems = all_converters([paths.plugin_dir])
    for problem in problems:
        print(f"warning: plug-in {problem}", file=sys.stderr)
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Stop(Exit.INVALID_INPUT, f"cannot read {path}: {exc.strerror or exc}") from None
    converter_class, reason, configured = _choose(args.converter, path, converters, config)
    print(f"converter: {converter_class.name} {converter_class.version} ({reason})", file=info)
    values = _base_parameters(config, configured)
    values.update(_typed(overrides, converter_class))
    mode = args.mode or (configured.mode if configured is not None else "active")
    try:
        params = ConverterParameters.from_mapping(values, mode=mode)
    except ConversionError as exc:
        raise _Stop(Exit.INVALID_INPUT, str(exc)) from None
    try:
        converter = converter_class()
        source = ConverterSource(path, io.BytesIO(data), params)
        reports = converter.convert(source)
        if not reports:
            raise ConversionError("the converter found no report in the file")
        reports = finalize_reports(
            reports,
            converter=converter,
            params=params,
            file_sha256=hashlib.sha256(data).hexdigest(),
            station_default=config.station.name,
        )
    except ConversionError as exc:
        raise _Stop(
            Exit.INVALID_INPUT, f"{path}: cannot convert with {converter_class.name}: {exc}"
        ) from None
    except ReportError as exc:
        raise _Stop(Exit.INVALID_INPUT, f"{path}: the report is not valid: {exc}") from None
    except Exception as exc:
        # A converter bug (often a plug-in's): say what it was, without a traceback.
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise _Stop(
            Exit.FAILED, f"{path}: the converter {converter_class.name} failed: {detail}"
        ) from None
    _print_reports(reports, show=args.show, info=info)
    if args.out:
        _write(reports, args.out, info)
    return int(Exit.OK)


def _parse_params(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _Stop(Exit.USAGE, f"--param {item!r}: write it as KEY=VALUE")
        values[key.strip()] = value
    return values


def _typed(overrides: dict[str, str], converter: type[Converter]) -> dict[str, Any]:
    """Command-line values as the parameter's kind wants them (mappings from JSON)."""
    import json

    from app.converters._numbers import parse_bool

    kinds = {spec.key: spec.kind for spec in converter.parameter_specs()}
    typed: dict[str, Any] = {}
    for key, raw in overrides.items():
        kind = kinds.get(key)
        try:
            if kind == "int":
                typed[key] = int(raw)
            elif kind == "float":
                typed[key] = float(raw)
            elif kind == "bool":
                typed[key] = parse_bool(raw)
            elif kind == "mapping" or (kind is None and raw.strip()[:1] in ("{", "[")):
                typed[key] = json.loads(raw) if raw.strip() else {}
            else:
                typed[key] = raw
        except ValueError as exc:
            raise _Stop(
                Exit.USAGE, f"--param {key}: {raw!r} is not a valid {kind or 'JSON'} value ({exc})"
            ) from None
    return typed


def _load_config(paths: InstancePaths) -> StationConfig:
    """The instance's configuration in effect; defaults (with a warning) if it cannot be read."""
    from app.core.config import ConfigError, StationConfig, effective
    from app.core.config_store import ConfigStore

    store = ConfigStore(paths)
    try:
        # Reading a missing config would create its folder: a dry run leaves no trace.
        return effective(store.load() if store.exists() else StationConfig())
    except ConfigError as exc:
        print(f"warning: the configuration is not used: {exc}", file=sys.stderr)
        return StationConfig()


def _choose(
    name: str | None,
    path: Path,
    converters: dict[str, type[Converter]],
    config: StationConfig,
) -> tuple[type[Converter], str, ConverterConfig | None]:
    """(converter class, why it was chosen, the configured converter entry or None)."""
    from app.converters.detect import DetectionError, detect

    if name is None:
        try:
            found, reason = detect(path, converters)
        except DetectionError as exc:
            raise _Stop(Exit.INVALID_INPUT, str(exc)) from None
        return found, f"detected: {reason}", None
    if name in converters:
        return converters[name], "chosen with --converter", None
    configured = config.converter_named(name)
    if configured is not None:
        found_class = converters.get(configured.converter)
        if found_class is None:
            raise _Stop(
                Exit.USAGE,
                f"the configured converter {configured.name!r} uses {configured.converter!r}, "
                f"which is not available; known converters: {', '.join(sorted(converters))}",
            )
        return found_class, f"configured converter {configured.name!r}", configured
    configured_names = [entry.name for entry in config.converters]
    known = ", ".join(sorted(converters))
    extra = f"; configured: {', '.join(configured_names)}" if configured_names else ""
    raise _Stop(Exit.USAGE, f"no converter named {name!r}; known converters: {known}{extra}")


def _base_parameters(config: StationConfig, configured: ConverterConfig | None) -> dict[str, Any]:
    from app.core.config import DEFAULT_PROCESS_CODE, converter_parameters

    if configured is not None:
        return converter_parameters(config, configured)
    return {
        "fallback_process_code": DEFAULT_PROCESS_CODE,
        "station": config.station.name,
        "location": config.station.location,
        "purpose": config.station.purpose,
        "validation_mode": config.pipeline.validation_mode,
    }


def _print_reports(reports: list[Report], *, show: bool, info: TextIO) -> None:
    from app.commands.report_tree import render_report, report_summary

    count = len(reports)
    for index, report in enumerate(reports, start=1):
        print(report_summary(report, index, count), file=info)
        if show:
            print(render_report(report), file=info)
            print(file=info)


def _write(reports: list[Report], out: str, info: TextIO) -> None:
    payloads = [report.to_json() for report in reports]
    data = payloads[0] if len(payloads) == 1 else b"[" + b",".join(payloads) + b"]"
    if out == "-":
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.buffer.flush()
        return
    target = Path(out)
    try:
        target.write_bytes(data + b"\n")
    except OSError as exc:
        raise _Stop(Exit.FAILED, f"cannot write {target}: {exc.strerror or exc}") from None
    noun = "report" if len(reports) == 1 else "reports"
    print(f"wrote {len(reports)} {noun} as WSJF to {target}", file=info)
