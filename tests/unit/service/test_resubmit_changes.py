"""Header edits for queue.resubmit: applied to the stored WSJF, validated like a new report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.core.config import ValidationMode
from app.samples import sample_path
from app.service.ipc_methods.resubmit import ChangeError, apply_changes

PAYLOAD = sample_path("wsjf-uut-minimal.json").read_bytes()
REPORT_ID = json.loads(PAYLOAD)["id"]


def changed(changes: dict[str, object], mode: ValidationMode = "reject") -> dict[str, Any]:
    result: dict[str, Any] = json.loads(apply_changes(PAYLOAD, changes, mode))
    return result


def test_header_fields_change_and_the_id_stays() -> None:
    doc = changed({"pn": "PCB-100", "processCode": 20, "machineName": "EOL-7"})
    assert doc["pn"] == "PCB-100"
    assert doc["processCode"] == 20
    assert doc["machineName"] == "EOL-7"
    assert doc["id"] == REPORT_ID
    assert doc["sn"] == "FATTest-299"


def test_operator_and_unit_fields() -> None:
    doc = changed({"operator": "anna", "uut.fixtureId": "FX-9"})
    assert doc["uut"]["user"] == "anna"
    assert doc["uut"]["fixtureId"] == "FX-9"


def test_null_or_empty_removes_an_optional_field() -> None:
    assert "location" not in changed({"location": None})
    assert "purpose" not in changed({"purpose": " "})


def test_text_is_cleaned_and_limited_like_a_new_report() -> None:
    assert changed({"sn": "  SN-1  "})["sn"] == "SN-1"
    assert changed({"sn": "S" * 150}, "truncate")["sn"] == "S" * 100
    with pytest.raises(ChangeError, match=r"^changes\.sn: "):
        changed({"sn": "S" * 150}, "reject")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "x"}, r"changes\.id: the id of a queued report cannot be changed"),
        ({"type": "R"}, r"changes\.type"),
        ({"root": {"steps": []}}, r"changes\.root: must be text"),
        ({"colour": "red"}, r"changes\.colour: not a header field"),
        ({"uur.user": "x"}, r"changes\.uur\.user: this report has uut, not uur"),
        ({"uut.a.b": "x"}, r"changes\.uut\.a\.b: not a header field"),
        ({"processCode": "ten"}, r"changes\.processCode: "),
        ({"pn": "  "}, r"changes\.pn: must not be empty"),
    ],
)
def test_refused_changes_name_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ChangeError, match=message):
        changed(changes)


def test_a_stored_payload_that_is_not_json_is_refused() -> None:
    with pytest.raises(ChangeError, match="not valid JSON"):
        apply_changes(b"{ nope", {"pn": "x"}, "reject")
