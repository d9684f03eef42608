"""The GUI's IpcClient (Qt signals + asyncio futures on a qasync loop) against an IpcServer in
this process and against the real test worker process."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from pydantic import BaseModel
from PySide6.QtWidgets import QApplication

from app.ipc.client import IpcClient
from app.ipc.protocol import (
    ConnectionLost,
    ErrorCode,
    IpcError,
    IpcTimeout,
    NoParams,
    WorkerNotRunning,
)
from app.service import ipc_server
from app.service.ipc_server import AlreadyRunningError, IpcServer
from tests.integration.ipc.conftest import INSTANCE
from tests.integration.ipc.support import Worker

LOCAL = "inproc"


class Delay(BaseModel):
    seconds: float
    tag: str


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()
    # Its Qt objects must be destroyed on this thread, not by a collection in another one.
    del loop
    gc.collect()


Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def run(qloop: qasync.QEventLoop) -> Runner:
    def runner(coro: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return runner


def make_server(instance: str = LOCAL) -> IpcServer:
    server = IpcServer(instance)

    async def delay(params: Delay) -> str:
        await asyncio.sleep(params.seconds)
        return params.tag

    async def missing(_params: NoParams) -> None:
        raise IpcError(ErrorCode.CONFLICT, "already uploading")

    server.register("delay", delay, Delay)
    server.register("missing", missing)
    return server


@pytest.fixture
def server(qloop: qasync.QEventLoop) -> Iterator[IpcServer]:
    server = make_server()
    server.start()
    yield server
    qloop.run_until_complete(server.aclose())
    server.deleteLater()


@pytest.fixture
def client(qloop: qasync.QEventLoop) -> Iterator[IpcClient]:
    client = IpcClient(LOCAL)
    yield client
    client.disconnect_from_worker()
    client.deleteLater()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


def test_requests_in_flight_resolve_by_id(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    finished: list[str] = []

    async def scenario() -> tuple[Any, ...]:
        await client.connect_to_worker(timeout=5)

        async def tracked(seconds: float, tag: str) -> Any:
            result = await client.request("delay", {"seconds": seconds, "tag": tag})
            finished.append(tag)
            return result

        return await asyncio.gather(
            tracked(0.3, "slow"), tracked(0, "fast"), client.request("ping")
        )

    slow, fast, ping = run(scenario())
    assert (slow, fast) == ("slow", "fast")
    assert finished == ["fast", "slow"]
    assert ping["pong"] is True


def test_errors_become_ipc_errors_with_the_code(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    async def scenario() -> list[IpcError]:
        await client.connect_to_worker()
        errors = []
        for method, params in [("missing", None), ("nope", None), ("delay", {"tag": 1})]:
            with pytest.raises(IpcError) as caught:
                await client.request(method, params)
            errors.append(caught.value)
        return errors

    conflict, unknown, invalid = run(scenario())
    assert (conflict.code, conflict.message) == ("conflict", "already uploading")
    assert unknown.code == "unknown_method"
    assert invalid.code == "invalid_params"
    assert "params.seconds" in invalid.message


def test_connected_signal_and_events_for_subscribed_topics(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    connected: list[bool] = []
    events: list[tuple[str, Any]] = []
    client.connected.connect(lambda: connected.append(True))
    client.event.connect(lambda topic, data: events.append((topic, data)))

    async def scenario() -> None:
        await client.connect_to_worker()
        assert client.is_connected
        assert await client.subscribe(["queue", "alarm"]) == {"queue", "alarm"}
        assert server.publish("queue", {"queued": 3}) == 1
        assert server.publish("status", {"ignored": True}) == 0
        assert server.publish("alarm", Delay(seconds=1, tag="model")) == 1
        await until(lambda: len(events) == 2)
        await client.unsubscribe(["queue"])
        assert server.publish("queue", {"queued": 4}) == 0

    run(scenario())
    assert connected == [True]
    assert events == [("queue", {"queued": 3}), ("alarm", {"seconds": 1.0, "tag": "model"})]


def test_publish_from_another_thread_is_delivered_from_the_server_thread(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    events: list[tuple[str, Any]] = []
    returned: list[int] = []
    client.event.connect(lambda topic, data: events.append((topic, data)))

    async def scenario() -> None:
        await client.connect_to_worker()
        await client.subscribe(["log"])
        thread = threading.Thread(target=lambda: returned.append(server.publish("log", "hi")))
        thread.start()
        thread.join(timeout=5)
        await until(lambda: events == [("log", "hi")])

    run(scenario())
    assert returned == [0]


def test_subscribing_to_an_unknown_topic_is_refused(client: IpcClient, run: Runner) -> None:
    async def scenario() -> None:
        with pytest.raises(ValueError, match="unknown topics"):
            await client.subscribe(["weather"])

    run(scenario())


def test_no_worker_raises_worker_not_running_after_the_timeout(
    client: IpcClient, run: Runner, qloop: qasync.QEventLoop
) -> None:
    async def scenario() -> Any:
        start = qloop.time()
        with pytest.raises(WorkerNotRunning, match="instance 'inproc' is not running"):
            await client.connect_to_worker(timeout=0.3)
        return qloop.time() - start

    elapsed = run(scenario())
    assert 0.2 <= elapsed < 3
    assert not client.is_connected


def test_requests_without_a_connection_fail_plainly(client: IpcClient, run: Runner) -> None:
    async def scenario() -> None:
        with pytest.raises(ConnectionLost, match="not connected to the worker"):
            await client.request("ping")

    run(scenario())


def test_connect_waits_for_a_worker_that_starts_late(
    client: IpcClient, run: Runner, qloop: qasync.QEventLoop
) -> None:
    late = make_server()

    async def scenario() -> Any:
        qloop.call_later(0.3, late.start)
        await client.connect_to_worker(timeout=10)
        return await client.request("ping")

    try:
        assert run(scenario())["pong"] is True
    finally:
        late.close()


def test_worker_loss_fails_pending_requests_and_reconnect_restores_subscriptions(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    disconnected: list[bool] = []
    events: list[tuple[str, Any]] = []
    client.disconnected.connect(lambda: disconnected.append(True))
    client.event.connect(lambda topic, data: events.append((topic, data)))
    replacement = make_server()

    async def scenario() -> None:
        await client.connect_to_worker()
        await client.subscribe(["status"])
        pending = client.request("delay", {"seconds": 5, "tag": "never"})
        await until(lambda: server.client_count == 1)
        server.close()
        with pytest.raises(ConnectionLost):
            await pending
        await until(lambda: disconnected == [True])
        assert not client.is_connected

        replacement.start()
        await client.connect_to_worker(timeout=5)
        await until(lambda: replacement.client_count == 1)
        # Re-subscribed during connect: the event arrives without a new subscribe().
        assert replacement.publish("status", {"state": "ok"}) == 1
        await until(lambda: events == [("status", {"state": "ok"})])

    try:
        run(scenario())
    finally:
        replacement.close()


def test_request_timeout(server: IpcServer, client: IpcClient, run: Runner) -> None:
    async def scenario() -> Any:
        await client.connect_to_worker()
        with pytest.raises(IpcTimeout, match=r"did not answer delay within 0\.1 s"):
            await client.request("delay", {"seconds": 1, "tag": "late"}, timeout=0.1)
        return await client.request("delay", {"seconds": 0, "tag": "on time"})

    assert run(scenario()) == "on time"


def test_disconnect_from_worker_emits_disconnected(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    disconnected: list[bool] = []
    client.disconnected.connect(lambda: disconnected.append(True))

    async def scenario() -> None:
        await client.connect_to_worker()
        await until(lambda: server.client_count == 1)
        client.disconnect_from_worker()
        await until(lambda: server.client_count == 0)

    run(scenario())
    assert disconnected == [True]
    assert not client.is_connected


# ---------------------------------------------------------------- server API


def test_a_second_server_in_the_same_process_is_refused(
    server: IpcServer, qloop: qasync.QEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This thread cannot answer the probe's ping while it waits: keep that wait short.
    monkeypatch.setattr(ipc_server, "PROBE_TIMEOUT_S", 0.2)
    second = make_server()
    with pytest.raises(AlreadyRunningError, match="already running for instance 'inproc'"):
        second.start()
    assert not second.listening
    assert server.listening


def test_register_and_publish_refuse_mistakes(qloop: qasync.QEventLoop) -> None:
    server = make_server()

    async def handler(_params: NoParams) -> None:
        return None

    for name in ("ping", "subscribe", "unsubscribe", "delay"):
        with pytest.raises(ValueError, match="already registered"):
            server.register(name, handler)
    with pytest.raises(ValueError, match="unknown IPC event topic 'weather'"):
        server.publish("weather", {})
    assert server.publish("queue", {"nobody": "listens"}) == 0
    assert server.methods == ["delay", "missing", "ping", "subscribe", "unsubscribe"]


def test_start_is_idempotent_and_close_removes_the_socket(
    server: IpcServer, tmp_path: Path
) -> None:
    server.start()
    assert server.listening
    path = server.address.path
    server.close()
    assert not server.listening
    if path is not None:
        assert not path.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files")
def test_a_deleted_socket_file_is_recreated_without_dropping_clients(
    server: IpcServer, client: IpcClient, run: Runner
) -> None:
    path = server.address.path
    assert path is not None

    async def scenario() -> None:
        await client.connect_to_worker()
        await until(lambda: server.client_count == 1)
        path.unlink()  # a temp cleaner at work
        server._keep_socket_alive()
        assert path.exists()
        assert server.listening
        # The connected client still works, and new clients can connect again.
        assert (await client.request("ping"))["pong"] is True
        newcomer = IpcClient(LOCAL)
        await newcomer.connect_to_worker(timeout=2)
        assert (await newcomer.request("ping"))["pong"] is True
        newcomer.disconnect_from_worker()

    run(scenario())


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files")
def test_a_worker_whose_socket_was_taken_over_reports_it(
    server: IpcServer, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E.g. a GUI found no socket and spawned a new worker.
    monkeypatch.setattr(ipc_server, "PROBE_TIMEOUT_S", 0.2)
    lost: list[str] = []
    server.listen_lost.connect(lost.append)
    path = server.address.path
    assert path is not None
    path.unlink()
    usurper = make_server()
    usurper.start()
    usurper_socket = path.stat().st_ino
    try:
        server._keep_socket_alive()
        assert len(lost) == 1
        assert "already running for instance 'inproc'" in lost[0]
        # Stopping the old server leaves the new worker's socket alone.
        server.close()
        assert path.stat().st_ino == usurper_socket

        async def reach_usurper() -> Any:
            newcomer = IpcClient(LOCAL)
            await newcomer.connect_to_worker(timeout=2)
            try:
                return await newcomer.request("ping")
            finally:
                newcomer.disconnect_from_worker()

        assert run(reach_usurper())["pong"] is True
    finally:
        run(usurper.aclose())


# ---------------------------------------------------------------- against the real worker


def test_qt_client_with_the_worker_process(worker: Worker, run: Runner) -> None:
    client = IpcClient(INSTANCE)
    events: list[tuple[str, Any]] = []
    client.event.connect(lambda topic, data: events.append((topic, data)))

    async def scenario() -> Any:
        await client.connect_to_worker()
        await client.subscribe(["file"])
        reply = await client.request("publish", {"topic": "file", "data": {"name": "a.json"}})
        assert reply == {"receivers": 1}
        await until(lambda: len(events) == 1)
        return await client.request("ping")

    try:
        assert run(scenario())["pid"] == worker.pid
    finally:
        client.disconnect_from_worker()
    assert events[0][0] == "file"
    assert events[0][1]["data"] == {"name": "a.json"}
