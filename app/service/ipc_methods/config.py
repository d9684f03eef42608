"""config.get, config.set, token.set and connection.test.

Secrets never cross the socket (DESIGN.md §4): replies say whether a token is set and where
it comes from, never the token. Changes are saved through the ConfigStore (one writer at a
time, atomic) and then applied live by the worker.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from app.core.config import (
    ConfigError,
    ServerConfig,
    StationConfig,
    describe_validation_error,
    overrides_in_effect,
    proxy_with_password,
    unknown_keys,
    validate_config,
    with_value,
)
from app.core.secrets import (
    SecretStoreError,
    delete_token,
    get_proxy_password,
    get_token,
    secret_source,
    set_token,
)
from app.ipc.protocol import NoParams
from app.service.ipc_methods._common import (
    MethodContext,
    Params,
    invalid_params,
    unavailable,
)

# connection.test answers within the client's patience: at most this per network step.
TEST_TIMEOUT_S = 10.0


class ConfigSetParams(Params):
    config: dict[str, Any] | None = None
    values: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ConfigSetParams:
        if (self.config is None) == (self.values is None):
            raise ValueError("give either config (the whole configuration) or values")
        if self.values is not None and not self.values:
            raise ValueError("values: give at least one setting")
        return self


class TokenSetParams(Params):
    token: str = Field(max_length=8192)

    @field_validator("token")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(ch in value for ch in "\r\n\0"):
            raise ValueError("the token must be a single line")
        return value.strip()


class ConnectionTestParams(Params):
    url: str | None = None
    token: str | None = Field(None, max_length=8192)
    proxy: str | None = None
    verify_tls: bool | None = None


def register(ctx: MethodContext) -> None:
    worker = ctx.worker
    paths = worker.paths

    async def config_get(_params: NoParams) -> dict[str, Any]:
        saved = await ctx.in_thread(worker.store.load)
        warning = worker.store.last_warning
        token = await ctx.in_thread(_token_state, worker.paths, worker.config)
        return {
            "config": saved.to_json_dict(),
            **token,
            "unknown_keys": unknown_keys(saved),
            "env_overrides": [o.variable for o in overrides_in_effect(os.environ)],
            "config_file": str(paths.config_file),
            # Additions to the contract: what is in effect, and why the file was not used.
            "effective": worker.config.to_json_dict(),
            "warning": warning,
        }

    async def config_set(params: ConfigSetParams) -> dict[str, Any]:
        previous = worker.saved_config
        if params.config is not None:
            try:
                new = validate_config(params.config)
            except ConfigError as exc:
                raise invalid_params(_problems(exc)) from None
            await ctx.in_thread(_check_new_folders, previous, new)
            await ctx.in_thread(worker.store.save, new)
        else:
            values = params.values or {}

            def change(current: StationConfig) -> StationConfig:
                changed = apply_values(current, values)
                _check_new_folders(current, changed)
                return changed

            try:
                await ctx.in_thread(worker.store.update, change)
            except ConfigError as exc:
                raise invalid_params(_problems(exc)) from None
        worker.reload_config()
        return {"config": worker.saved_config.to_json_dict(), "applied": True}

    async def token_set(params: TokenSetParams) -> dict[str, Any]:
        try:
            result = await ctx.in_thread(_store_token, paths, worker.config, params.token)
        except SecretStoreError as exc:
            raise unavailable(f"the token cannot be stored: {exc}") from None
        worker.credentials_changed()
        return result

    async def connection_test(params: ConnectionTestParams) -> dict[str, Any]:
        from app.wats import check_server

        config = worker.config
        url = params.url if params.url is not None else config.server.url
        if not url or not url.strip():
            return {
                "ok": False,
                "checks": [
                    {
                        "name": "server",
                        "outcome": "fail",
                        "detail": "no server URL is configured; set server.url first",
                    }
                ],
            }
        _check_urls(url, params.proxy)
        token, proxy = await ctx.in_thread(_stored_credentials, paths, config, params)
        verify: bool | str = config.server.verify_tls
        if verify and config.server.ca_bundle:
            verify = str(config.server.ca_bundle)
        if params.verify_tls is False:
            verify = False
        elif params.verify_tls and verify is False:
            verify = True
        connect_timeout = min(config.uploads.connect_timeout_s, TEST_TIMEOUT_S)
        try:
            results = await check_server(
                url.strip(),
                token,
                proxy=proxy,
                verify=verify,
                connect_timeout=connect_timeout,
                get_timeout=TEST_TIMEOUT_S,
            )
        except ValueError as exc:
            raise invalid_params(str(exc)) from None
        checks = [{"name": r.name, "outcome": r.outcome, "detail": r.detail} for r in results]
        return {"ok": all(r.outcome != "fail" for r in results), "checks": checks}

    server = ctx.server
    server.register("config.get", config_get)
    server.register("config.set", config_set, ConfigSetParams)
    server.register("token.set", token_set, TokenSetParams)
    server.register("connection.test", connection_test, ConnectionTestParams)


# ---------------------------------------------------------------- helpers (blocking)


def apply_values(config: StationConfig, values: dict[str, Any]) -> StationConfig:
    """`config` with each dotted key set to its JSON value; ConfigError names every bad key."""
    problems: list[str] = []
    for key, value in values.items():
        try:
            config = with_value(config, key, _as_text(value))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return config


def _as_text(value: Any) -> str:
    """The command-line form `with_value` parses: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _check_new_folders(old: StationConfig, new: StationConfig) -> None:
    """A converter that is new or got a new watch folder must point at a folder that exists.

    Unchanged converters are not checked: a network share that is away for a moment must not
    block an unrelated change (the worker reports such a folder as an alarm instead).
    """
    problems: list[str] = []
    for index, conv in enumerate(new.converters):
        before = old.converter_named(conv.name)
        if not conv.enabled or (before is not None and before.watch_folder == conv.watch_folder):
            continue
        if not Path(conv.watch_folder).is_dir():
            problems.append(
                f"converters[{index}].watch_folder: folder does not exist ({conv.watch_folder})"
            )
    if problems:
        raise ConfigError("; ".join(problems), problems)


def _check_urls(url: str, proxy: str | None) -> None:
    """The same URL rules as the configuration (scheme, host, no password in a proxy URL)."""
    try:
        ServerConfig.model_validate({"url": url, "proxy": proxy})
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        raise invalid_params("; ".join(problems)) from None


def _problems(exc: ConfigError) -> str:
    return "; ".join(exc.problems)


def _token_state(paths: Any, config: StationConfig) -> dict[str, Any]:
    try:
        source = secret_source(paths, config, "token")
    except (SecretStoreError, OSError, ValueError) as exc:
        return {"token_set": False, "token_source": None, "token_problem": str(exc)}
    return {"token_set": source is not None, "token_source": source, "token_problem": None}


def _store_token(paths: Any, config: StationConfig, token: str) -> dict[str, Any]:
    from app.core.secrets import store_kind

    if token:
        store = set_token(paths, config, token)
    else:
        delete_token(paths, config)
        store = store_kind(config)
    state = _token_state(paths, config)
    return {"token_set": state["token_set"], "store": store, "token_source": state["token_source"]}


def _stored_credentials(
    paths: Any, config: StationConfig, params: ConnectionTestParams
) -> tuple[str | None, str | None]:
    """The token and proxy (with its stored password) to test with."""
    token = params.token.strip() if params.token is not None else None
    if token is None:
        try:
            token = get_token(paths, config)
        except SecretStoreError:
            token = None  # the auth step then says no token is set
    proxy = (params.proxy.strip() or None) if params.proxy is not None else config.server.proxy
    if proxy:
        with contextlib.suppress(SecretStoreError):
            proxy = proxy_with_password(proxy, get_proxy_password(paths, config))
    return token or None, proxy
