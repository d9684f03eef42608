"""The worker's batched qasync loop: asyncio's call_soon contract on Qt's event loop."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QTimer

from app.service.event_loop import WorkerEventLoop


@pytest.fixture
def loop(qapp) -> Iterator[WorkerEventLoop]:
    loop = WorkerEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        # qasync's own Qt objects die with the loop: collect it here, on the Qt thread, not
        # on whichever thread the garbage collector next runs in.
        del loop
        gc.collect()


def test_callbacks_run_in_order_and_later_ones_in_a_later_round(loop: WorkerEventLoop) -> None:
    order: list[object] = []

    async def main() -> None:
        done = asyncio.get_running_loop().create_future()
        loop.call_soon(order.append, 1)
        loop.call_soon(lambda: (order.append(2), loop.call_soon(order.append, "queued by 2")))
        loop.call_soon(order.append, 3)
        loop.call_soon(lambda: loop.call_soon(lambda: done.set_result(None)))
        await done

    loop.run_until_complete(main())
    assert order == [1, 2, 3, "queued by 2"]


def test_cancelled_callbacks_do_not_run(loop: WorkerEventLoop) -> None:
    ran: list[str] = []

    async def main() -> None:
        loop.call_soon(ran.append, "kept")
        loop.call_soon(ran.append, "dropped").cancel()
        loop.call_soon_threadsafe(ran.append, "dropped too").cancel()
        await asyncio.sleep(0.01)

    loop.run_until_complete(main())
    assert ran == ["kept"]


def test_a_failing_callback_is_reported_and_the_rest_still_run(loop: WorkerEventLoop) -> None:
    reported: list[dict[str, object]] = []
    ran: list[int] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    def boom() -> None:
        raise ValueError("boom")

    async def main() -> None:
        loop.call_soon(boom)
        loop.call_soon(ran.append, 1)
        await asyncio.sleep(0.01)

    loop.run_until_complete(main())
    assert ran == [1]
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], ValueError)


def test_calls_from_other_threads_all_run_on_the_loop_thread_in_order(
    loop: WorkerEventLoop,
) -> None:
    threads, calls = 8, 500
    seen: dict[int, list[int]] = {t: [] for t in range(threads)}
    loop_thread: set[int] = set()

    def record(thread: int, index: int) -> None:
        loop_thread.add(threading.get_ident())
        seen[thread].append(index)

    async def main() -> None:
        all_done = asyncio.get_running_loop().create_future()

        def last() -> None:
            if sum(map(len, seen.values())) == threads * calls and not all_done.done():
                all_done.set_result(None)

        def hammer(thread: int) -> None:
            for index in range(calls):
                loop.call_soon_threadsafe(record, thread, index)
                loop.call_soon_threadsafe(last)

        workers = [threading.Thread(target=hammer, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        await asyncio.wait_for(all_done, 10)
        for worker in workers:
            worker.join()

    loop.run_until_complete(main())
    assert loop_thread == {threading.get_ident()}
    assert all(seen[t] == list(range(calls)) for t in range(threads))


def test_endless_call_soon_chains_do_not_starve_qt_timers(loop: WorkerEventLoop) -> None:
    spins = 0
    cap = 200_000

    def spin() -> None:
        nonlocal spins
        spins += 1
        if spins < cap:
            loop.call_soon(spin)

    async def main() -> int:
        fired = asyncio.get_running_loop().create_future()
        QTimer.singleShot(5, lambda: fired.set_result(spins))
        loop.call_soon(spin)
        await asyncio.sleep(0.02)  # a qasync (Qt) timer too
        return await fired

    at_timer = loop.run_until_complete(main())
    assert at_timer < cap  # the Qt timer fired while the chain was still going


def test_asyncio_machinery_works_on_it(loop: WorkerEventLoop) -> None:
    async def square(value: int) -> int:
        await asyncio.sleep(0)
        return value * value

    async def main() -> tuple[list[int], int, int]:
        squares = await asyncio.gather(*(square(i) for i in range(50)))
        in_thread = await asyncio.to_thread(threading.get_ident)
        queue: asyncio.Queue[int] = asyncio.Queue()
        running = asyncio.get_running_loop()
        threading.Thread(target=lambda: running.call_soon_threadsafe(queue.put_nowait, 7)).start()
        return squares, in_thread, await asyncio.wait_for(queue.get(), 5)

    squares, in_thread, item = loop.run_until_complete(main())
    assert squares == [i * i for i in range(50)]
    assert in_thread != threading.get_ident()
    assert item == 7


def test_a_closed_loop_refuses_calls_and_has_destroyed_its_waker(qapp) -> None:
    loop = WorkerEventLoop(qapp)
    waker = loop._waker
    loop.close()
    # Destroyed now, on this thread, rather than by a garbage collection in another thread.
    assert not shiboken6.isValid(waker)
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon_threadsafe(print)
    del loop
    gc.collect()
