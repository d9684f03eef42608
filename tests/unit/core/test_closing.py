"""ClosesOnExit: `with` closes the object, also when the block raises."""

from __future__ import annotations

import pytest

from app.core.closing import ClosesOnExit


class _Resource(ClosesOnExit):
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_with_returns_the_object_and_closes_it_once() -> None:
    resource = _Resource()
    with resource as entered:
        assert entered is resource
        assert resource.closed == 0
    assert resource.closed == 1


def test_an_error_in_the_block_still_closes_and_propagates() -> None:
    resource = _Resource()
    with pytest.raises(RuntimeError, match="boom"), resource:
        raise RuntimeError("boom")
    assert resource.closed == 1


def test_a_class_without_close_cannot_be_made() -> None:
    class _NoClose(ClosesOnExit):
        pass

    with pytest.raises(TypeError):
        _NoClose()  # type: ignore[abstract]
