"""Which WATS server a command talks to: --server/--token, environment, or the instance config."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from app.commands.exitcodes import Exit


@dataclass(frozen=True)
class ServerTarget:
    url: str
    token: str | None
    proxy: str | None = None
    verify: bool | str = True


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", metavar="URL", help="WATS server URL (default: the configured server)"
    )
    parser.add_argument(
        "--token",
        metavar="T",
        help="API token (default: WATS_STATION_TOKEN, then the token stored for the instance)",
    )
    parser.add_argument("--proxy", metavar="URL", help="HTTP(S) proxy, e.g. http://proxy:3128")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (unsafe; for testing only)",
    )
    parser.add_argument("--instance", default="default", help="station instance (default: default)")


def resolve_target(args: argparse.Namespace) -> ServerTarget | int:
    """The server to use, or an exit code after printing why there is none."""
    url: str | None = args.server
    token: str | None = args.token or os.environ.get("WATS_STATION_TOKEN") or None
    proxy: str | None = args.proxy
    verify: bool | str = not args.insecure
    if url is None or token is None:
        configured = _configured_target(args.instance)
        if configured is not None:
            url = url or configured.url
            token = token or configured.token
            proxy = proxy or configured.proxy
            if verify is True:
                verify = configured.verify
    if not url:
        print(
            "no WATS server given: pass --server URL, or configure one with "
            "`wats-station config init`",
            file=sys.stderr,
        )
        return int(Exit.USAGE)
    if not url.lower().startswith(("http://", "https://")):
        print(
            f"--server {url!r} is not a URL: it must start with https:// or http://",
            file=sys.stderr,
        )
        return int(Exit.USAGE)
    return ServerTarget(url, token, proxy, verify)


def _configured_target(instance: str) -> ServerTarget | None:
    """The instance's configured server and stored token, if there is a config."""
    try:
        from app.core.config import effective
        from app.core.config_store import ConfigStore
        from app.core.paths import InstancePaths
        from app.core.secrets import get_token
    except ImportError:
        return None
    try:
        paths = InstancePaths.for_instance(instance)
        store = ConfigStore(paths)
        if not store.exists():
            return None
        config = effective(store.load(), os.environ)
        if not config.server.url:
            return None
        try:
            token = get_token(paths, config)
        except Exception as exc:  # a missing keyring must not hide the server URL
            print(f"warning: cannot read the stored token: {exc}", file=sys.stderr)
            token = None
        verify: bool | str = config.server.verify_tls
        if verify and config.server.ca_bundle:
            verify = str(config.server.ca_bundle)
        return ServerTarget(config.server.url, token, config.server.proxy, verify)
    except Exception as exc:
        print(f"warning: cannot read the station configuration: {exc}", file=sys.stderr)
        return None
