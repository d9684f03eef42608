"""Crash safety (issue 3): SIGKILL the worker at random moments while files flow in.

After every kill the worker is started again. At the end every source file must be in Done,
none left in the watch folder or in Error, and the local server must hold exactly one report
per file: the ids are deterministic, so a file re-found after a crash maps to the same report.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from app.samples.generate import generated_uut_bytes
from tests.fixtures.worker import wait_for
from tests.integration.worker_support import drop, expected_id, files_in

FILES = 2000
MIN_KILLS = 20


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(station, devserver, tmp_path):
    folder = tmp_path / "drop"
    station.configure(server=devserver, folders={"Line 1": folder})
    rng = random.Random(20261122)
    expected: set[str] = set()
    writer_done = threading.Event()

    def writer() -> None:
        # ~2,000 files over ~20 s, so kills land while files are settling, converting,
        # being committed, moved to Done and uploaded.
        for index in range(FILES):
            data = generated_uut_bytes(index, seed=99)
            expected.add(expected_id(data))
            drop(folder, f"board-{index:05d}.json", data)
            if index % 20 == 19:
                time.sleep(0.2)
        writer_done.set()

    station.start()
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    kills = 0
    while not writer_done.is_set() or kills < MIN_KILLS:
        time.sleep(rng.uniform(0.05, 0.8))
        station.kill()
        kills += 1
        # Sometimes start without waiting, so the next kill can land during start-up.
        station.start(wait=rng.random() < 0.7)
    thread.join()
    if station.process is not None and station.process.poll() is None:
        wait_for(lambda: _answers(station), 30, what="the last worker to answer")

    def finished() -> bool:
        return (
            len(files_in(folder / "Done")) == FILES and devserver.stats()["distinct_ids"] == FILES
        )

    wait_for(finished, 240, interval=0.5, what=f"{FILES} files in Done and on the server")
    stats = devserver.stats()
    assert kills >= MIN_KILLS
    assert files_in(folder) == set()
    assert files_in(folder / "Error") == set()
    assert set(stats["receive_counts"]) == expected  # no extra ids, none missing
    assert stats["distinct_ids"] == FILES


def _answers(station) -> bool:
    try:
        station.call("ping", timeout=2)
    except Exception:
        return False
    return True
