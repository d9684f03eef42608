"""queue.* over the real socket of a real worker, on a queue filled before it started."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from app.ipc.protocol import ErrorCode
from tests.fixtures.worker import Station, wait_for
from tests.integration.worker_ipc.support import (
    client_for,
    error_of,
    fill_queue,
    report_id,
)

ROW_KEYS = {
    "id", "state", "attempts", "next_attempt_at", "last_error", "created_at", "uploaded_at",
    "type", "pn", "rev", "sn", "process_code", "process_name", "result", "start", "station",
    "operator", "failing_step_name", "failing_step_path", "source_path", "converter",
}  # fmt: skip


@pytest.fixture
def queued(station: Station) -> list[str]:
    """30 reports, the 3 oldest rejected; uploads paused (no server)."""
    ids = fill_queue(station, 30, rejected=3)
    station.configure()
    station.start()
    return ids


def test_stats_count_every_state(station: Station, queued: list[str]) -> None:
    assert station.call("queue.stats") == {
        "queued": 27,
        "uploading": 0,
        "uploaded": 0,
        "rejected": 3,
    }


def test_list_pages_filters_sorts_and_searches(station: Station, queued: list[str]) -> None:
    page = station.call("queue.list", {"limit": 10})
    assert page["total"] == 30
    assert [row["id"] for row in page["rows"]] == list(reversed(queued))[:10]
    assert set(page["rows"][0]) >= ROW_KEYS
    assert page["rows"][0]["converter"] == "Line 1"

    second = station.call("queue.list", {"limit": 10, "offset": 10, "sort": "created_asc"})
    assert [row["id"] for row in second["rows"]] == queued[10:20]

    rejected = station.call("queue.list", {"state": "rejected"})
    assert rejected["total"] == 3
    assert {row["id"] for row in rejected["rows"]} == set(queued[:3])
    assert all("4242" in row["last_error"] for row in rejected["rows"])

    sn = station.call("queue.get", {"id": queued[7]})["sn"]
    found = station.call("queue.list", {"search": sn})
    assert [row["id"] for row in found["rows"]] == [queued[7]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "params.state"),
        ({"limit": 0}, "params.limit"),
        ({"limit": 1001}, "params.limit"),
        ({"offset": -1}, "params.offset"),
        ({"sort": "by_size"}, "params.sort"),
        ({"limit": "ten"}, "params.limit"),
        ({"colour": "red"}, "params.colour"),
    ],
)
def test_list_refuses_bad_params_naming_the_field(
    station: Station, queued: list[str], params: dict[str, Any], field: str
) -> None:
    error = error_of(station, "queue.list", params)
    assert error.code == ErrorCode.INVALID_PARAMS
    assert field in error.message


def test_get_returns_the_row_and_the_report(station: Station, queued: list[str]) -> None:
    row = station.call("queue.get", {"id": queued[5].upper()})  # ids are case-insensitive
    assert row["id"] == queued[5]
    assert row["state"] == "queued"
    assert row["report"]["id"] == queued[5]
    assert row["report"]["sn"] == row["sn"]


def test_get_unknown_id_is_not_found(station: Station, queued: list[str]) -> None:
    error = error_of(station, "queue.get", {"id": report_id(999)})
    assert error.code == ErrorCode.NOT_FOUND
    assert report_id(999) in error.message
    assert error_of(station, "queue.get", {"id": "not-an-id"}).code == ErrorCode.NOT_FOUND
    assert error_of(station, "queue.get", {}).code == ErrorCode.INVALID_PARAMS


def test_retry_queues_rejected_reports(station: Station, queued: list[str]) -> None:
    reply = station.call("queue.retry", {"ids": [queued[0], queued[1], report_id(999)]})
    assert reply == {"retried": 2}
    assert station.call("queue.stats")["rejected"] == 1
    assert error_of(station, "queue.retry", {"ids": []}).code == ErrorCode.INVALID_PARAMS


def test_delete_removes_reports(station: Station, queued: list[str]) -> None:
    reply = station.call("queue.delete", {"ids": [queued[10], queued[11], report_id(999)]})
    assert reply["deleted"] == 2
    assert reply["skipped"] == 1
    assert station.call("queue.stats")["queued"] == 25
    assert error_of(station, "queue.get", {"id": queued[10]}).code == ErrorCode.NOT_FOUND


def test_retry_and_delete_take_ten_thousand_ids_in_one_request(
    station: Station, queued: list[str]
) -> None:
    unknown = [report_id(1000 + index) for index in range(10_000 - len(queued))]
    assert station.call("queue.retry", {"ids": queued + unknown}, timeout=60) == {"retried": 30}
    assert station.call("queue.stats")["rejected"] == 0
    reply = station.call("queue.delete", {"ids": queued + unknown}, timeout=60)
    assert reply == {"deleted": 30, "skipped": 9_970}
    assert station.call("queue.stats")["queued"] == 0
    too_many = {"ids": [*unknown, *queued, report_id(99_999)]}
    assert error_of(station, "queue.delete", too_many).code == ErrorCode.INVALID_PARAMS


def test_resubmit_applies_header_changes_and_keeps_the_id(
    station: Station, queued: list[str]
) -> None:
    target = queued[0]
    reply = station.call(
        "queue.resubmit", {"id": target, "changes": {"processCode": 10, "sn": "  FIXED-1 "}}
    )
    assert reply == {"resubmitted": True}
    row = station.call("queue.get", {"id": target})
    assert row["state"] == "queued"
    assert row["attempts"] == 0
    assert row["last_error"] is None
    assert row["sn"] == "FIXED-1"  # re-validated: text is trimmed
    assert row["process_code"] == 10
    assert row["report"]["id"] == target
    assert row["report"]["processCode"] == 10


def test_resubmit_without_changes_sends_the_report_as_it_was(
    station: Station, queued: list[str]
) -> None:
    before = station.call("queue.get", {"id": queued[1]})["report"]
    assert station.call("queue.resubmit", {"id": queued[1]}) == {"resubmitted": True}
    assert station.call("queue.get", {"id": queued[1]})["report"] == before


def test_resubmit_refusals(station: Station, queued: list[str]) -> None:
    not_rejected = error_of(station, "queue.resubmit", {"id": queued[20]})
    assert not_rejected.code == ErrorCode.CONFLICT
    assert "queued" in not_rejected.message
    assert error_of(station, "queue.resubmit", {"id": report_id(999)}).code == (ErrorCode.NOT_FOUND)
    bad_field = error_of(station, "queue.resubmit", {"id": queued[0], "changes": {"colour": 1}})
    assert bad_field.code == ErrorCode.INVALID_PARAMS
    assert "changes.colour" in bad_field.message
    bad_id = error_of(station, "queue.resubmit", {"id": queued[0], "changes": {"id": "x"}})
    assert "changes.id" in bad_id.message
    too_long = error_of(
        station, "queue.resubmit", {"id": queued[0], "changes": {"processCode": "ten"}}
    )
    assert too_long.code == ErrorCode.INVALID_PARAMS
    assert "processCode" in too_long.message
    # Nothing was changed by the refusals.
    assert station.call("queue.get", {"id": queued[0]})["state"] == "rejected"


def test_a_queue_event_follows_a_change_within_100_ms(station: Station, queued: list[str]) -> None:
    events: list[tuple[float, dict[str, Any]]] = []
    subscribed = threading.Event()

    def listen() -> None:
        with client_for(station) as client:
            stream = client.iter_events(["queue"], idle_timeout=10)
            subscribed.set()
            for topic, data in stream:
                assert topic == "queue"
                events.append((time.perf_counter(), data))
                if queued[12] in data["changed"]:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert subscribed.wait(10)
    with client_for(station) as client:
        client.call("queue.delete", {"ids": [queued[12]]})
        changed_at = time.perf_counter()
    listener.join(10)
    assert events, "no queue event arrived"
    arrived, data = events[-1]
    assert data["changed"] == [queued[12]]
    assert data["counts"]["queued"] == 26
    assert arrived - changed_at < 0.1
    # The status snapshot shows the same counts.
    wait_for(lambda: station.status()["queue"]["queued"] == 26, 5, what="status counts")


def test_list_of_a_large_page_stays_within_the_message_limit(
    station: Station, queued: list[str]
) -> None:
    page = station.call("queue.list", {"limit": 1000})
    assert len(page["rows"]) == 30
    assert len(json.dumps(page)) < 4 * 1024 * 1024
