"""The `/api` endpoints of the local server (wats-api.md §2.1): one function per endpoint.

Each handler takes the server state, the request and (when authenticated as a registered
station) that station's MAC, and returns a response or raises ApiError.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from app.devserver.headers import header_from_wsjf
from app.devserver.jsonio import ApiError, json_response, parse_json_body, read_json
from app.devserver.odata import (
    TOP_DEFAULT,
    TOP_MAX,
    ODataError,
    parse_count,
    parse_filter,
    parse_orderby,
    sort_rows,
)
from app.devserver.state import SERVER_NAME, SERVER_VERSION, ServerState
from app.devserver.store import StoredReport
from app.devserver.validation import canonical_uuid, validate_wsjf
from app.devserver.wsxf import parse_wsxf
from app.devserver.yield_query import dynamic_yield, uut_report_headers


@dataclass(frozen=True)
class Call:
    """Who is calling and the path's last segment for routes that take one (an id, a MAC)."""

    mac: str | None = None  # set when a registered station authenticated
    param: str = ""


Handler = Callable[[ServerState, web.Request, Call], Awaitable[web.StreamResponse]]


def _server_time(state: ServerState) -> str:
    now = datetime.now().astimezone() + timedelta(seconds=state.clock_skew_s)
    return now.isoformat()


async def app_version(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(SERVER_VERSION)


async def server_info(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(
        {
            "Version": SERVER_VERSION,
            "ServerName": SERVER_NAME,
            "ServerTime": _server_time(state),
            "Registered": "true" if call.mac else "false",
        }
    )


async def ping(state: ServerState, request: web.Request, call: Call) -> web.Response:
    server_time = _server_time(state)
    if call.mac is not None and call.mac in state.store.clients:
        state.store.clients[call.mac]["LastPing"] = server_time
    return json_response({"ServerName": SERVER_NAME, "ServerTime": server_time})


async def module_versions(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(
        [
            {"Module": "WATS", "Name": "WATS Server", "Version": SERVER_VERSION},
            {"Module": "Local", "Name": SERVER_NAME, "Version": SERVER_VERSION},
        ]
    )


def _client_record(state: ServerState, key: str, name: str, mac: str | None) -> dict[str, Any]:
    clients = state.store.clients
    if key not in clients:
        number = len(clients) + 1
        clients[key] = {
            "Client_ID": number,
            "ClientId": number,
            "Name": name,
            "DisplayName": name,
            "GUID": None,
            "RegDate": datetime.now(UTC).isoformat(),
            "Status": 1,
            "ParentId": 0,
            "ClientGroupId": None,
            "MiscInfo": None,
            "MiscInfoUpdated": None,
            "Location": None,
            "Purpose": None,
            "ClientType": 5,  # TestStation
            "UTCOffset": None,
            "Description": None,
            "LastPing": None,
            "StatusText": "Online",
            "MachineAccountId": mac,
            "SiteCode": "LOCAL",
        }
    return clients[key]


async def register(state: ServerState, request: web.Request, call: Call) -> web.Response:
    query = request.query
    station_mac = (query.get("mac") or "").strip()
    name = (query.get("name") or "").strip()
    if not station_mac:
        raise ApiError(400, "Query parameter 'mac' is required")
    if not name:
        raise ApiError(400, "Query parameter 'name' is required")
    passcode = state.credentials.register(station_mac)
    record = _client_record(state, station_mac, name, station_mac)
    record.update(
        {
            "Name": name,
            "DisplayName": name,
            "RegDate": datetime.now(UTC).isoformat(),
            "Location": query.get("location") or record["Location"],
            "Purpose": query.get("purpose") or record["Purpose"],
            "Description": query.get("description") or record["Description"],
            "UTCOffset": query.get("utcOffset") or record["UTCOffset"],
            "Version": query.get("version"),
        }
    )
    return json_response(passcode)


async def update_client(state: ServerState, request: web.Request, call: Call) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object with name, utcoffset and miscinfo")
    # Keys are matched case-insensitively: the C# client sends "name", others send "Name".
    fields = {str(k).lower(): v for k, v in body.items()}
    name = fields.get("name")
    if call.mac is None and not name:
        raise ApiError(400, "Field 'name' is required for a station that is not registered")
    record = _client_record(state, call.mac or str(name), str(name or call.mac), call.mac)
    if name:
        record["Name"] = record["DisplayName"] = str(name)
    if "utcoffset" in fields:
        record["UTCOffset"] = fields["utcoffset"]
    if "miscinfo" in fields:
        record["MiscInfo"] = fields["miscinfo"]
        record["MiscInfoUpdated"] = datetime.now(UTC).isoformat()
    return json_response(record)


async def upload_client_log(state: ServerState, request: web.Request, call: Call) -> web.Response:
    station = call.param
    state.store.client_logs[station] = await request.text()
    return web.Response(status=200)


async def read_client_log(state: ServerState, request: web.Request, call: Call) -> web.Response:
    station = call.param
    text = state.store.client_logs.get(station)
    if text is None:
        raise ApiError(404, f"No client log uploaded for {station!r}")
    return web.Response(text=text, content_type="text/plain")


def _flag(request: web.Request, name: str, default: bool) -> bool:
    for key, value in request.query.items():
        if key.lower() == name.lower():
            if value.lower() in ("true", "1"):
                return True
            if value.lower() in ("false", "0"):
                return False
            raise ApiError(400, f"Query parameter '{name}' must be true or false, got {value!r}")
    return default


async def processes(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(
        state.processes.public(
            include_test=_flag(request, "includeTestOperations", True),
            include_repair=_flag(request, "includeRepairOperations", True),
            include_wip=_flag(request, "includeWipOperations", True),
            include_inactive=_flag(request, "includeInactiveProcesses", False),
        )
    )


async def internal_processes(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(state.processes.internal())


def _submit_result(sent_id: str, report_id: str, legacy_id: int) -> dict[str, Any]:
    return {"ID": sent_id, "uuid": report_id, "Report_ID": legacy_id}


async def submit_wsjf(state: ServerState, request: web.Request, call: Call) -> web.Response:
    body = await request.read()
    report = parse_json_body(body)
    report_id = validate_wsjf(report, state.known_process_codes)
    code = int(report["processCode"])
    header = header_from_wsjf(report, report_id, state.processes.name_of(code), datetime.now(UTC))
    stored = state.store.upsert(header, report, len(body))
    return json_response([_submit_result(str(report["id"]), report_id, stored.legacy_id)])


async def submit_wsxf(state: ServerState, request: web.Request, call: Call) -> web.Response:
    body = await request.read()
    parsed = parse_wsxf(body, state.known_process_codes)
    results = []
    now = datetime.now(UTC)
    for item in parsed:
        code = int(item.wsjf["processCode"])
        header = header_from_wsjf(item.wsjf, item.report_id, state.processes.name_of(code), now)
        stored = state.store.upsert(header, item.wsjf, len(body), xml=body)
        results.append(_submit_result(item.sent_id, item.report_id, stored.legacy_id))
    return json_response(results)


def _stored(state: ServerState, call: Call) -> StoredReport:
    report_id = canonical_uuid(call.param)
    stored = state.store.get(report_id)
    if stored is None:
        raise ApiError(404, f"No report with id {report_id}")
    return stored


async def read_wsjf(state: ServerState, request: web.Request, call: Call) -> web.Response:
    return json_response(_stored(state, call).body)


async def read_wsxf(state: ServerState, request: web.Request, call: Call) -> web.Response:
    stored = _stored(state, call)
    if stored.xml is None:
        raise ApiError(404, f"Report {stored.report_id} was submitted as WSJF; read it as WSJF")
    return web.Response(body=stored.xml, content_type="application/xml")


def _query_option(request: web.Request, name: str) -> str | None:
    for key, value in request.query.items():
        if key.lower() == name:
            return value
    return None


async def header_query(state: ServerState, request: web.Request, call: Call) -> web.Response:
    store = state.store
    rows = [store.row(stored) for stored in store.reports.values()]
    try:
        top = parse_count(_query_option(request, "$top"), "$top", TOP_DEFAULT, TOP_MAX)
        skip = parse_count(_query_option(request, "$skip"), "$skip", 0)
        order = parse_orderby(_query_option(request, "$orderby"))
        filter_text = _query_option(request, "$filter")
        field_names = list(rows[0]) if rows else list(_EMPTY_ROW_FIELDS)
        if filter_text:
            predicate = parse_filter(filter_text, field_names)
            rows = [row for row in rows if predicate(row)]
        select = _query_option(request, "$select")
        selected = _select_fields(select, field_names) if select else None
    except ODataError as exc:
        raise ApiError(400, str(exc)) from None
    report_type = (_query_option(request, "reporttype") or "").upper()
    if report_type:
        if report_type not in ("U", "R"):
            raise ApiError(400, f"Query parameter 'reportType' must be U or R, got {report_type!r}")
        rows = [row for row in rows if row["reportType"] == report_type]
    rows = sort_rows(rows, order)[skip : skip + top]
    if selected is not None:
        rows = [{name: row[name] for name in selected} for row in rows]
    return json_response(rows)


def _select_fields(select: str, field_names: list[str]) -> list[str]:
    by_lower = {name.lower(): name for name in field_names}
    chosen = []
    for item in select.split(","):
        name = by_lower.get(item.strip().lower())
        if name is None:
            raise ODataError(f"$select: unknown field {item.strip()!r}")
        chosen.append(name)
    return chosen


async def yield_endpoint(state: ServerState, request: web.Request, call: Call) -> web.Response:
    body = await _optional_object(request)
    headers = [stored.header for stored in state.store.reports.values()]
    return json_response(dynamic_yield(headers, body, _query_option(request, "dimensions")))


async def uut_reports(state: ServerState, request: web.Request, call: Call) -> web.Response:
    body = await _optional_object(request)
    store = state.store
    selected, _ = uut_report_headers((s.header for s in store.reports.values()), body)
    return json_response([store.row(store.reports[header.uuid]) for header in selected])


async def _optional_object(request: web.Request) -> dict[str, Any]:
    """A filter body: empty means all defaults; otherwise it must be a JSON object."""
    if not (await request.read()).strip():
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "The filter must be a JSON object")
    return body


# Row fields when the store is empty, so $filter still checks field names.
_EMPTY_ROW_FIELDS = [
    "uuid",
    "serialNumber",
    "partNumber",
    "revision",
    "reportType",
    "start",
    "result",
    "batchNumber",
    "userName",
    "stationName",
    "location",
    "purpose",
    "processCode",
    "processName",
    "comment",
    "executionTime",
    "swFilename",
    "swVersion",
    "testSocketIndex",
    "fixtureId",
    "errorCode",
    "errorMessage",
    "run",
    "passedInRun",
    "receiveCount",
    "reportSize",
    "timeStamp",
    "causedUutFailure",
    "causedUutFailurePath",
    "referencedUut",
    "measuresDeleted",
]

# (method, lower-case path) -> handler. Paths ending in "/" take one more segment as "param".
ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/api/app/version"): app_version,
    ("GET", "/api/internal/client/serverinfo"): server_info,
    ("GET", "/api/internal/client/ping"): ping,
    ("GET", "/api/internal/client/version"): module_versions,
    ("POST", "/api/internal/client/register"): register,
    ("POST", "/api/internal/client/update"): update_client,
    ("POST", "/api/internal/blob/clientlog/"): upload_client_log,
    ("GET", "/api/systemmanager/clientlog/"): read_client_log,
    ("GET", "/api/app/processes"): processes,
    ("GET", "/api/internal/process/getprocesses"): internal_processes,
    ("POST", "/api/report/wsjf"): submit_wsjf,
    ("POST", "/api/report/wsxf"): submit_wsxf,
    ("GET", "/api/report/wsjf/"): read_wsjf,
    ("GET", "/api/report/wsxf/"): read_wsxf,
    ("GET", "/api/report/query/header"): header_query,
    ("POST", "/api/app/dynamicyield"): yield_endpoint,
    ("POST", "/api/app/uutreport"): uut_reports,
}
