"""The server's process list (test, repair and WIP operations), wats-api.md §2.4.

Seeded from the real list in app/samples/processes.json unless `--seed-processes FILE` gives
another one, in the same `{"processes": [...]}` shape or as a bare array.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from app.devserver.jsonio import loads
from app.samples import sample_path

# Process records have no ProcessID in the sample; derive a stable one from the code.
_PROCESS_ID_NAMESPACE = uuid.UUID("5b0c5b1e-7a57-4a7c-9d1c-0c8a3e6f5a10")


def load_process_file(path: Path) -> list[dict[str, Any]]:
    """The process records of a JSON file, or ValueError saying what is wrong with it."""
    try:
        data = loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read process list {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"process list {path} is not valid JSON: {exc}") from None
    records = data.get("processes") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(
            f'process list {path} must be {{"processes": [...]}} or an array of objects'
        )
    for index, record in enumerate(records):
        code = record.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValueError(f"process list {path}: entry {index} has no integer 'code'")
    return records


def default_processes() -> list[dict[str, Any]]:
    return load_process_file(sample_path("processes.json"))


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    code = int(record["code"])
    public = {
        "code": code,
        "name": record.get("name", str(code)),
        "description": record.get("description", record.get("name", "")),
        "isTestOperation": bool(record.get("isTestOperation", False)),
        "isRepairOperation": bool(record.get("isRepairOperation", False)),
        "isWipOperation": bool(record.get("isWipOperation", False)),
        "processIndex": int(record.get("processIndex", 0)),
        "state": int(record.get("state", 1)),
        "ProcessID": str(record.get("ProcessID") or uuid.uuid5(_PROCESS_ID_NAMESPACE, str(code))),
        "Properties": record.get("Properties"),
    }
    # Repair-only details (bindings, fail-code tree) pass through unchanged.
    for key, value in record.items():
        public.setdefault(key, value)
    return public


def _internal(public: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Code": public["code"],
        "ProcessID": public["ProcessID"],
        "Name": public["name"],
        "Description": public["description"],
        "ProcessIndex": public["processIndex"],
        "State": public["state"],
        "Properties": public["Properties"],
        "IsTestOperation": public["isTestOperation"],
        "IsWIPOperation": public["isWipOperation"],
        "IsRepairOperation": public["isRepairOperation"],
    }


class ProcessCatalog:
    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._processes = [_public(record) for record in records]
        self._names = {p["code"]: str(p["name"]) for p in self._processes}

    @property
    def codes(self) -> frozenset[int]:
        return frozenset(self._names)

    def name_of(self, code: int) -> str:
        return self._names.get(code, "")

    def public(
        self,
        *,
        include_test: bool = True,
        include_repair: bool = True,
        include_wip: bool = True,
        include_inactive: bool = False,
    ) -> list[dict[str, Any]]:
        """`GET /api/App/Processes`: a process is listed when any of its kinds is included
        (a process of no kind always is) and it is active or inactive ones are wanted."""
        listed = []
        for process in self._processes:
            if process["state"] != 1 and not include_inactive:
                continue
            kinds = (
                (process["isTestOperation"], include_test),
                (process["isRepairOperation"], include_repair),
                (process["isWipOperation"], include_wip),
            )
            if any(is_kind for is_kind, _ in kinds) and not any(
                is_kind and wanted for is_kind, wanted in kinds
            ):
                continue
            listed.append(process)
        return listed

    def internal(self) -> list[dict[str, Any]]:
        """`GET /api/internal/Process/GetProcesses`: all processes, PascalCase."""
        return [_internal(process) for process in self._processes]
