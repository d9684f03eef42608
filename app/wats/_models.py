"""Values the WATS client returns (wats-api.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class Ping:
    """Answer of `GET api/internal/Client/Ping`. `server_time` is always timezone-aware."""

    server_name: str
    server_time: datetime


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """A report the server accepted; `id` is the report id the server echoed."""

    id: str


class Process(BaseModel):
    """A process (test, repair or WIP operation) as `GET api/App/Processes` lists it (§2.4).

    Field names are snake_case; the wire names (camelCase, plus PascalCase `ProcessID` and
    `Properties`) are the aliases. Unknown fields are kept, since servers add fields over time.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    code: int
    name: str
    description: str | None = None
    is_test_operation: bool = Field(default=False, alias="isTestOperation")
    is_repair_operation: bool = Field(default=False, alias="isRepairOperation")
    is_wip_operation: bool = Field(default=False, alias="isWipOperation")
    process_index: int = Field(default=0, alias="processIndex")
    # 1 = active; anything else is inactive.
    state: int = 1
    process_id: str | int | None = Field(default=None, alias="ProcessID")
    properties: Any = Field(default=None, alias="Properties")
    # Repair processes only: 0 = required, 1 = optional, 2 = never.
    uut_binding: int | None = Field(default=None, alias="uutBinding")
    bom_binding: int | None = Field(default=None, alias="bomBinding")
    vendor_binding: int | None = Field(default=None, alias="vendorBinding")
    image_constraint: int | None = Field(default=None, alias="imageConstraint")
    # 0 Default, 1 AutomaticProcess, 2 Scrapped, 3 NoFailureFound, 4 Component, 5 Design,
    # 6 ManualProcess, 7 Replaced.
    repair_type: int | None = Field(default=None, alias="repairType")
    # Some servers nest the repair settings (fail-code categories, misc infos) here.
    repair_operation: dict[str, Any] | None = Field(default=None, alias="repairOperation")

    @property
    def is_active(self) -> bool:
        return self.state == 1
