"""Secrets: the keyring path (with an in-memory backend), the file fallback, env precedence."""

from __future__ import annotations

import json
import logging
import stat
import sys
from collections.abc import Callable, Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from app.core.config import StationConfig
from app.core.paths import InstancePaths
from app.core.secrets import (
    SecretStoreError,
    delete_proxy_password,
    delete_token,
    get_proxy_password,
    get_token,
    keyring_problem,
    service_name,
    set_proxy_password,
    set_token,
    store_kind,
    token_is_set,
    token_source,
)

NO_ENV: dict[str, str] = {}


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works anywhere and keeps what it is given in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """Like a Secret Service whose collection the user has not unlocked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


Installer = Callable[[keyring.backend.KeyringBackend], keyring.backend.KeyringBackend]


@pytest.fixture
def use_keyring() -> Iterator[Installer]:
    """Install a keyring backend for one test; the previous one comes back afterwards."""
    previous = keyring.get_keyring()

    def install(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def paths() -> InstancePaths:
    return InstancePaths.for_instance("line-2")


KEYRING = StationConfig()
FILE = StationConfig(secret_store="file")


def test_keyring_round_trip(use_keyring: Installer, paths: InstancePaths) -> None:
    backend = MemoryKeyring()
    use_keyring(backend)
    assert token_is_set(paths, KEYRING, NO_ENV) is False
    assert token_source(paths, KEYRING, NO_ENV) is None
    assert set_token(paths, KEYRING, "  dGVzdDpzZWNyZXQ=\n", NO_ENV) == "keyring"
    assert backend.items == {("wats-station/line-2", "token"): "dGVzdDpzZWNyZXQ="}
    assert service_name(paths) == "wats-station/line-2"
    assert get_token(paths, KEYRING, NO_ENV) == "dGVzdDpzZWNyZXQ="
    assert token_source(paths, KEYRING, NO_ENV) == "keyring"
    assert delete_token(paths, KEYRING, NO_ENV) is True
    assert delete_token(paths, KEYRING, NO_ENV) is False
    assert get_token(paths, KEYRING, NO_ENV) is None
    assert not paths.secrets_file.exists()


def test_proxy_password_is_a_separate_secret(use_keyring: Installer, paths: InstancePaths) -> None:
    backend = MemoryKeyring()
    use_keyring(backend)
    set_token(paths, KEYRING, "tok", NO_ENV)
    set_proxy_password(paths, KEYRING, "pw", NO_ENV)
    assert get_proxy_password(paths, KEYRING, NO_ENV) == "pw"
    assert delete_proxy_password(paths, KEYRING, NO_ENV) is True
    assert backend.items == {("wats-station/line-2", "token"): "tok"}


def test_no_usable_keyring_says_how_to_fall_back(
    use_keyring: Installer, paths: InstancePaths
) -> None:
    use_keyring(keyring.backends.fail.Keyring())
    assert keyring_problem() is not None
    for call in (
        lambda: set_token(paths, KEYRING, "tok", NO_ENV),
        lambda: get_token(paths, KEYRING, NO_ENV),
        lambda: delete_token(paths, KEYRING, NO_ENV),
    ):
        with pytest.raises(SecretStoreError) as exc:
            call()
        message = str(exc.value)
        assert message.startswith("no usable OS keyring was found")
        assert "wats-station config set secret_store file" in message
        assert "WATS_STATION_SECRET_STORE=file" in message


def test_a_locked_keyring_is_reported_not_raised_raw(
    use_keyring: Installer, paths: InstancePaths
) -> None:
    use_keyring(LockedKeyring())
    with pytest.raises(SecretStoreError) as exc:
        set_token(paths, KEYRING, "tok", NO_ENV)
    assert str(exc.value).startswith(
        "the OS keyring refused the request (the collection is locked)"
    )


def test_file_store_is_private_and_needs_no_keyring(
    use_keyring: Installer, paths: InstancePaths
) -> None:
    use_keyring(keyring.backends.fail.Keyring())  # proves the keyring is not touched
    assert set_token(paths, FILE, "tok-1", NO_ENV) == "file"
    set_proxy_password(paths, FILE, "pw", NO_ENV)
    assert json.loads(paths.secrets_file.read_text()) == {"token": "tok-1", "proxy-password": "pw"}
    if sys.platform != "win32":
        assert stat.S_IMODE(paths.secrets_file.stat().st_mode) == 0o600
    assert get_token(paths, FILE, NO_ENV) == "tok-1"
    assert token_source(paths, FILE, NO_ENV) == "file"
    assert delete_token(paths, FILE, NO_ENV) is True
    assert json.loads(paths.secrets_file.read_text()) == {"proxy-password": "pw"}
    assert token_is_set(paths, FILE, NO_ENV) is False


def test_env_chooses_the_file_store(use_keyring: Installer, paths: InstancePaths) -> None:
    use_keyring(keyring.backends.fail.Keyring())
    env = {"WATS_STATION_SECRET_STORE": "file"}
    assert store_kind(KEYRING, env) == "file"
    set_token(paths, KEYRING, "tok", env)
    assert get_token(paths, KEYRING, env) == "tok"
    with pytest.raises(SecretStoreError, match="must be 'keyring' or 'file'"):
        store_kind(KEYRING, {"WATS_STATION_SECRET_STORE": "vault"})


def test_token_env_wins_at_run_time(use_keyring: Installer, paths: InstancePaths) -> None:
    use_keyring(MemoryKeyring())
    set_token(paths, KEYRING, "stored", NO_ENV)
    env = {"WATS_STATION_TOKEN": "from-env", "WATS_STATION_PROXY_PASSWORD": "env-pw"}
    assert get_token(paths, KEYRING, env) == "from-env"
    assert token_source(paths, KEYRING, env) == "environment"
    assert get_proxy_password(paths, KEYRING, env) == "env-pw"
    assert get_token(paths, KEYRING, {"WATS_STATION_TOKEN": ""}) == "stored"


def test_empty_or_multi_line_secrets_are_refused(paths: InstancePaths) -> None:
    with pytest.raises(SecretStoreError, match="the token is empty"):
        set_token(paths, FILE, "  \n", NO_ENV)
    with pytest.raises(SecretStoreError, match="single line"):
        set_token(paths, FILE, "a\nb", NO_ENV)
    assert not paths.secrets_file.exists()


def test_a_damaged_secrets_file_is_reported(paths: InstancePaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.secrets_file.write_text("{not json")
    with pytest.raises(SecretStoreError, match=r"cannot read .*secrets\.json"):
        get_token(paths, FILE, NO_ENV)


def test_secrets_never_reach_the_log(
    use_keyring: Installer,
    paths: InstancePaths,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_keyring(MemoryKeyring())
    caplog.set_level(logging.DEBUG)
    set_token(paths, KEYRING, "TOPSECRET-1", NO_ENV)
    get_token(paths, KEYRING, NO_ENV)
    set_token(paths, FILE, "TOPSECRET-2", NO_ENV)
    get_token(paths, FILE, NO_ENV)
    assert "TOPSECRET" not in caplog.text
