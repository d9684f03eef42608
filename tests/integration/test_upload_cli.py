"""`wats-station upload` as a user runs it, against a real local WATS server subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.samples import sample_path

MINIMAL = sample_path("wsjf-uut-minimal.json")
MINIMAL_ID = json.loads(MINIMAL.read_text())["id"]


def upload(*args: str, server: str, token: str | None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "app", "upload", *args, "--server", server]
    if token is not None:
        cmd += ["--token", token]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def variant(tmp_path: Path, name: str, **changes: object) -> Path:
    doc = json.loads(MINIMAL.read_text())
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_upload_prints_id_and_re_upload_counts_twice(devserver):
    first = upload(str(MINIMAL), server=devserver.url, token=devserver.token)
    assert first.returncode == 0, first.stderr
    assert MINIMAL_ID in first.stdout
    second = upload(str(MINIMAL), server=devserver.url, token=devserver.token)
    assert second.returncode == 0, second.stderr
    stats = devserver.stats()
    assert stats["distinct_ids"] == 1
    assert stats["receive_counts"] == {MINIMAL_ID: 2}


def test_upload_sends_statuses_as_they_are(devserver_inproc):
    # The sample's root says F although its measurements would pass: a finished report's
    # statuses are never recomputed by upload.
    result = upload(str(MINIMAL), server=devserver_inproc.url, token=devserver_inproc.token)
    assert result.returncode == 0, result.stderr
    stored = devserver_inproc.reports[MINIMAL_ID]
    original = json.loads(MINIMAL.read_text())
    assert stored["result"] == original["result"]
    assert stored["root"]["status"] == original["root"]["status"]


def broken_json(tmp_path: Path) -> Path:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "T", "pn": ')
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (broken_json, "not valid JSON"),
        (lambda p: variant(p, "nopn.json", pn=None), "pn: field required"),
        (lambda p: variant(p, "longsn.json", sn="S" * 150), "sn: 150 characters, the limit is 100"),
    ],
    ids=["malformed-json", "missing-pn", "overlong-sn"],
)
def test_bad_files_are_refused_and_nothing_is_sent(devserver, tmp_path, make, expected):
    bad = make(tmp_path)
    result = upload(str(MINIMAL), str(bad), server=devserver.url, token=devserver.token)
    assert result.returncode == 3
    assert expected in result.stderr
    assert "nothing was sent" in result.stderr
    assert "Traceback" not in result.stderr
    assert devserver.stats()["received"] == 0


def test_wrong_token_says_authentication_failed(devserver):
    result = upload(str(MINIMAL), server=devserver.url, token="d3Jvbmc6dG9rZW4=")
    assert result.returncode == 5
    assert "authentication failed" in result.stderr
    assert devserver.stats()["distinct_ids"] == 0


def test_unreachable_server_names_the_url():
    url = "http://127.0.0.1:9"  # the discard port: nothing listens there
    result = upload(str(MINIMAL), server=url, token="x")
    assert result.returncode == 4
    assert "cannot reach" in result.stderr
    assert "http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_400_shows_the_server_message(devserver, tmp_path):
    bad = variant(tmp_path, "unknown-process.json", processCode=4242)
    result = upload(str(bad), server=devserver.url, token=devserver.token)
    assert result.returncode == 6
    assert "rejected by the server" in result.stderr
    assert "processCode" in result.stderr
    assert devserver.stats()["distinct_ids"] == 0


def test_no_server_given_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "app", "upload", str(MINIMAL)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--server URL" in result.stderr
