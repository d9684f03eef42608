"""Finding a failed file in its Error folder and putting it back (files.retry)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.service.ipc_methods.failed_files import (
    HashCache,
    RetryError,
    candidate_names,
    find_error_file,
    move_back,
    restore,
    return_folder,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_candidates_are_the_name_and_its_clash_variants(tmp_path: Path) -> None:
    for name in ("unit.json", "unit (2).json", "unit (10).json", "unit.json.error.txt",
                 "unit (x).json", "other.json", "unit (3).txt"):  # fmt: skip
        (tmp_path / name).write_text(name)
    names = [p.name for p in candidate_names(tmp_path, "unit.json")]
    assert names == ["unit.json", "unit (2).json", "unit (10).json"]
    (tmp_path / "README").write_text("x")
    (tmp_path / "README (2)").write_text("y")
    assert [p.name for p in candidate_names(tmp_path, "README")] == ["README", "README (2)"]
    assert candidate_names(tmp_path / "missing", "unit.json") == []


def test_the_failed_file_is_found_by_its_content(tmp_path: Path) -> None:
    (tmp_path / "unit.json").write_bytes(b"first")
    (tmp_path / "unit (2).json").write_bytes(b"second")
    hashes = HashCache()
    found = find_error_file(tmp_path, "/in/unit.json", sha(b"second"), hashes)
    assert found == tmp_path / "unit (2).json"
    assert find_error_file(tmp_path, "/in/unit.json", sha(b"third"), hashes) is None


def test_move_back_never_overwrites_and_removes_the_note(tmp_path: Path) -> None:
    watch, error = tmp_path / "in", tmp_path / "in" / "Error"
    error.mkdir(parents=True)
    failed = error / "unit (2).json"
    failed.write_bytes(b"data")
    (error / "unit (2).json.error.txt").write_text("why")
    (watch / "unit.json").write_bytes(b"a newer file with the same name")
    target = move_back(failed, watch, "unit.json")
    assert target == watch / "unit (2).json"
    assert target.read_bytes() == b"data"
    assert (watch / "unit.json").read_bytes() == b"a newer file with the same name"
    assert not failed.exists()
    assert not (error / "unit (2).json.error.txt").exists()


def test_move_back_into_a_missing_folder_fails_in_plain_words(tmp_path: Path) -> None:
    failed = tmp_path / "f.json"
    failed.write_bytes(b"x")
    with pytest.raises(RetryError, match="does not exist"):
        move_back(failed, tmp_path / "gone", "f.json")
    assert failed.exists()


def test_a_file_returns_to_its_subfolder_when_it_still_exists(tmp_path: Path) -> None:
    watch = tmp_path / "in"
    (watch / "line-a").mkdir(parents=True)
    assert return_folder(str(watch / "line-a" / "u.json"), watch) == watch / "line-a"
    assert return_folder(str(watch / "gone" / "u.json"), watch) == watch
    assert return_folder(str(tmp_path / "elsewhere" / "u.json"), watch) == watch
    failed = watch / "Error" / "u.json"
    failed.parent.mkdir()
    failed.write_bytes(b"x")
    assert restore(failed, str(watch / "line-a" / "u.json"), watch) == watch / "line-a" / "u.json"
