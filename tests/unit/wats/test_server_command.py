"""`wats-station server check` argument handling, in-process (the checks run in integration)."""

import socket

import pytest

from app.cli import main


def test_help_lists_the_server_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["server", "check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--server URL",
        "--token T",
        "--proxy URL",
        "--insecure",
        "--ca-bundle FILE",
        "--instance INSTANCE",
    ):
        assert option in out


@pytest.mark.parametrize(
    "argv",
    [
        ["server"],
        ["server", "check", "--server", "http://h", "--insecure", "--ca-bundle", "x.pem"],
    ],
)
def test_missing_or_conflicting_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--timeout", "0"], "--timeout must be more than 0"),
        (["--proxy", "socks5://u:hunter2@p:1"], "the proxy URL socks5://u:***@p:1 must start"),
        (
            ["--ca-bundle", "/nonexistent/ca.pem"],
            "the CA bundle /nonexistent/ca.pem does not exist",
        ),
    ],
)
def test_bad_values_exit_2_with_plain_words(extra, words, capsys):
    assert main(["server", "check", "--server", "https://wats.example.test", *extra]) == 2
    captured = capsys.readouterr()
    assert words in captured.err
    assert "hunter2" not in captured.out + captured.err


def test_unreachable_server_exits_4(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["server", "check", "--server", f"http://127.0.0.1:{port}", "--timeout", "5"]) == 4
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"checking the WATS server at http://127.0.0.1:{port}/"
    assert out[1].startswith("[FAIL] reachable: nothing accepts connections")
    assert out[-1].startswith(f"cannot reach the WATS server at http://127.0.0.1:{port}/")
