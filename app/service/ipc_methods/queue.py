"""queue.stats, queue.list, queue.get, queue.retry, queue.resubmit, queue.delete.

Only the worker writes the queue (DESIGN.md §1): the GUI and CLI change it through these.
Every call runs on the worker's database thread; listings never load payloads, and each sort
order is served by an index, so a page costs about the same on 100 or 100,000 reports.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field

from app.ipc.protocol import NoParams
from app.service.ipc_methods._common import (
    MethodContext,
    Params,
    conflict,
    invalid_params,
    not_found,
)
from app.service.ipc_methods.resubmit import ChangeError, apply_changes
from app.service.queue_models import InvalidReportError, ReportRow, ReportState

ReportId = Annotated[str, Field(min_length=1, max_length=100)]
State = Literal["queued", "uploading", "uploaded", "rejected"]
Sort = Literal["created_desc", "created_asc", "start_desc", "start_asc"]
MAX_IDS = 10_000


class QueueListParams(Params):
    state: State | None = None
    search: str | None = Field(None, max_length=200)
    sort: Sort = "created_desc"
    offset: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)


class QueueIdParams(Params):
    id: ReportId


class QueueIdsParams(Params):
    ids: list[ReportId] = Field(min_length=1, max_length=MAX_IDS)


class QueueResubmitParams(Params):
    id: ReportId
    changes: dict[str, Any] = Field(default_factory=dict)


def register(ctx: MethodContext) -> None:
    worker = ctx.worker
    queue = worker.queue

    async def stats(_params: NoParams) -> dict[str, int]:
        return await ctx.in_db(queue.counts)

    async def list_page(params: QueueListParams) -> dict[str, Any]:
        page = await ctx.in_db(
            queue.list, params.state, params.search, params.sort, params.offset, params.limit
        )
        return {"rows": [row_dict(row) for row in page.rows], "total": page.total}

    async def get(params: QueueIdParams) -> dict[str, Any]:
        row = await ctx.in_db(queue.get, params.id)
        if row is None:
            raise not_found(f"no report with id {params.id} in the queue")
        result = row_dict(row)
        result["report"] = None
        if row.payload is not None:
            try:
                result["report"] = json.loads(row.payload)
            except (UnicodeDecodeError, json.JSONDecodeError):
                result["report_error"] = "the stored report is not valid JSON"
        return result

    async def retry(params: QueueIdsParams) -> dict[str, Any]:
        retried = len(await ctx.in_db(queue.retry_many, params.ids))
        if retried:
            worker.uploader.notify_new_reports()
        return {"retried": retried}

    async def resubmit(params: QueueResubmitParams) -> dict[str, Any]:
        row = await ctx.in_db(queue.get, params.id)
        if row is None:
            raise not_found(f"no report with id {params.id} in the queue")
        if row.state != ReportState.REJECTED:
            raise conflict(
                f"report {row.id} is {row.state.value}, not rejected: only a rejected report "
                "can be resubmitted (use queue.retry to send a queued one now)"
            )
        if row.payload is None:
            raise conflict(f"the content of report {row.id} is no longer stored")
        payload = row.payload
        if params.changes:
            mode = worker.config.pipeline.validation_mode
            try:
                payload = await ctx.in_thread(apply_changes, row.payload, params.changes, mode)
            except ChangeError as exc:
                raise invalid_params(str(exc)) from None
        try:
            done = await ctx.in_db(queue.resubmit, row.id, payload)
        except InvalidReportError as exc:
            raise invalid_params(f"changes: {exc}") from None
        if not done:
            raise conflict(f"report {row.id} changed meanwhile and is no longer rejected")
        worker.uploader.notify_new_reports()
        return {"resubmitted": True}

    async def delete(params: QueueIdsParams) -> dict[str, Any]:
        deleted = len(await ctx.in_db(queue.delete_many, params.ids))
        # Reports being uploaded right now are not deleted (nor unknown ids): say how many.
        return {"deleted": deleted, "skipped": len(set(params.ids)) - deleted}

    server = ctx.server
    server.register("queue.stats", stats)
    server.register("queue.list", list_page, QueueListParams)
    server.register("queue.get", get, QueueIdParams)
    server.register("queue.retry", retry, QueueIdsParams)
    server.register("queue.resubmit", resubmit, QueueResubmitParams)
    server.register("queue.delete", delete, QueueIdsParams)


def row_dict(row: ReportRow) -> dict[str, Any]:
    """One queue row as the GUI and CLI see it (no payload)."""
    header = row.header
    return {
        "id": row.id,
        "state": row.state.value,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "uploaded_at": row.uploaded_at,
        "type": header.type,
        "pn": header.pn,
        "rev": header.rev,
        "sn": header.sn,
        "process_code": header.process_code,
        "process_name": header.process_name,
        "result": header.result,
        "start": header.start,
        "station": header.station,
        "operator": header.operator,
        "failing_step_name": header.failing_step_name,
        "failing_step_path": header.failing_step_path,
        "source_path": row.source_path,
        "converter": row.converter,
        "payload_size": row.payload_size,
        "pruned": row.pruned,
    }
