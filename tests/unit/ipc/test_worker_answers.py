"""worker_answers: is a worker holding the instance's socket, answering or not (POSIX)."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator

import pytest

from app.ipc.blocking import worker_answers
from app.ipc.names import socket_address

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")

INSTANCE = "answers"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A Unix socket on the instance's address that accepts connections."""
    address = socket_address(INSTANCE)
    assert address.path is not None
    address.path.parent.mkdir(parents=True, exist_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(address.path))
    server.listen(4)
    yield server
    server.close()
    address.path.unlink(missing_ok=True)


def _serve_one(server: socket.socket, *, answer: bool) -> threading.Thread:
    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            request = json.loads(connection.makefile("rb").readline())
            if answer:
                reply = {"v": 1, "id": request["id"], "result": {"pid": 4242}}
                connection.sendall(json.dumps(reply).encode() + b"\n")
            else:
                connection.recv(1)  # hold the connection until the client gives up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_no_socket_means_no_worker() -> None:
    assert worker_answers(INSTANCE, timeout=1.0) is False


def test_a_worker_that_answers_the_ping(listener: socket.socket) -> None:
    served = _serve_one(listener, answer=True)
    assert worker_answers(INSTANCE, timeout=5.0) is True
    served.join(5)
    assert not served.is_alive()


def test_a_socket_holder_that_never_answers_still_counts(listener: socket.socket) -> None:
    # Its socket must not be taken away: a busy or hung worker is still a worker.
    served = _serve_one(listener, answer=False)
    assert worker_answers(INSTANCE, timeout=0.3) is True
    served.join(5)
    assert not served.is_alive()
