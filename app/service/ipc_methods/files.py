"""files.failed and files.retry: source files that could not be converted.

A failed file sits in its converter's Error folder with a `.error.txt` note; the queue's
source-files table keeps the reason. Retrying moves it back to where it came from, so the
pipeline converts it again (after the converter or its settings were fixed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import Field

from app.service.ipc_methods._common import MethodContext, Params
from app.service.ipc_methods.failed_files import (
    HashCache,
    RetryError,
    find_error_file,
    restore,
)
from app.service.queue_models import FailedFile

MAX_KEYS = 10_000


class FilesFailedParams(Params):
    limit: int = Field(1000, ge=1, le=10_000)


class FilesRetryParams(Params):
    keys: list[str] = Field(min_length=1, max_length=MAX_KEYS)


class _Notifiable(Protocol):
    def notify(self, path: Path | str, closed: bool = False) -> None: ...


def register(ctx: MethodContext) -> None:
    worker = ctx.worker
    queue = worker.queue
    hashes = HashCache()

    def error_folder_of(converter: str) -> Path | None:
        conv = worker.config.converter_named(converter)
        return conv.effective_error_folder() if conv is not None else None

    def describe(failed: list[FailedFile]) -> list[dict[str, Any]]:
        """Blocking: finds each file in its Error folder (hashing candidates)."""
        rows: list[dict[str, Any]] = []
        for item in failed:
            folder = error_folder_of(item.converter)
            error_file = find_error_file(folder, item.path, item.sha256, hashes) if folder else None
            rows.append(
                {
                    "key": item.key,
                    "converter": item.converter,
                    "path": item.path,
                    "error": item.error,
                    "failed_at": item.updated_at,
                    "error_file": str(error_file) if error_file is not None else None,
                    "sha256": item.sha256,
                }
            )
        return rows

    async def files_failed(params: FilesFailedParams) -> list[dict[str, Any]]:
        failed = await ctx.in_db(queue.failed_files)
        return await ctx.in_thread(describe, failed[: params.limit])

    async def files_retry(params: FilesRetryParams) -> dict[str, Any]:
        failed = {item.key: item for item in await ctx.in_db(queue.failed_files)}
        retried = 0
        problems: list[dict[str, str]] = []
        for key in dict.fromkeys(params.keys):
            item = failed.get(key)
            if item is None:
                problems.append({"key": key, "message": "no failed file with this key"})
                continue
            try:
                path = await retry_one(item)
            except RetryError as exc:
                problems.append({"key": key, "message": str(exc)})
                continue
            retried += 1
            pipeline: _Notifiable | None = getattr(worker, "pipeline", None)
            if pipeline is not None:
                pipeline.notify(path)  # at once, even where the folder gives no events
        return {"retried": retried, "problems": problems}

    async def retry_one(item: FailedFile) -> Path:
        conv = worker.config.converter_named(item.converter)
        if conv is None:
            raise RetryError(f"the converter {item.converter!r} is no longer configured")
        original = Path(item.path)
        if await ctx.in_thread(original.is_file):
            # Never moved to the Error folder (that failed): the next scan converts it.
            await ctx.in_db(queue.forget_failed_file, item.key)
            return original
        error_file = await ctx.in_thread(
            find_error_file, conv.effective_error_folder(), item.path, item.sha256, hashes
        )
        if error_file is None:
            await ctx.in_db(queue.forget_failed_file, item.key)
            raise RetryError(
                f"{original.name} is no longer in the Error folder "
                f"{conv.effective_error_folder()}; forgot it"
            )
        # Forget first: the pipeline may convert (and fail) the file again within moments,
        # and that new failure must not be the record this retry removes.
        await ctx.in_db(queue.forget_failed_file, item.key)
        try:
            return await ctx.in_thread(restore, error_file, item.path, conv.watch_folder)
        except RetryError:
            await ctx.in_db(
                queue.record_failed_file, item.converter, item.path, item.sha256, item.error or ""
            )
            raise

    ctx.server.register("files.failed", files_failed, FilesFailedParams)
    ctx.server.register("files.retry", files_retry, FilesRetryParams)
