"""The questions `wats-station config init` asks on a terminal, answered by a script."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app.commands.config import InitAnswers, ask_init_answers


def scripted(answers: list[str]) -> tuple[list[str], Callable[[str], str]]:
    asked: list[str] = []
    replies: Iterator[str] = iter(answers)

    def ask(question: str) -> str:
        asked.append(question)
        return next(replies)

    return asked, ask


DEFAULTS = InitAnswers(
    server=None, token=None, station="HOST-1", watch_folder=None, converter="wsjf"
)


def test_enter_keeps_defaults_and_a_blank_server_skips_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked, ask = scripted(["", "", ""])
    result = ask_init_answers(DEFAULTS, ask, ask)
    assert result == InitAnswers(None, None, "HOST-1", None, "wsjf")
    assert asked == [
        "WATS server URL: ",
        "Station name [HOST-1]: ",
        "Folder to watch for result files (blank: none): ",
    ]
    assert "Press Enter" in capsys.readouterr().out


def test_bad_answers_are_asked_again_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    asked, ask = scripted(
        ["acme.wats.com", "https://acme.wats.com", " tok ", "EOL-3", "/data/in", "wstf"]
    )
    result = ask_init_answers(DEFAULTS, ask, ask)
    assert result == InitAnswers("https://acme.wats.com", "tok", "EOL-3", "/data/in", "wstf")
    assert asked[:3] == [
        "WATS server URL: ",
        "WATS server URL: ",
        "Token (input hidden, blank: set it later): ",
    ]
    assert asked[-1] == "Converter for that folder [wsjf]: "
    assert "server.url: 'acme.wats.com' is not a valid server URL" in capsys.readouterr().err
