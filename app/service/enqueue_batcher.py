"""Group commit for the pipeline: several converted files in one queue transaction.

Every enqueue is a durable commit (an fsync, DESIGN.md §3). One commit per file would cap
the pipeline at a few hundred files per second on an ordinary disk; collecting the files that
finish within `window_s` (or `max_files` of them) into one `enqueue_files` call pays the
fsync once for all of them. Each file still succeeds or fails on its own (the queue uses a
savepoint per file); a storage error fails every file of that commit, and each caller leaves
its source file where it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from app.service.queue_models import EnqueueResult, SourceBatch

DEFAULT_WINDOW_S = 0.02
DEFAULT_MAX_FILES = 64

EnqueueFiles = Callable[[Sequence[SourceBatch]], list[EnqueueResult]]


@dataclass
class _Waiting:
    batch: SourceBatch
    future: asyncio.Future[EnqueueResult]


class EnqueueBatcher:
    """`await batcher.submit(batch)` returns that file's EnqueueResult after the commit.

    `enqueue_files` is blocking (the queue's method); it runs on `executor`, one commit at a
    time. While a commit is on its way to disk, new files gather for the next one.
    """

    def __init__(
        self,
        enqueue_files: EnqueueFiles,
        executor: Executor,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        max_files: int = DEFAULT_MAX_FILES,
    ) -> None:
        self._enqueue_files = enqueue_files
        self._executor = executor
        self._window_s = window_s
        self._max_files = max_files
        self._waiting: list[_Waiting] = []
        self._timer: asyncio.TimerHandle | None = None
        self._committing: asyncio.Task[None] | None = None
        self.commits = 0  # how many transactions ran (for measurements)

    @property
    def busy(self) -> bool:
        return bool(self._waiting) or self._committing is not None

    async def submit(self, batch: SourceBatch) -> EnqueueResult:
        """Queue one file's reports; raises what `enqueue_files` raised for its commit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[EnqueueResult] = loop.create_future()
        self._waiting.append(_Waiting(batch, future))
        if self._committing is None:
            if len(self._waiting) >= self._max_files:
                self._start_commit()
            elif self._timer is None:
                self._timer = loop.call_later(self._window_s, self._start_commit)
        return await future

    def _start_commit(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._committing is not None:
            return
        # Callers that gave up (cancelled while stopping) are left out.
        self._waiting = [w for w in self._waiting if not w.future.done()]
        if not self._waiting:
            return
        taken, self._waiting = (
            self._waiting[: self._max_files],
            self._waiting[self._max_files :],
        )
        self._committing = asyncio.get_running_loop().create_task(self._commit(taken))

    async def _commit(self, taken: list[_Waiting]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                self._executor, self._enqueue_files, [w.batch for w in taken]
            )
        except asyncio.CancelledError:
            for waiting in taken:
                waiting.future.cancel()
            raise
        except Exception as exc:
            for waiting in taken:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
        else:
            self.commits += 1
            for waiting, result in zip(taken, results, strict=True):
                if not waiting.future.done():
                    waiting.future.set_result(result)
        finally:
            self._committing = None
            # Files that arrived during the commit have waited at least that long already.
            if self._waiting:
                self._start_commit()
