"""The config model: defaults, validation that names fields, unknown keys, dotted keys, env."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from app.core.config import (
    ConfigError,
    ConverterConfig,
    StationConfig,
    converter_parameters,
    effective,
    overrides_in_effect,
    parse_key,
    proxy_with_password,
    unknown_keys,
    validate_config,
    value_at,
    with_value,
)


def converter(name: str, folder: Path, **extra: object) -> dict[str, object]:
    return {"name": name, "converter": "wsjf", "watch_folder": str(folder), **extra}


def problems_of(data: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate_config(data)
    return exc.value.problems


# ------------------------------------------------------------------ defaults


def test_defaults_match_the_design() -> None:
    config = StationConfig()
    assert config.schema_version == 1
    assert config.server.url is None
    assert config.server.verify_tls is True
    assert config.server.registration.enabled is False
    assert config.station.name == socket.gethostname()
    assert config.converters == []
    assert (config.uploads.concurrency, config.uploads.connect_timeout_s) == (4, 10)
    assert (config.uploads.post_timeout_s, config.uploads.backoff_base_s) == (100, 2)
    assert (config.uploads.backoff_cap_s, config.uploads.paused) == (300, False)
    assert (config.timers.ping_s, config.timers.client_update_s, config.timers.rescan_s) == (
        300,
        3600,
        60,
    )
    assert (config.pipeline.settle_ms, config.pipeline.convert_timeout_s) == (500, 60)
    assert config.pipeline.keep_uploaded_days == 14
    assert config.pipeline.validation_mode == "truncate"
    assert config.gui.start_minimised is False
    assert config.secret_store == "keyring"


def test_schema_is_written_as_schema(tmp_path: Path) -> None:
    data = StationConfig().to_json_dict()
    assert data["schema"] == 1
    assert "schema_version" not in data
    assert json.loads(json.dumps(data)) == data  # plain JSON, paths as strings


def test_converter_defaults_and_effective_folders(tmp_path: Path) -> None:
    conv = ConverterConfig.model_validate(converter("ICT line 1", tmp_path / "in"))
    assert conv.enabled is True
    assert conv.patterns == []
    assert (conv.recursive, conv.polling) == (False, False)
    assert conv.post_action == "move"
    assert conv.mode == "active"
    assert conv.effective_done_folder() == tmp_path / "in" / "Done"
    assert conv.effective_error_folder() == tmp_path / "in" / "Error"
    custom = ConverterConfig.model_validate(
        converter("x", tmp_path / "in", done_folder=str(tmp_path / "ok"))
    )
    assert custom.effective_done_folder() == tmp_path / "ok"


def test_converter_parameters_fill_station_defaults(tmp_path: Path) -> None:
    config = validate_config(
        {
            "station": {"name": "EOL-3", "location": "Plant A"},
            "pipeline": {"validation_mode": "reject"},
            "converters": [converter("a", tmp_path, parameters={"operator": "kari"})],
        }
    )
    params = converter_parameters(config, config.converters[0])
    assert params == {
        "fallback_process_code": 10,
        "station": "EOL-3",
        "location": "Plant A",
        "purpose": None,
        "validation_mode": "reject",
        "operator": "kari",
    }


# ------------------------------------------------------------------ validation


def test_errors_name_the_fields(tmp_path: Path) -> None:
    problems = problems_of(
        {
            "server": {"url": "ftp://example.com"},
            "uploads": {"concurrency": 33},
            "converters": [converter("a", tmp_path, post_action="shred")],
        }
    )
    assert problems[0].startswith("server.url: 'ftp://example.com' is not a valid server URL")
    assert (
        problems[1]
        == "converters[0].post_action: Input should be 'move', 'delete', 'zip' or 'keep'"
    )
    assert problems[2] == "uploads.concurrency: Input should be less than or equal to 32"


def test_converter_names_must_be_unique(tmp_path: Path) -> None:
    problems = problems_of(
        {"converters": [converter("ICT", tmp_path / "a"), converter("ict", tmp_path / "b")]}
    )
    assert problems == ["converters[1].name: 'ict' is already the name of converters[0]"]


def test_two_converters_cannot_share_a_watch_folder(tmp_path: Path) -> None:
    problems = problems_of(
        {
            "converters": [
                converter("a", tmp_path / "in"),
                converter("b", str(tmp_path / "in") + "/"),
            ]
        }
    )
    assert problems == [
        f"converters[1].watch_folder: {str(tmp_path / 'in')!r} is already watched by converters[0]"
    ]


def test_done_and_error_folders_cannot_be_the_watch_folder(tmp_path: Path) -> None:
    problems = problems_of(
        {
            "converters": [
                converter("a", tmp_path / "x"),
                converter(
                    "b",
                    tmp_path / "in",
                    done_folder=str(tmp_path / "in"),
                    error_folder=str(tmp_path / "in" / "."),
                ),
            ]
        }
    )
    assert problems == [
        "converters[1].done_folder: must not be the watch folder itself",
        "converters[1].error_folder: must not be the watch folder itself",
    ]


def test_a_watch_folder_cannot_be_another_converters_done_folder(tmp_path: Path) -> None:
    problems = problems_of(
        {"converters": [converter("a", tmp_path / "in"), converter("b", tmp_path / "in" / "Done")]}
    )
    assert problems == [
        "converters[1].watch_folder: is the Done folder of converters[0] "
        "(its processed files would be converted again)"
    ]


def test_relative_watch_folder_is_refused() -> None:
    problems = problems_of({"converters": [converter("a", Path("results"))]})
    assert problems == ["converters[0].watch_folder: 'results' is not an absolute path"]


def test_parameter_errors_name_the_parameter(tmp_path: Path) -> None:
    problems = problems_of(
        {
            "converters": [
                converter(
                    "a",
                    tmp_path,
                    parameters={"fallback_process_code": "ten", "encoding": "klingon"},
                )
            ]
        }
    )
    assert problems == [
        "converters[0].parameters.encoding: 'klingon' is not a known encoding",
        "converters[0].parameters.fallback_process_code: 'ten' is not a whole number",
    ]


def test_parameters_are_coerced_and_specific_keys_kept(tmp_path: Path) -> None:
    config = validate_config(
        {
            "converters": [
                converter(
                    "a",
                    tmp_path,
                    parameters={"fallback_process_code": "20", "fallback_rev": 3, "sheet": 2},
                )
            ]
        }
    )
    assert config.converters[0].parameters == {
        "fallback_process_code": 20,
        "fallback_rev": "3",
        "sheet": 2,
    }


def test_backoff_cap_below_base_is_refused() -> None:
    problems = problems_of({"uploads": {"backoff_base_s": 10, "backoff_cap_s": 5}})
    assert problems == ["uploads.backoff_cap_s: 5 is below backoff_base_s (10)"]


def test_newer_schema_is_explained() -> None:
    problems = problems_of({"schema": 2})
    assert problems == [
        "schema: this file has schema 2, written by a newer WATS Station; this version reads "
        "schema 1"
    ]


@pytest.mark.parametrize(
    ("mac", "stored"),
    [("4c:5f:70:d6:2f:f4", "4C5F70D62FF4"), ("4C-5F-70-D6-2F-F4", "4C5F70D62FF4"), ("", None)],
)
def test_registration_mac_is_normalised(mac: str, stored: str | None) -> None:
    config = validate_config({"server": {"registration": {"mac": mac}}})
    assert config.server.registration.mac == stored


def test_proxy_url_must_not_hold_the_password() -> None:
    problems = problems_of({"server": {"proxy": "http://bob:secret@proxy:3128"}})
    assert problems == [
        "server.proxy: must not contain a password; store it with "
        "`wats-station config set proxy-password`"
    ]
    assert proxy_with_password("http://bob@proxy:3128", "p@ss") == "http://bob:p%40ss@proxy:3128"
    assert proxy_with_password("http://proxy:3128", "x") == "http://proxy:3128"


# ------------------------------------------------------------------ unknown keys


def test_unknown_keys_round_trip_and_are_reported(tmp_path: Path) -> None:
    data = {
        "schema": 1,
        "future": {"flag": True},
        "server": {"url": "https://acme.wats.com", "region": "eu"},
        "converters": [converter("a", tmp_path, colour="blue")],
    }
    config = validate_config(data)
    assert unknown_keys(config) == ["converters[0].colour", "future", "server.region"]
    again = validate_config(json.loads(json.dumps(config.to_json_dict())))
    assert again.to_json_dict()["future"] == {"flag": True}
    assert again.to_json_dict()["server"]["region"] == "eu"
    assert again.to_json_dict()["converters"][0]["colour"] == "blue"


# ------------------------------------------------------------------ dotted keys


def test_parse_key_forms() -> None:
    assert parse_key("server.url") == ["server", "url"]
    assert parse_key("converters[0].watch_folder") == ["converters", 0, "watch_folder"]
    assert parse_key("converters.1.enabled") == ["converters", 1, "enabled"]
    assert parse_key("converters[ICT line 1.2].enabled") == [
        "converters",
        "ICT line 1.2",
        "enabled",
    ]
    with pytest.raises(ConfigError):
        parse_key("")


def test_with_value_parses_by_field_type(tmp_path: Path) -> None:
    config = validate_config({"converters": [converter("ICT line 1", tmp_path)]})
    config = with_value(config, "uploads.concurrency", "8")
    config = with_value(config, "uploads.paused", "yes")
    config = with_value(config, "server.url", " https://acme.wats.com ")
    config = with_value(config, "converters[ICT line 1].patterns", "*.json, *.txt")
    config = with_value(config, "converters[0].parameters.fallback_process_code", "20")
    config = with_value(config, "converters[0].parameters.operator", "007")
    config = with_value(config, "converters[0].parameters.sheets", "[1, 2]")
    config = with_value(config, "station.location", "")
    assert config.uploads.concurrency == 8
    assert config.uploads.paused is True
    assert config.server.url == "https://acme.wats.com"
    assert config.converters[0].patterns == ["*.json", "*.txt"]
    assert config.converters[0].parameters == {
        "fallback_process_code": 20,
        "operator": "007",
        "sheets": [1, 2],
    }
    assert config.station.location is None
    assert value_at(config, "converters[0].patterns") == ["*.json", "*.txt"]
    assert value_at(config, "uploads") == config.uploads.model_dump(mode="json")


def test_with_value_refuses_bad_values_naming_the_field(tmp_path: Path) -> None:
    config = validate_config({"converters": [converter("a", tmp_path)]})
    cases = {
        (
            "uploads.concurrency",
            "0",
        ): "uploads.concurrency: Input should be greater than or equal to 1",
        ("server.nope", "1"): "server.nope: server has no setting 'nope'",
        (
            "converters[3].name",
            "x",
        ): "converters[3].name: converters has 1 entry, so there is no [3]",
        ("converters[b].name", "x"): "converters[b].name: no entry in converters is named 'b'",
        ("station.name", " "): "station.name: must not be empty",
        ("converters", "nope"): 'converters: expects JSON, e.g. ["*.json", "*.txt"]',
    }
    for (key, raw), message in cases.items():
        with pytest.raises(ConfigError) as exc:
            with_value(config, key, raw)
        assert str(exc.value) == message


def test_with_value_can_append_a_converter(tmp_path: Path) -> None:
    entry = json.dumps(converter("b", tmp_path / "b"))
    config = with_value(StationConfig(), "converters[0]", entry)
    assert [c.name for c in config.converters] == ["b"]


# ------------------------------------------------------------------ environment overrides


def test_effective_applies_overrides_and_marks_the_copy() -> None:
    stored = validate_config({"server": {"url": "https://acme.wats.com"}})
    env = {
        "WATS_STATION_SERVER_URL": "http://127.0.0.1:8080",
        "WATS_STATION_STATION_NAME": "LAB-9",
        "WATS_STATION_UPLOADS_PAUSED": "true",
        "WATS_STATION_PROXY": "",  # empty counts as not set
    }
    result = effective(stored, env)
    assert result.server.url == "http://127.0.0.1:8080"
    assert result.station.name == "LAB-9"
    assert result.uploads.paused is True
    assert result.server.proxy is None
    assert set(result.applied_env_overrides) == {
        "WATS_STATION_SERVER_URL",
        "WATS_STATION_STATION_NAME",
        "WATS_STATION_UPLOADS_PAUSED",
    }
    assert stored.server.url == "https://acme.wats.com"  # the original is untouched
    assert stored.applied_env_overrides == ()


def test_bad_override_names_the_variable() -> None:
    with pytest.raises(ConfigError) as exc:
        effective(StationConfig(), {"WATS_STATION_UPLOADS_CONCURRENCY": "lots"})
    assert str(exc.value).startswith("WATS_STATION_UPLOADS_CONCURRENCY: uploads.concurrency:")


def test_overrides_in_effect_lists_secret_variables_without_values() -> None:
    active = overrides_in_effect({"WATS_STATION_TOKEN": "s3cret", "WATS_STATION_PROXY": "http://p"})
    assert [(o.variable, o.key) for o in active] == [
        ("WATS_STATION_PROXY", "server.proxy"),
        ("WATS_STATION_TOKEN", "(secret)"),
    ]
    assert all("s3cret" not in repr(o) for o in active)
