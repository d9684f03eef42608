"""What WatsClient sends and how it reads good answers (in-process server, no network)."""

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import httpx
import pytest

from app.samples import sample_path
from app.wats import (
    IdentifiedReport,
    NotFoundError,
    Ping,
    Process,
    SubmitResult,
    UnexpectedResponseError,
    format_utc_offset,
)

from .conftest import json_response

REPORT_ID = "c3eef2e0-034f-4ae1-9f8a-498a6e213775"


async def test_every_call_sends_basic_auth_accept_json_and_a_user_agent(mock_client):
    client, rec = mock_client(lambda r: json_response("2023.2.1.4"), token="dGVzdDpzZWNyZXQ=")
    async with client:
        assert await client.version() == "2023.2.1.4"
    request = rec.last
    assert str(request.url) == "https://wats.example.test/api/App/Version"
    assert request.method == "GET"
    assert request.headers["Authorization"] == "Basic dGVzdDpzZWNyZXQ="
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("wats-station/")


@pytest.mark.parametrize(
    ("token", "header"),
    [(None, None), ("", None), ("  abc=  ", "Basic abc="), ("Basic abc=", "Basic abc=")],
)
async def test_token_is_cleaned_and_absent_token_sends_no_authorization(mock_client, token, header):
    client, rec = mock_client(lambda r: json_response("1"), token=token)
    async with client:
        await client.version()
    assert rec.last.headers.get("Authorization") == header


async def test_custom_user_agent_is_sent(mock_client):
    client, rec = mock_client(lambda r: json_response("1"), user_agent="line-3/1.0")
    async with client:
        await client.version()
    assert rec.last.headers["User-Agent"] == "line-3/1.0"


async def test_base_url_with_virtual_directory_and_api_suffix(mock_client):
    client, rec = mock_client(lambda r: json_response("1"), base_url="https://h/wats/api/")
    async with client:
        await client.version()
    assert client.base_url == "https://h/wats/"
    assert str(rec.last.url) == "https://h/wats/api/App/Version"


async def test_version_accepts_a_bare_text_line(mock_client):
    client, _ = mock_client(
        lambda r: httpx.Response(200, text="2024.1.0", headers={"Content-Type": "text/plain"})
    )
    async with client:
        assert await client.version() == "2024.1.0"


async def test_server_info_returns_strings(mock_client):
    body = {"Version": "2023.2.1.4", "SiteCode": "OSL", "Count": 3, "Empty": None}
    client, rec = mock_client(lambda r: json_response(body))
    async with client:
        info = await client.server_info()
    assert info == {"Version": "2023.2.1.4", "SiteCode": "OSL", "Count": "3", "Empty": ""}
    assert rec.last.url.path == "/api/internal/Client/ServerInfo"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01T13:00:00.1234567+01:00", datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2025-03-01T12:00:00Z", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01T12:00:00", datetime(2025, 3, 1, 12, tzinfo=UTC)),  # no offset: UTC
    ],
)
async def test_ping_parses_server_time_with_offset(mock_client, raw, expected):
    client, rec = mock_client(lambda r: json_response({"ServerName": "wats1", "ServerTime": raw}))
    async with client:
        ping = await client.ping()
    assert ping == Ping(server_name="wats1", server_time=expected)
    assert ping.server_time.utcoffset() is not None
    assert rec.last.url.path == "/api/internal/Client/Ping"


async def test_ping_reads_camel_case_too(mock_client):
    body = {"serverName": "w", "serverTime": "2025-03-01T12:00:00+00:00"}
    client, _ = mock_client(lambda r: json_response(body))
    async with client:
        assert (await client.ping()).server_name == "w"


async def test_module_versions(mock_client):
    rows = [{"Module": "WATS", "Name": "Server", "Version": "2023.2"}]
    client, rec = mock_client(lambda r: json_response(rows))
    async with client:
        assert await client.module_versions() == rows
    assert rec.last.url.path == "/api/internal/Client/Version"


async def test_register_sends_query_parameters_and_an_empty_body(mock_client):
    client, rec = mock_client(lambda r: json_response("pass-123"))
    async with client:
        passcode = await client.register(
            "4c:5f:70:d6:2f:f4",
            "Station 1",
            location="Line 3",
            purpose="EOL",
            description="end of line",
            utc_offset_h=-3.5,
            version="0.1.0",
        )
    assert passcode == "pass-123"
    request = rec.last
    assert request.method == "POST"
    assert request.url.path == "/api/internal/Client/Register"
    assert dict(request.url.params) == {
        "mac": "4C5F70D62FF4",
        "name": "Station 1",
        "location": "Line 3",
        "purpose": "EOL",
        "description": "end of line",
        "utcOffset": "-3.5",
        "version": "0.1.0",
    }
    assert request.content == b""


async def test_register_leaves_out_unset_options(mock_client):
    client, rec = mock_client(lambda r: json_response("p"))
    async with client:
        await client.register("4C5F70D62FF4", "S1", utc_offset_h=2)
    assert dict(rec.last.url.params) == {"mac": "4C5F70D62FF4", "name": "S1", "utcOffset": "2"}


async def test_register_refuses_a_bad_mac_before_sending(mock_client):
    client, rec = mock_client(lambda r: json_response("p"))
    async with client:
        with pytest.raises(ValueError, match="not a MAC address"):
            await client.register("zz", "S1")
    assert rec.requests == []


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(hours=1), "01:00:00"),
        (timedelta(hours=-5, minutes=-30), "-05:30:00"),
        (timedelta(0), "00:00:00"),
        (timedelta(hours=5, minutes=45), "05:45:00"),
    ],
)
def test_utc_offset_is_a_dotnet_timespan(offset, text):
    assert format_utc_offset(offset) == text


async def test_update_client_sends_json_and_returns_the_client_record(mock_client):
    record = {"Client_ID": 7, "Name": "S1"}
    client, rec = mock_client(lambda r: json_response(record))
    async with client:
        result = await client.update_client("S1", timedelta(hours=2), "<misc a='1'/>")
    assert result == record
    request = rec.last
    assert request.url.path == "/api/internal/Client/Update"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "S1",
        "utcoffset": "02:00:00",
        "miscinfo": "<misc a='1'/>",
    }


async def test_update_client_accepts_204(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(204))
    async with client:
        assert await client.update_client("S1", timedelta(0), "") == {}


async def test_upload_log_posts_plain_text_to_the_mac(mock_client):
    client, rec = mock_client(lambda r: httpx.Response(200))
    async with client:
        assert await client.upload_log("4c:5f:70:d6:2f:f4", "line 1\nlinje 2 ø\n") is None
    request = rec.last
    assert request.url.path == "/api/internal/Blob/clientlog/4C5F70D62FF4"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.content == "line 1\nlinje 2 ø\n".encode()


async def test_processes_are_parsed_from_the_real_sample(mock_client):
    rows = json.loads(sample_path("processes.json").read_text(encoding="utf-8"))["processes"]
    client, rec = mock_client(lambda r: json_response(rows))
    async with client:
        processes = await client.processes(include_wip=True)
    assert len(processes) == len(rows) == 99
    assert all(isinstance(p, Process) for p in processes)
    repair = next(p for p in processes if p.code == 2023)
    assert repair.name == "CalibrationRepair"
    assert repair.is_repair_operation
    assert not repair.is_test_operation
    assert repair.is_active
    assert repair.repair_operation is not None
    assert repair.repair_operation["uutBinding"] == 1
    assert dict(rec.last.url.params) == {
        "includeTestOperations": "true",
        "includeRepairOperations": "true",
        "includeWipOperations": "true",
        "includeInactiveProcesses": "false",
    }


def test_process_reads_the_documented_fields():
    process = Process.model_validate(
        {
            "code": 500,
            "name": "Repair",
            "isRepairOperation": True,
            "state": 0,
            "ProcessID": "5f0c",
            "Properties": {"x": 1},
            "uutBinding": 0,
            "repairType": 7,
            "newField": "kept",
        }
    )
    assert process.process_id == "5f0c"
    assert process.properties == {"x": 1}
    assert (process.uut_binding, process.repair_type) == (0, 7)
    assert not process.is_active
    assert process.model_extra == {"newField": "kept"}


@pytest.mark.parametrize(
    "echo",
    [
        [{"ID": REPORT_ID, "uuid": REPORT_ID, "Report_ID": 1}],
        {"ID": REPORT_ID.upper()},
        {"id": REPORT_ID},
        {"uuid": "{" + REPORT_ID + "}"},
        [{"ID": None, "id": REPORT_ID}],
    ],
)
async def test_submit_accepts_object_or_one_element_array_echo(mock_client, echo):
    client, rec = mock_client(lambda r: json_response(echo))
    body = sample_path("wsjf-uut-minimal.json").read_bytes()
    async with client:
        result = await client.submit_wsjf(body)
    assert isinstance(result, SubmitResult)
    assert result.id.strip("{}").lower() == REPORT_ID
    request = rec.last
    assert request.method == "POST"
    assert request.url.path == "/api/Report/WSJF"
    assert request.headers["Content-Type"] == "application/json"
    assert request.content == body


async def test_submit_serializes_a_mapping_with_dates_and_uuids(mock_client):
    client, rec = mock_client(lambda r: json_response([{"ID": REPORT_ID}]))
    report = {
        "id": UUID(REPORT_ID),
        "sn": "SN-ø",
        "start": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1))),
    }
    async with client:
        await client.submit_wsjf(report)
    assert json.loads(rec.last.content) == {
        "id": REPORT_ID,
        "sn": "SN-ø",
        "start": "2025-01-02T03:04:05+01:00",
    }


class _Report:
    def __init__(self, report_id: str, body: bytes | str) -> None:
        self.id = report_id
        self._body = body

    def to_json(self) -> bytes | str:
        return self._body


async def test_submit_accepts_an_object_with_to_json(mock_client):
    client, rec = mock_client(lambda r: json_response({"ID": REPORT_ID}))
    async with client:
        await client.submit_wsjf(_Report(REPORT_ID, f'{{"id": "{REPORT_ID}"}}'))
    assert rec.last.content == f'{{"id": "{REPORT_ID}"}}'.encode()


async def test_submit_of_an_identified_report_sends_its_bytes_and_checks_its_id(mock_client):
    body = f'{{"id": "{REPORT_ID}", "sn": "SN-1"}}'.encode()
    client, rec = mock_client(lambda r: json_response({"ID": REPORT_ID.upper()}))
    async with client:
        result = await client.submit_wsjf(IdentifiedReport(REPORT_ID, body))
        assert str(result.id).lower() == REPORT_ID
        with pytest.raises(UnexpectedResponseError, match="instead of"):
            await client.submit_wsjf(IdentifiedReport(str(uuid4()), body))
    assert rec.last.content == body


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"sn": "x"}, "has no id"),
        ({"id": "  "}, "has no id"),
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
async def test_submit_refuses_a_report_without_id_before_sending(mock_client, report, message):
    client, rec = mock_client(lambda r: json_response({"ID": REPORT_ID}))
    async with client:
        with pytest.raises(ValueError, match=message):
            await client.submit_wsjf(report)
    assert rec.requests == []


async def test_submit_refuses_an_object_it_cannot_serialize(mock_client):
    client, _ = mock_client(lambda r: json_response({"ID": REPORT_ID}))
    async with client:
        with pytest.raises(TypeError, match="cannot submit a int"):
            await client.submit_wsjf(42)  # type: ignore[arg-type]


async def test_get_wsjf_reads_a_report(mock_client):
    client, rec = mock_client(lambda r: json_response({"id": REPORT_ID, "sn": "SN1"}))
    async with client:
        assert await client.get_wsjf(REPORT_ID) == {"id": REPORT_ID, "sn": "SN1"}
    assert rec.last.url.path == f"/api/Report/Wsjf/{REPORT_ID}"


@pytest.mark.parametrize("body", [b"", b"null", b"  "])
async def test_get_wsjf_empty_answer_means_not_processed_yet(mock_client, body):
    client, _ = mock_client(lambda r: httpx.Response(200, content=body))
    async with client:
        with pytest.raises(NotFoundError, match=f"has no report {REPORT_ID} yet"):
            await client.get_wsjf(REPORT_ID)


async def test_query_headers_sends_odata_parameters(mock_client):
    rows = [{"uuid": REPORT_ID, "serialNumber": "SN1"}]
    client, rec = mock_client(lambda r: json_response(rows))
    async with client:
        got = await client.query_headers(
            "serialNumber eq 'SN1'", top=50, orderby="start desc", skip=5
        )
    assert got == rows
    assert rec.last.url.path == "/api/Report/Query/Header"
    assert dict(rec.last.url.params) == {
        "$top": "50",
        "$skip": "5",
        "$filter": "serialNumber eq 'SN1'",
        "$orderby": "start desc",
    }


async def test_query_headers_defaults_send_only_top(mock_client):
    client, rec = mock_client(lambda r: json_response([]))
    async with client:
        assert await client.query_headers() == []
    assert dict(rec.last.url.params) == {"$top": "10"}


@pytest.mark.parametrize(("top", "skip"), [(0, 0), (10_001, 0), (10, -1)])
async def test_query_headers_refuses_out_of_range_paging(mock_client, top, skip):
    client, rec = mock_client(lambda r: json_response([]))
    async with client:
        with pytest.raises(ValueError):
            await client.query_headers(top=top, skip=skip)
    assert rec.requests == []


async def test_dynamic_yield_sends_dimensions_in_body_and_query(mock_client):
    rows = [{"partNumber": "PN-1", "unitCount": 120, "fpy": 0.95}]
    client, rec = mock_client(lambda r: json_response(rows))
    since = datetime(2025, 1, 1, tzinfo=UTC)
    async with client:
        got = await client.dynamic_yield({"partNumber": "PN-%", "dateFrom": since}, "partNumber")
    assert got == rows
    request = rec.last
    assert request.method == "POST"
    assert request.url.path == "/api/App/DynamicYield"
    assert dict(request.url.params) == {"dimensions": "partNumber"}
    assert json.loads(request.content) == {
        "partNumber": "PN-%",
        "dateFrom": "2025-01-01T00:00:00+00:00",
        "dimensions": "partNumber",
    }


async def test_dynamic_yield_without_dimensions_sends_the_filter_only(mock_client):
    client, rec = mock_client(lambda r: json_response([]))
    async with client:
        await client.dynamic_yield({})
    assert rec.last.url.params.get("dimensions") is None
    assert json.loads(rec.last.content) == {}


async def test_aclose_closes_the_connection_pool(mock_client):
    client, _ = mock_client(lambda r: json_response("1"))
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.version()
