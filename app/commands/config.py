"""`wats-station config show|get|set|init`: read and change an instance's configuration.

The token is never printed: `show` only says whether one is set and where it is kept, and
`set token` reads it from standard input (or a hidden prompt) so it stays out of the shell
history.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit, usage
from app.commands.worker_client import instance_parent

if TYPE_CHECKING:
    from app.core.config import StationConfig
    from app.core.config_store import ConfigStore
    from app.core.paths import InstancePaths
    from app.core.secrets import SecretName

SECRET_KEYS: dict[str, SecretName] = {
    "token": "token",
    "server.token": "token",
    "proxy-password": "proxy-password",
    "proxy_password": "proxy-password",
    "server.proxy_password": "proxy-password",
    "server.proxy-password": "proxy-password",
}

# ------------------------------------------------------------------ parser


def register(subparsers: Any) -> None:
    instance = instance_parent()
    parser = subparsers.add_parser(
        "config",
        parents=[instance],
        help="show or change the configuration",
        description="Show or change the configuration of a WATS Station instance.",
    )
    parser.set_defaults(handler=lambda _args: usage(parser))
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")

    show = actions.add_parser(
        "show",
        parents=[instance],
        help="print the configuration in effect (never the token)",
        description="Print the configuration in effect: the file plus WATS_STATION_* "
        "environment overrides. The token is never printed, only whether it is set.",
    )
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(handler=_show)

    get = actions.add_parser(
        "get",
        parents=[instance],
        help="print one setting",
        description="Print one setting, e.g. `server.url`, `uploads.concurrency`, "
        "`converters[0].watch_folder` or `converters[ICT line 1].enabled`.",
    )
    get.add_argument("key", metavar="KEY")
    get.set_defaults(handler=_get)

    set_ = actions.add_parser(
        "set",
        parents=[instance],
        help="change one setting (or the token)",
        description="Change one setting and save it. Lists take JSON or comma-separated text, "
        "sections take JSON. `set token` (and `set proxy-password`) reads the secret from "
        "standard input, or asks for it without echo, so it stays out of the shell history.",
    )
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE", nargs="?")
    set_.add_argument("--value", dest="value_option", metavar="VALUE", help="the new value")
    set_.add_argument(
        "--token-stdin", action="store_true", help="read the token (or password) from stdin"
    )
    set_.add_argument(
        "--delete", action="store_true", help="forget the stored token (or proxy password)"
    )
    set_.set_defaults(handler=_set)

    init = actions.add_parser(
        "init",
        parents=[instance],
        help="create the configuration (asks, or takes options for scripted installs)",
        description="Create the configuration. On a terminal it asks for each value; with "
        "options (or without a terminal) it uses them as given. A station with no server "
        "still runs: its reports wait in the queue.",
    )
    init.add_argument("--server", metavar="URL", help="WATS server URL")
    init.add_argument("--token", metavar="T", help="server token (prefer --token-stdin)")
    init.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    init.add_argument("--station", metavar="NAME", help="station name (default: host name)")
    init.add_argument(
        "--watch-folder",
        metavar="DIR",
        help="add a converter on DIR, with Done and Error folders beside it (created)",
    )
    init.add_argument(
        "--converter", default="wsjf", metavar="KEY", help="converter for --watch-folder"
    )
    init.add_argument("--converter-name", metavar="NAME", help="label of that converter")
    init.add_argument(
        "--secret-store",
        choices=("keyring", "file"),
        help="keep the token in the OS keyring (default) or in a private file",
    )
    init.add_argument("--force", action="store_true", help="replace an existing configuration")
    init.add_argument("--no-input", action="store_true", help="never ask, even on a terminal")
    init.set_defaults(handler=_init)


# ------------------------------------------------------------------ shared helpers


class _Failure(Exception):
    """Ends a handler with a message on stderr and an exit code."""

    def __init__(self, code: Exit, lines: list[str]) -> None:
        self.code = code
        self.lines = lines
        super().__init__("\n".join(lines))


def _handler(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the domain errors into plain-words messages and exit codes (never a traceback)."""

    def wrapped(args: argparse.Namespace) -> int:
        from app.core.config import ConfigError
        from app.core.paths import InstanceNameError
        from app.core.secrets import SecretStoreError

        try:
            return run(args)
        except _Failure as exc:
            _error(exc.lines)
            return int(exc.code)
        except InstanceNameError as exc:
            _error([str(exc)])
            return int(Exit.USAGE)
        except ConfigError as exc:
            _error(exc.problems)
            return int(Exit.INVALID_INPUT)
        except SecretStoreError as exc:
            _error([str(exc)])
            return int(Exit.FAILED)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            _error([f"{exc.strerror or exc}{where}"])
            return int(Exit.FAILED)

    return wrapped


def _error(lines: list[str]) -> None:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)


def _paths(args: argparse.Namespace) -> InstancePaths:
    from app.core.paths import InstancePaths

    return InstancePaths.for_instance(getattr(args, "instance", "default"))


@dataclass
class _SecretStatus:
    set: bool | None
    source: str | None
    problem: str | None = None

    def text(self) -> str:
        if self.problem is not None:
            return f"unknown ({self.problem})"
        return f"set ({self.source})" if self.set else "not set"


def _secret_status(
    paths: InstancePaths, config: StationConfig, name: SecretName, environ: Mapping[str, str]
) -> _SecretStatus:
    from app.core.secrets import SecretStoreError, secret_source

    try:
        source = secret_source(paths, config, name, environ)
    except SecretStoreError as exc:
        return _SecretStatus(None, None, str(exc))
    return _SecretStatus(source is not None, source)


# ------------------------------------------------------------------ show


@_handler
def _show(args: argparse.Namespace) -> int:
    import os

    from app.core.config import effective, overrides_in_effect, unknown_keys
    from app.core.config_store import ConfigStore

    paths = _paths(args)
    store = ConfigStore(paths)
    stored = store.load()
    config = effective(stored, os.environ)
    token = _secret_status(paths, config, "token", os.environ)
    proxy_password = _secret_status(paths, config, "proxy-password", os.environ)
    overrides = overrides_in_effect(os.environ)
    unknown = unknown_keys(stored)
    warnings = [store.last_warning] if store.last_warning else []

    if args.json:
        document = {
            "instance": paths.instance,
            "config_file": str(paths.config_file),
            "exists": store.exists(),
            "config": config.to_json_dict(),
            "token": {"set": token.set, "source": token.source, "problem": token.problem},
            "proxy_password": {
                "set": proxy_password.set,
                "source": proxy_password.source,
                "problem": proxy_password.problem,
            },
            "env_overrides": [{"variable": o.variable, "key": o.key} for o in overrides],
            "unknown_keys": unknown,
            "warnings": warnings,
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return int(Exit.OK)

    lines = [f"instance: {paths.instance}"]
    state = "" if store.exists() else "  (not created yet: defaults shown)"
    lines.append(f"config file: {paths.config_file}{state}")
    data = _with_default_folders(config.to_json_dict(), config)
    data["server"]["token"] = token.text()
    data["server"]["proxy password"] = proxy_password.text()
    lines += _render(data, 0)
    if overrides:
        lines.append("environment overrides in effect (not saved):")
        lines += [f"  {o.variable} -> {o.key}" for o in overrides]
    if unknown:
        lines.append("unknown keys (kept in the file, not used by this version):")
        lines += [f"  {key}" for key in unknown]
    lines += [f"warning: {w}" for w in warnings]
    print("\n".join(lines))
    return int(Exit.OK)


def _with_default_folders(data: dict[str, Any], config: StationConfig) -> dict[str, Any]:
    """Show where Done/Error really are when the config leaves them to the default."""
    for shown, conv in zip(data["converters"], config.converters, strict=True):
        if shown.get("done_folder") is None:
            shown["done_folder"] = f"{conv.effective_done_folder()} (default)"
        if shown.get("error_folder") is None:
            shown["error_folder"] = f"{conv.effective_error_folder()} (default)"
    return data


def _scalar(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value) if value else "(none)"
    if isinstance(value, dict) and not value:
        return "(none)"
    return str(value)


def _render(data: Mapping[str, Any], depth: int) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:")
            lines += _render(value, depth + 1)
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            lines.append(f"{pad}{key}:")
            for index, item in enumerate(value):
                lines.append(f"{pad}  [{index}]")
                lines += _render(item, depth + 2) if isinstance(item, dict) else [str(item)]
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")
    return lines


# ------------------------------------------------------------------ get


@_handler
def _get(args: argparse.Namespace) -> int:
    import os

    from app.core.config import ENV_OVERRIDES, effective, parse_key, value_at
    from app.core.config_store import ConfigStore

    if args.key.strip().lower() in SECRET_KEYS:
        raise _Failure(
            Exit.INVALID_INPUT,
            [
                f"the {SECRET_KEYS[args.key.strip().lower()]} is never printed; "
                "`wats-station config show` says whether it is set"
            ],
        )
    store = ConfigStore(_paths(args))
    stored = store.load()
    value = value_at(effective(stored, os.environ), args.key)
    wanted = parse_key(args.key)
    for override in ENV_OVERRIDES:
        if os.environ.get(override.variable, "").strip() and parse_key(override.key) == wanted:
            print(
                f"note: {override.variable} overrides this setting; the file has "
                f"{json.dumps(value_at(stored, args.key))}",
                file=sys.stderr,
            )
    if isinstance(value, str):
        print(value)
    else:
        print(json.dumps(value, indent=2 if isinstance(value, dict | list) else None))
    return int(Exit.OK)


# ------------------------------------------------------------------ set


@_handler
def _set(args: argparse.Namespace) -> int:
    from app.core.config_store import ConfigStore

    key = args.key.strip()
    paths = _paths(args)
    if key.lower() in SECRET_KEYS:
        return _set_secret(args, paths, SECRET_KEYS[key.lower()])
    if args.delete or args.token_stdin:
        raise _Failure(
            Exit.USAGE, ["--delete and --token-stdin are only for token and proxy-password"]
        )
    if args.value is not None and args.value_option is not None:
        raise _Failure(Exit.USAGE, ["give the value once: either VALUE or --value"])
    raw = args.value if args.value is not None else args.value_option
    if raw is None:
        raise _Failure(Exit.USAGE, [f"what should {key} be? usage: config set KEY VALUE"])
    store = ConfigStore(paths)
    before = store.load().secret_store
    changed = store.set_value(key, raw)
    from app.core.config import value_at

    shown = value_at(changed, key)
    print(f"{key} = {shown if isinstance(shown, str) else json.dumps(shown)}")
    if changed.secret_store != before:
        print(
            f"note: secrets are now kept in the {changed.secret_store}; a token stored before "
            "is not moved: set it again with `wats-station config set token`",
            file=sys.stderr,
        )
    return int(Exit.OK)


def _set_secret(args: argparse.Namespace, paths: InstancePaths, name: SecretName) -> int:
    import os

    from app.core.config import effective
    from app.core.config_store import ConfigStore
    from app.core.secrets import delete_secret, set_secret

    config = effective(ConfigStore(paths).load(), os.environ)
    if args.delete:
        if args.value is not None or args.value_option is not None or args.token_stdin:
            raise _Failure(Exit.USAGE, ["--delete takes no value"])
        found = delete_secret(paths, config, name, os.environ)
        print(f"{name} deleted" if found else f"no {name} was stored")
        return int(Exit.OK)
    if args.value is not None:
        print(
            f"note: a {name} given on the command line stays in your shell history; "
            "prefer --token-stdin",
            file=sys.stderr,
        )
    secret = args.value if args.value is not None else args.value_option
    if secret is None:
        secret = _read_secret(name, force_stdin=args.token_stdin)
    where = set_secret(paths, config, name, secret, os.environ)
    print(f"{name} stored ({'OS keyring' if where == 'keyring' else paths.secrets_file})")
    return int(Exit.OK)


def _read_secret(name: str, *, force_stdin: bool) -> str:
    if force_stdin or not sys.stdin.isatty():
        value = sys.stdin.readline()
    else:
        import getpass

        value = getpass.getpass(f"{name} (input hidden): ")
    if not value.strip():
        raise _Failure(Exit.INVALID_INPUT, [f"no {name} was given (empty input)"])
    return value


# ------------------------------------------------------------------ init


@dataclass
class InitAnswers:
    server: str | None
    token: str | None
    station: str | None
    watch_folder: str | None
    converter: str


Ask = Callable[[str], str]


def ask_init_answers(defaults: InitAnswers, ask: Ask, ask_secret: Ask) -> InitAnswers:
    """The interactive part of `init`: one question per value, each checked before going on."""
    from app.core.config import ConfigError, validate_config

    def checked(question: str, default: str | None, key: tuple[str, str] | None) -> str | None:
        while True:
            shown = f" [{default}]" if default else ""
            answer = ask(f"{question}{shown}: ").strip() or (default or "")
            if not answer or key is None:
                return answer or None
            try:
                validate_config({key[0]: {key[1]: answer}})
            except ConfigError as exc:
                print("  " + "; ".join(exc.problems), file=sys.stderr)
                continue
            return answer

    print("Press Enter to keep the value in brackets. Blank server: reports wait in the queue.")
    server = checked("WATS server URL", defaults.server, ("server", "url"))
    token = None
    if server:
        token = ask_secret("Token (input hidden, blank: set it later): ").strip() or None
    station = checked("Station name", defaults.station, ("station", "name"))
    folder = checked("Folder to watch for result files (blank: none)", defaults.watch_folder, None)
    converter = defaults.converter
    if folder:
        converter = checked("Converter for that folder", defaults.converter, None) or converter
    return InitAnswers(server, token, station, folder, converter)


def _defaults_from(store: ConfigStore, answers: InitAnswers) -> InitAnswers:
    """Suggest what a replaced config had (init --force), else the host name as station."""
    import socket

    from app.core.config import ConfigError

    try:
        old = store.load() if store.exists() else None
    except ConfigError:
        old = None
    folder = old.converters[0].watch_folder if old is not None and old.converters else None
    return InitAnswers(
        server=old.server.url if old is not None else None,
        token=None,
        station=old.station.name if old is not None else socket.gethostname(),
        watch_folder=str(folder) if folder is not None else None,
        converter=old.converters[0].converter
        if old is not None and old.converters
        else answers.converter,
    )


@_handler
def _init(args: argparse.Namespace) -> int:
    import os

    from app.core.config import ConverterConfig, validate_config
    from app.core.config_store import ConfigStore
    from app.core.secrets import SecretStoreError, set_token

    paths = _paths(args)
    store = ConfigStore(paths)
    if store.exists() and not args.force:
        raise _Failure(
            Exit.FAILED,
            [f"a configuration already exists ({paths.config_file}); use --force to replace it"],
        )
    if args.token is not None and args.token_stdin:
        raise _Failure(Exit.USAGE, ["give the token once: either --token or --token-stdin"])

    token = args.token
    if args.token_stdin:
        token = _read_secret("token", force_stdin=True)
    answers = InitAnswers(args.server, token, args.station, args.watch_folder, args.converter)
    scripted = any(v is not None for v in (args.server, token, args.station, args.watch_folder))
    if sys.stdin.isatty() and not (scripted or args.no_input):
        import getpass

        answers = ask_init_answers(_defaults_from(store, answers), input, getpass.getpass)

    data: dict[str, Any] = {"server": {"url": answers.server}, "station": {}, "converters": []}
    if answers.station:
        data["station"]["name"] = answers.station
    if args.secret_store:
        data["secret_store"] = args.secret_store
    if answers.watch_folder:
        folder = Path(answers.watch_folder).expanduser().absolute()
        data["converters"].append(
            {
                "name": args.converter_name or f"{answers.converter} {folder.name}".strip(),
                "converter": answers.converter,
                "watch_folder": str(folder),
            }
        )
    config: StationConfig = validate_config(data)

    # The token first: if the keyring cannot take it, nothing has been written yet.
    token_note = "token: not set (reports wait in the queue until one is set)"
    if answers.token:
        try:
            where = set_token(paths, config, answers.token, os.environ)
        except SecretStoreError as exc:
            hint = "nothing was saved; to keep the token in a private file, add --secret-store file"
            raise _Failure(Exit.FAILED, [str(exc), hint]) from None
        place = "the OS keyring" if where == "keyring" else str(paths.secrets_file)
        token_note = f"token: stored in {place}"
    converter: ConverterConfig | None = config.converters[0] if config.converters else None
    if converter is not None:
        for path in (
            converter.watch_folder,
            converter.effective_done_folder(),
            converter.effective_error_folder(),
        ):
            path.mkdir(parents=True, exist_ok=True)
    store.save(config)

    print(f"configuration saved: {paths.config_file}")
    print(f"server: {config.server.url or '(none: reports wait in the queue)'}")
    print(token_note)
    print(f"station: {config.station.name}")
    if converter is not None:
        print(
            f"converter {converter.name!r} ({converter.converter}) watches "
            f"{converter.watch_folder}; done files go to {converter.effective_done_folder()}, "
            f"failed ones to {converter.effective_error_folder()}"
        )
    return int(Exit.OK)
