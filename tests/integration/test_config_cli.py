"""`wats-station config …` as real processes (`python -m app`) against a real WATS_STATION_HOME.

No test touches the user's real keyring: every run names a keyring backend explicitly, either
the "fail" backend (no keyring at all) or keyrings.alt's plaintext file under this test's
folder.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

import pytest

from app.commands.exitcodes import Exit

REPO = Path(__file__).resolve().parents[2]
NO_KEYRING = "keyring.backends.fail.Keyring"
FILE_KEYRING = "keyrings.alt.file.PlaintextKeyring"


class RunCli(Protocol):
    def __call__(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def home() -> Path:
    return Path(os.environ["WATS_STATION_HOME"])


@pytest.fixture
def cli(tmp_path: Path) -> RunCli:
    """Run `python -m app config ARGS`; the environment holds no WATS_STATION_* but the home."""

    def run(
        *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WATS_STATION_") or k == "WATS_STATION_HOME"
        }
        clean["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
        clean["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")  # where the plaintext keyring writes
        clean.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "app", "config", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=clean,
            cwd=REPO,
            timeout=60,
            check=False,
        )

    return run


def config_json(home: Path, instance: str = "default") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / instance / "config" / "config.json").read_text())
    return data


def test_show_on_a_fresh_instance(cli: RunCli, home: Path) -> None:
    out = cli("show")
    assert out.returncode == Exit.OK, out.stderr
    assert f"config file: {home / 'default' / 'config' / 'config.json'}" in out.stdout
    assert "(not created yet: defaults shown)" in out.stdout
    assert "  concurrency: 4" in out.stdout
    # No keyring here: the state is unknown and the reason says what to do, but show works.
    assert "  token: unknown (no usable OS keyring was found" in out.stdout
    assert not (home / "default" / "config" / "config.json").exists()


def test_scripted_init_with_the_file_store(cli: RunCli, home: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "results inbox"
    out = cli(
        "init",
        "--server",
        "https://acme.wats.com",
        "--token",
        "dG9rZW4tb25l",
        "--station",
        "EOL-3",
        "--watch-folder",
        str(inbox),
        "--secret-store",
        "file",
    )
    assert out.returncode == Exit.OK, out.stderr
    assert "dG9rZW4tb25l" not in out.stdout + out.stderr
    data = config_json(home)
    assert data["server"]["url"] == "https://acme.wats.com"
    assert data["station"]["name"] == "EOL-3"
    assert data["secret_store"] == "file"
    assert data["converters"] == [
        {
            "name": "wsjf results inbox",
            "converter": "wsjf",
            "enabled": True,
            "watch_folder": str(inbox),
            "patterns": [],
            "recursive": False,
            "polling": False,
            "post_action": "move",
            "done_folder": None,
            "error_folder": None,
            "mode": "active",
            "parameters": {},
        }
    ]
    assert "dG9rZW4tb25l" not in json.dumps(data)
    assert (inbox / "Done").is_dir()
    assert (inbox / "Error").is_dir()
    secrets = home / "default" / "config" / "secrets.json"
    assert json.loads(secrets.read_text()) == {"token": "dG9rZW4tb25l"}
    if sys.platform != "win32":
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600

    shown = cli("show")
    assert shown.returncode == Exit.OK
    assert "  token: set (file)" in shown.stdout
    assert f"    done_folder: {inbox / 'Done'} (default)" in shown.stdout
    assert "dG9rZW4tb25l" not in shown.stdout
    as_json = json.loads(cli("show", "--json").stdout)
    assert as_json["token"] == {"set": True, "source": "file", "problem": None}
    assert "dG9rZW4tb25l" not in json.dumps(as_json)


def test_init_refuses_to_overwrite_without_force(cli: RunCli, home: Path) -> None:
    assert cli("init", "--station", "ONE").returncode == Exit.OK
    again = cli("init", "--station", "TWO")
    assert again.returncode == Exit.FAILED
    assert "a configuration already exists" in again.stderr
    assert "--force" in again.stderr
    assert config_json(home)["station"]["name"] == "ONE"
    forced = cli("init", "--station", "TWO", "--force")
    assert forced.returncode == Exit.OK, forced.stderr
    assert config_json(home)["station"]["name"] == "TWO"
    assert (
        json.loads((home / "default" / "config" / "config.json.bak").read_text())["station"]["name"]
        == "ONE"
    )


def test_init_without_a_server_still_makes_a_working_config(cli: RunCli, home: Path) -> None:
    out = cli("init", "--no-input")
    assert out.returncode == Exit.OK, out.stderr
    assert "server: (none: reports wait in the queue)" in out.stdout
    assert config_json(home)["server"]["url"] is None


def test_set_and_get(cli: RunCli, home: Path, tmp_path: Path) -> None:
    assert cli("init", "--watch-folder", str(tmp_path / "in")).returncode == Exit.OK
    assert cli("set", "uploads.concurrency", "8").stdout == "uploads.concurrency = 8\n"
    assert cli("set", "converters[0].patterns", "*.json, *.wsjf").returncode == Exit.OK
    assert cli("set", "converters[wsjf in].post_action", "--value", "zip").returncode == Exit.OK
    assert cli("get", "uploads.concurrency").stdout == "8\n"
    assert json.loads(cli("get", "converters[0].patterns").stdout) == ["*.json", "*.wsjf"]
    assert cli("get", "converters[0].post_action").stdout == "zip\n"
    data = config_json(home)
    assert data["uploads"]["concurrency"] == 8
    assert data["converters"][0]["post_action"] == "zip"


def test_bad_values_are_refused_with_the_field_named(cli: RunCli, home: Path) -> None:
    assert cli("init").returncode == Exit.OK
    before = (home / "default" / "config" / "config.json").read_bytes()
    cases = {
        ("uploads.concurrency", "64"): "uploads.concurrency: Input should be less than or equal",
        ("server.url", "acme.wats.com"): "server.url: 'acme.wats.com' is not a valid server URL",
        ("server.colour", "red"): "server.colour: server has no setting 'colour'",
    }
    for (key, value), message in cases.items():
        out = cli("set", key, value)
        assert out.returncode == Exit.INVALID_INPUT, (key, out.stderr)
        assert out.stderr.startswith(f"error: {message}"), out.stderr
        assert "Traceback" not in out.stderr
    assert (home / "default" / "config" / "config.json").read_bytes() == before
    missing = cli("set", "uploads.concurrency")
    assert missing.returncode == Exit.USAGE


def test_token_from_stdin_into_the_keyring_and_never_printed(cli: RunCli, home: Path) -> None:
    keyring_env = {"PYTHON_KEYRING_BACKEND": FILE_KEYRING}
    stored = cli("set", "token", "--token-stdin", stdin="c2VjcmV0LXRva2Vu\n", env=keyring_env)
    assert stored.returncode == Exit.OK, stored.stderr
    assert stored.stdout == "token stored (OS keyring)\n"
    shown = cli("show", env=keyring_env)
    assert "  token: set (keyring)" in shown.stdout
    assert "c2VjcmV0LXRva2Vu" not in shown.stdout
    refused = cli("get", "token", env=keyring_env)
    assert refused.returncode == Exit.INVALID_INPUT
    assert "never printed" in refused.stderr
    assert "c2VjcmV0LXRva2Vu" not in refused.stdout + refused.stderr
    # The secret is in the keyring's own storage, not in the instance's folders.
    assert not any("c2VjcmV0LXRva2Vu" in p.read_text() for p in home.rglob("*") if p.is_file())
    deleted = cli("set", "token", "--delete", env=keyring_env)
    assert deleted.stdout == "token deleted\n"
    assert "  token: not set" in cli("show", env=keyring_env).stdout


def test_without_a_keyring_init_fails_cleanly_and_saves_nothing(cli: RunCli, home: Path) -> None:
    out = cli("init", "--server", "https://acme.wats.com", "--token", "abc")
    assert out.returncode == Exit.FAILED
    assert "no usable OS keyring was found" in out.stderr
    assert "--secret-store file" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (home / "default" / "config" / "config.json").exists()
    direct = cli("set", "token", stdin="abc\n")
    assert direct.returncode == Exit.FAILED
    assert "WATS_STATION_SECRET_STORE=file" in direct.stderr
    via_env = cli("set", "token", stdin="abc\n", env={"WATS_STATION_SECRET_STORE": "file"})
    assert via_env.returncode == Exit.OK, via_env.stderr


def test_env_overrides_are_shown_and_never_saved(cli: RunCli, home: Path) -> None:
    assert cli("init", "--server", "https://acme.wats.com").returncode == Exit.OK
    env = {"WATS_STATION_SERVER_URL": "http://127.0.0.1:8080", "WATS_STATION_TOKEN": "envtok"}
    shown = cli("show", env=env)
    assert "  url: http://127.0.0.1:8080" in shown.stdout
    assert "  WATS_STATION_SERVER_URL -> server.url" in shown.stdout
    assert "  token: set (environment)" in shown.stdout
    assert "envtok" not in shown.stdout
    got = cli("get", "server.url", env=env)
    assert got.stdout == "http://127.0.0.1:8080\n"
    assert 'the file has "https://acme.wats.com"' in got.stderr
    assert cli("set", "timers.ping_s", "120", env=env).returncode == Exit.OK
    assert config_json(home)["server"]["url"] == "https://acme.wats.com"
    bad = cli("show", env={"WATS_STATION_UPLOADS_PAUSED": "perhaps"})
    assert bad.returncode == Exit.INVALID_INPUT
    assert bad.stderr.startswith("error: WATS_STATION_UPLOADS_PAUSED: uploads.paused:")


def test_instances_are_separate(cli: RunCli, home: Path) -> None:
    assert cli("init", "--instance", "line-2", "--station", "L2").returncode == Exit.OK
    assert cli("--instance", "line-2", "get", "station.name").stdout == "L2\n"
    assert config_json(home, "line-2")["station"]["name"] == "L2"
    assert not (home / "default").exists()
    bad = cli("show", "--instance", "line 2")
    assert bad.returncode == Exit.USAGE
    assert bad.stderr == (
        "error: instance name 'line 2' may only contain letters, digits, '-' and '_'\n"
    )


def test_damaged_config_falls_back_to_the_backup(cli: RunCli, home: Path) -> None:
    assert cli("init", "--station", "GOOD").returncode == Exit.OK
    assert cli("set", "station.location", "Lab 2").returncode == Exit.OK
    config_file = home / "default" / "config" / "config.json"
    config_file.write_text('{"station": {"name": "HALF-WRI')
    shown = cli("show")
    assert shown.returncode == Exit.OK, shown.stderr
    assert "  name: GOOD" in shown.stdout
    assert "warning: " in shown.stdout
    assert "using config.json.bak" in shown.stdout
    (home / "default" / "config" / "config.json.bak").write_text("")
    broken = cli("show")
    assert broken.returncode == Exit.INVALID_INPUT
    assert "cannot be used" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_config_without_an_action_prints_usage(cli: RunCli) -> None:
    out = cli()
    assert out.returncode == Exit.USAGE
    assert "show" in out.stderr
    assert "init" in out.stderr
