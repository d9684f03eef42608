"""The server token and the proxy password (DESIGN.md §5): never in config.json or a log.

They live in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service on
Linux) under the service name `wats-station/<instance>`. Where no keyring works (a headless
Linux box without a Secret Service), every call raises SecretStoreError saying how to switch
to the explicit fallback: `secret_store = "file"` in config (or WATS_STATION_SECRET_STORE=file),
which keeps them in `<config_dir>/secrets.json`, readable only by the user (mode 0600) but not
encrypted.

At run time WATS_STATION_TOKEN (and WATS_STATION_PROXY_PASSWORD) win over the stored values.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as _random
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Literal, TypeVar

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
from filelock import FileLock, Timeout

from app.core.config import SecretStoreKind, StationConfig
from app.core.durable import fsync_dir
from app.core.paths import InstancePaths

SecretName = Literal["token", "proxy-password", "client-credentials"]
TOKEN: SecretName = "token"
PROXY_PASSWORD: SecretName = "proxy-password"
# base64("<mac>:<passcode>") issued when the station registers itself (wats-api §1.3).
CLIENT_CREDENTIALS: SecretName = "client-credentials"

TOKEN_ENV = "WATS_STATION_TOKEN"
PROXY_PASSWORD_ENV = "WATS_STATION_PROXY_PASSWORD"
SECRET_STORE_ENV = "WATS_STATION_SECRET_STORE"
CLIENT_CREDENTIALS_ENV = "WATS_STATION_CLIENT_CREDENTIALS"
_ENV_OF: dict[str, str] = {
    TOKEN: TOKEN_ENV,
    PROXY_PASSWORD: PROXY_PASSWORD_ENV,
    CLIENT_CREDENTIALS: CLIENT_CREDENTIALS_ENV,
}

SecretSource = Literal["environment", "keyring", "file"]
_T = TypeVar("_T")

FALLBACK_HINT = (
    "To keep it in a file readable only by you instead (less secure), run "
    "`wats-station config set secret_store file` or set WATS_STATION_SECRET_STORE=file."
)


class SecretStoreError(Exception):
    """The secret cannot be read or stored; the message says why and what to do."""


def service_name(paths: InstancePaths) -> str:
    return f"wats-station/{paths.instance}"


def store_kind(config: StationConfig, environ: Mapping[str, str] | None = None) -> SecretStoreKind:
    """Where secrets are kept: WATS_STATION_SECRET_STORE, else the config's secret_store."""
    env = os.environ if environ is None else environ
    chosen = env.get(SECRET_STORE_ENV, "").strip().lower()
    if chosen == "file":
        return "file"
    if chosen == "keyring":
        return "keyring"
    if chosen:
        raise SecretStoreError(f"{SECRET_STORE_ENV}={chosen!r} must be 'keyring' or 'file'")
    return config.secret_store


# ------------------------------------------------------------------ public API


def get_token(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> str | None:
    return get_secret(paths, config, TOKEN, environ)


def set_token(
    paths: InstancePaths,
    config: StationConfig,
    token: str,
    environ: Mapping[str, str] | None = None,
) -> SecretStoreKind:
    """Store the token; returns where it went. Surrounding whitespace is dropped."""
    return set_secret(paths, config, TOKEN, token, environ)


def delete_token(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> bool:
    """Forget the stored token; True if there was one."""
    return delete_secret(paths, config, TOKEN, environ)


def token_is_set(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> bool:
    return get_token(paths, config, environ) is not None


def token_source(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> SecretSource | None:
    """Where the token in use comes from (for `config show`), or None if there is none."""
    return secret_source(paths, config, TOKEN, environ)


def get_proxy_password(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> str | None:
    return get_secret(paths, config, PROXY_PASSWORD, environ)


def set_proxy_password(
    paths: InstancePaths,
    config: StationConfig,
    password: str,
    environ: Mapping[str, str] | None = None,
) -> SecretStoreKind:
    return set_secret(paths, config, PROXY_PASSWORD, password, environ)


def delete_proxy_password(
    paths: InstancePaths, config: StationConfig, environ: Mapping[str, str] | None = None
) -> bool:
    return delete_secret(paths, config, PROXY_PASSWORD, environ)


# ------------------------------------------------------------------ by name


def get_secret(
    paths: InstancePaths,
    config: StationConfig,
    name: SecretName,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    env = os.environ if environ is None else environ
    from_env = env.get(_ENV_OF[name], "").strip()
    if from_env:
        return from_env
    if store_kind(config, env) == "file":
        return _read_file(paths).get(name)
    return _keyring_call(lambda: keyring.get_password(service_name(paths), name))


def secret_source(
    paths: InstancePaths,
    config: StationConfig,
    name: SecretName,
    environ: Mapping[str, str] | None = None,
) -> SecretSource | None:
    env = os.environ if environ is None else environ
    if env.get(_ENV_OF[name], "").strip():
        return "environment"
    kind = store_kind(config, env)
    if kind == "file":
        return "file" if _read_file(paths).get(name) else None
    found = _keyring_call(lambda: keyring.get_password(service_name(paths), name))
    return "keyring" if found else None


def set_secret(
    paths: InstancePaths,
    config: StationConfig,
    name: SecretName,
    value: str,
    environ: Mapping[str, str] | None = None,
) -> SecretStoreKind:
    secret = value.strip()
    if not secret:
        raise SecretStoreError(f"the {name} is empty")
    if any(ch in secret for ch in "\r\n\0"):
        raise SecretStoreError(f"the {name} must be a single line")
    kind = store_kind(config, environ)
    if kind == "file":
        with _file_locked(paths):
            stored = _read_file(paths)
            stored[name] = secret
            _write_file(paths, stored)
    else:
        _keyring_call(lambda: keyring.set_password(service_name(paths), name, secret))
    return kind


def delete_secret(
    paths: InstancePaths,
    config: StationConfig,
    name: SecretName,
    environ: Mapping[str, str] | None = None,
) -> bool:
    if store_kind(config, environ) == "file":
        with _file_locked(paths):
            stored = _read_file(paths)
            if name not in stored:
                return False
            del stored[name]
            _write_file(paths, stored)
            return True
    service = service_name(paths)
    if _keyring_call(lambda: keyring.get_password(service, name)) is None:
        return False
    try:
        _keyring_call(lambda: keyring.delete_password(service, name))
    except SecretStoreError:
        # Some backends refuse to delete what another session just removed: gone is gone.
        if _keyring_call(lambda: keyring.get_password(service, name)) is not None:
            raise
    return True


# ------------------------------------------------------------------ keyring


def keyring_problem() -> str | None:
    """Why the OS keyring cannot be used here, or None if a real backend is available."""
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return (
            "no usable OS keyring was found (on Linux this needs a Secret Service such as "
            "GNOME Keyring or KWallet, which headless systems usually lack)"
        )
    return None


def _keyring_call(call: Callable[[], _T]) -> _T:
    problem = keyring_problem()
    if problem is not None:
        raise SecretStoreError(f"{problem}. {FALLBACK_HINT}")
    try:
        return call()
    except keyring.errors.NoKeyringError as exc:
        raise SecretStoreError(f"no usable OS keyring was found ({exc}). {FALLBACK_HINT}") from None
    except keyring.errors.KeyringError as exc:
        # Locked collections, a missing D-Bus session, access denied by the user, ...
        reason = str(exc) or type(exc).__name__
        raise SecretStoreError(
            f"the OS keyring refused the request ({reason}). {FALLBACK_HINT}"
        ) from None


# ------------------------------------------------------------------ file fallback


@contextlib.contextmanager
def _file_locked(paths: InstancePaths) -> Iterator[None]:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(paths.secrets_file) + ".lock")
    try:
        lock.acquire(timeout=10)
    except Timeout:
        raise SecretStoreError(
            f"another program has held {paths.secrets_file}.lock for more than 10 s"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _read_file(paths: InstancePaths) -> dict[str, str]:
    path = paths.secrets_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SecretStoreError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SecretStoreError(f"cannot read {path}: it is not a JSON object")
    return {str(k): v for k, v in data.items() if isinstance(v, str) and v}


def _write_file(paths: InstancePaths, stored: dict[str, str]) -> None:
    path = paths.secrets_file
    temp = path.with_name(f".{path.name}.{os.getpid()}.{_random.token_hex(4)}.tmp")
    data = (json.dumps(stored, indent=2) + "\n").encode("utf-8")
    try:
        # Created 0600 from the start: the secret is never readable by others, not even briefly.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        fsync_dir(path.parent)
        if sys.platform != "win32":
            path.chmod(0o600)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise SecretStoreError(f"cannot write {path}: {exc.strerror or exc}") from None
