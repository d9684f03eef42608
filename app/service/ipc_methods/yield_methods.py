"""yield.query, yield.targets.get, yield.targets.set and yield.server.

- `yield.query`: the dashboard's figures (app.core.yield_engine) for a period, filters and
  grouping, from the worker's in-memory index (app.service.yield_service).
- `yield.targets.get/set`: the `yield` section of config.json (targets, shifts, alarm
  rules), saved through the config store and applied at once.
- `yield.server`: the same figures from the WATS server's DynamicYield for the station's
  products and processes over the same span, labelled as server data.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import Field, field_validator, model_validator

from app.core.config import ConfigError, StationConfig, describe_validation_error
from app.core.yield_engine import GROUP_BY, GroupBy, YieldFilter, YieldQuery
from app.core.yield_periods import PeriodError, parse_period
from app.core.yield_server import UNFILTERABLE, server_request, server_rows
from app.core.yield_settings import YieldSettings
from app.ipc.protocol import NoParams
from app.service.ipc_methods._common import MethodContext, Params, invalid_params, unavailable
from app.service.yield_service import YieldUnavailable

FilterValues = list[str]
SERVER_TIMEOUT_S = 30.0


def _by_process() -> list[GroupBy]:
    return ["process"]


class YieldQueryParams(Params):
    period: str = "shift"
    process: FilterValues = Field(default_factory=list, max_length=100)
    pn: FilterValues = Field(default_factory=list, max_length=100)
    rev: FilterValues = Field(default_factory=list, max_length=100)
    station: FilterValues = Field(default_factory=list, max_length=100)
    fixture: FilterValues = Field(default_factory=list, max_length=100)
    operator: FilterValues = Field(default_factory=list, max_length=100)
    by: list[GroupBy] = Field(default_factory=_by_process, max_length=3)
    pareto_limit: int = Field(15, ge=1, le=200)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        try:
            parse_period(value)
        except PeriodError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("process", "pn", "rev", "station", "fixture", "operator", mode="before")
    @classmethod
    def _values(cls, value: object) -> object:
        """A single value may come bare; numbers (process codes) become text."""
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, list):
            return [str(v).strip() for v in value if not isinstance(v, bool) and str(v).strip()]
        return value

    @field_validator("by")
    @classmethod
    def _unique(cls, value: list[GroupBy]) -> list[GroupBy]:
        if len(set(value)) != len(value):
            raise ValueError("each grouping may be given once")
        return value

    def query(self) -> YieldQuery:
        return YieldQuery(
            period=parse_period(self.period),
            filter=YieldFilter(
                process=tuple(self.process),
                pn=tuple(self.pn),
                rev=tuple(self.rev),
                station=tuple(self.station),
                fixture=tuple(self.fixture),
                operator=tuple(self.operator),
            ),
            by=tuple(self.by),
            pareto_limit=self.pareto_limit,
        )


class YieldTargetsSetParams(Params):
    """Any of the three parts of the yield section; the others stay as they are."""

    targets: list[dict[str, Any]] | None = Field(None, max_length=1000)
    shifts: list[dict[str, Any]] | None = Field(None, max_length=24)
    alarms: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> YieldTargetsSetParams:
        if self.targets is None and self.shifts is None and self.alarms is None:
            raise ValueError("give targets, shifts or alarms")
        return self


def register(ctx: MethodContext) -> None:
    worker = ctx.worker
    service = worker.yield_service

    async def query(params: YieldQueryParams) -> dict[str, Any]:
        try:
            return await service.query(params.query())
        except YieldUnavailable as exc:
            raise unavailable(str(exc)) from None

    async def targets_get(_params: NoParams) -> dict[str, Any]:
        saved = await ctx.in_thread(worker.store.load)
        return {
            **saved.yield_settings.model_dump(mode="json"),
            "group_by": list(GROUP_BY),
            "active_alarms": service.alarms(),
        }

    async def targets_set(params: YieldTargetsSetParams) -> dict[str, Any]:
        def change(current: StationConfig) -> StationConfig:
            section = current.yield_settings.model_dump(mode="json")
            for part in ("targets", "shifts", "alarms"):
                value = getattr(params, part)
                if value is not None:
                    section[part] = value
            try:
                new = YieldSettings.model_validate(section)
            except ValueError as exc:
                problems = _problems(exc)
                raise ConfigError("; ".join(problems), problems) from None
            return current.model_copy(update={"yield_settings": new})

        try:
            saved = await ctx.in_thread(worker.store.update, change)
        except ConfigError as exc:
            raise invalid_params("; ".join(exc.problems)) from None
        worker.reload_config()
        service.settings_changed()
        return {**saved.yield_settings.model_dump(mode="json"), "applied": True}

    async def server_view(params: YieldQueryParams) -> dict[str, Any]:
        client = worker.client
        if client is None:
            raise unavailable("no WATS server is configured, so there are no server figures")
        if worker.status.current.server_state != "online":
            raise unavailable("the WATS server cannot be reached now (offline)")
        local_params = params.model_copy(update={"by": ["process", "pn"]})
        try:
            local = await service.query(local_params.query())
        except YieldUnavailable as exc:
            raise unavailable(str(exc)) from None
        pns = [g["key"]["pn"] for g in local["groups"] if g["key"].get("pn")]
        processes = [
            g["key"].get("process_name") or str(g["key"]["process_code"]) for g in local["groups"]
        ]
        query = params.query()
        body, dimensions = server_request(
            start=local["period"]["start"],
            end=local["period"]["end"],
            flt=query.filter,
            by=query.by,
            pns=pns,
            processes=processes,
        )
        from app.wats import WatsError

        try:
            rows = await asyncio.wait_for(client.dynamic_yield(body, dimensions), SERVER_TIMEOUT_S)
        except TimeoutError:
            raise unavailable("the WATS server did not answer the yield query in time") from None
        except WatsError as exc:
            raise unavailable(f"the WATS server could not give yield figures: {exc}") from None
        ignored = [name for name in UNFILTERABLE if getattr(query.filter, name)]
        return {
            "source": "server",
            "server_url": worker.config.server.url,
            "as_of": time.time(),
            "period": local["period"],
            "filter": body,
            "dimensions": dimensions,
            "by": list(query.by),
            "ignored_filters": ignored,
            **server_rows(rows, query.by),
        }

    server = ctx.server
    server.register("yield.query", query, YieldQueryParams)
    server.register("yield.targets.get", targets_get)
    server.register("yield.targets.set", targets_set, YieldTargetsSetParams)
    server.register("yield.server", server_view, YieldQueryParams)


def _problems(exc: ValueError) -> list[str]:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return [f"yield.{line}" for line in describe_validation_error(exc)]
    return [str(exc)]
