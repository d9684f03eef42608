"""config.get/set, token.set and connection.test against a real worker."""

from __future__ import annotations

import json
from pathlib import Path

from app.core.secrets import set_token
from app.ipc.protocol import ErrorCode
from tests.fixtures.worker import Station, wait_for
from tests.integration.worker_ipc.support import error_of

SECRET = "c2VjcmV0LXRva2VuLTQyOnh5eg=="


def test_config_get_has_no_secret_and_says_whether_a_token_is_set(
    station: Station, devserver
) -> None:
    station.configure(server=devserver)
    station.start()
    reply = station.call("config.get")
    assert reply["token_set"] is True
    assert reply["token_source"] == "file"
    assert reply["config"]["server"]["url"] == devserver.url
    assert reply["config"]["station"]["name"] == "TEST-STATION"
    assert reply["config_file"] == str(station.paths.config_file)
    assert reply["unknown_keys"] == []
    assert "WATS_STATION_SECRET_STORE" in reply["env_overrides"]
    assert devserver.token not in json.dumps(reply)

    station.call("token.set", {"token": SECRET})
    assert SECRET not in json.dumps(station.call("config.get"))


def test_config_set_values_is_saved_and_applied_live(station: Station, tmp_path: Path) -> None:
    station.configure()
    station.start()
    folder = tmp_path / "new-line"
    folder.mkdir()
    converter = {"name": "Line 2", "converter": "wsjf", "watch_folder": str(folder)}
    reply = station.call(
        "config.set",
        {"values": {"station.name": "EOL-7", "uploads.concurrency": 2, "converters[0]": converter}},
    )
    assert reply["applied"] is True
    assert reply["config"]["station"]["name"] == "EOL-7"
    saved = json.loads(station.paths.config_file.read_text())
    assert saved["station"]["name"] == "EOL-7"
    assert saved["uploads"]["concurrency"] == 2
    # Live: the new folder is watched at once, without a restart.
    status = wait_for(
        lambda: (s := station.status())["converters"] and s, 2, what="the new converter"
    )
    assert status["converters"][0]["name"] == "Line 2"
    assert status["converters"][0]["folder"] == str(folder)
    (folder / "unit.json").write_bytes(
        Path(__file__).parents[3].joinpath("app/samples/wsjf-uut-minimal.json").read_bytes()
    )
    wait_for(lambda: station.call("queue.stats")["queued"] == 1, 10, what="the file queued")


def test_config_set_whole_config(station: Station) -> None:
    station.configure()
    station.start()
    config = station.call("config.get")["config"]
    config["station"]["location"] = "Hall B"
    config["extra_from_newer_version"] = {"kept": True}
    reply = station.call("config.set", {"config": config})
    assert reply["config"]["station"]["location"] == "Hall B"
    again = station.call("config.get")
    assert again["unknown_keys"] == ["extra_from_newer_version"]
    assert again["config"]["extra_from_newer_version"] == {"kept": True}


def test_config_set_refuses_bad_values_naming_the_field(station: Station, tmp_path: Path) -> None:
    station.configure()
    station.start()
    before = station.paths.config_file.read_bytes()

    too_many = error_of(station, "config.set", {"values": {"uploads.concurrency": 99}})
    assert too_many.code == ErrorCode.INVALID_PARAMS
    assert too_many.message.startswith("uploads.concurrency:")

    missing = {"name": "X", "converter": "wsjf", "watch_folder": str(tmp_path / "nope")}
    folder = error_of(station, "config.set", {"values": {"converters[0]": missing}})
    assert folder.code == ErrorCode.INVALID_PARAMS
    assert "converters[0].watch_folder: folder does not exist" in folder.message

    whole = station.call("config.get")["config"]
    whole["server"]["url"] = "ftp://nowhere"
    url = error_of(station, "config.set", {"config": whole})
    assert url.message.startswith("server.url:")

    unknown = error_of(station, "config.set", {"values": {"server.colour": "red"}})
    assert "server.colour" in unknown.message
    both = error_of(station, "config.set", {"config": whole, "values": {"a": 1}})
    assert both.code == ErrorCode.INVALID_PARAMS
    assert error_of(station, "config.set", {}).code == ErrorCode.INVALID_PARAMS
    assert station.paths.config_file.read_bytes() == before  # nothing saved


def test_token_set_stores_clears_and_is_used(station: Station, devserver) -> None:
    config = station.configure(server=devserver)
    set_token(station.paths, config, "wrong-token", environ=station.env)
    station.start()
    wrong = station.call("connection.test")
    assert wrong["ok"] is False
    assert [c["outcome"] for c in wrong["checks"] if c["name"] == "auth"] == ["fail"]

    reply = station.call("token.set", {"token": devserver.token})
    assert reply == {"token_set": True, "store": "file", "token_source": "file"}
    assert json.loads(station.paths.secrets_file.read_text())["token"] == devserver.token
    checks = station.call("connection.test")
    assert checks["ok"] is True, checks

    cleared = station.call("token.set", {"token": ""})
    assert cleared["token_set"] is False
    assert station.call("config.get")["token_set"] is False
    newline = error_of(station, "token.set", {"token": "a\nb"})
    assert newline.code == ErrorCode.INVALID_PARAMS
    assert "params.token" in newline.message


def test_connection_test_reports_each_check(station: Station, devserver) -> None:
    station.configure()
    station.start()
    none = station.call("connection.test")
    assert none["ok"] is False
    assert none["checks"][0]["outcome"] == "fail"
    assert "no server URL" in none["checks"][0]["detail"]

    good = station.call("connection.test", {"url": devserver.url, "token": devserver.token})
    assert good["ok"] is True
    assert {c["name"] for c in good["checks"]} >= {"reachable", "auth"}
    assert all(c["outcome"] in ("ok", "warn", "skip") for c in good["checks"])

    refused = station.call("connection.test", {"url": "http://127.0.0.1:9"})
    assert refused["ok"] is False
    assert refused["checks"][0]["outcome"] == "fail"

    bad_url = error_of(station, "connection.test", {"url": "not a url"})
    assert bad_url.code == ErrorCode.INVALID_PARAMS
