"""Exit codes shared by every command, documented in `wats-station --help`."""

import argparse
import sys
from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the command ran but not everything succeeded
    USAGE = 2  # wrong arguments (argparse uses 2 as well)
    INVALID_INPUT = 3  # a file or value could not be read or is not a valid report
    UNREACHABLE = 4  # network, TLS, timeout or server-side (5xx) failure
    AUTH = 5  # the server refused the credentials (401/403)
    REJECTED = 6  # the server refused the report (400/404/413/422)
    NO_WORKER = 7  # the command needs a running worker and none answers


EPILOG = """\
exit codes:
  0  success
  1  the command ran but not everything succeeded
  2  wrong arguments
  3  invalid input (unreadable file, invalid report or value)
  4  cannot reach the server (network, TLS, timeout, server error)
  5  authentication failed (wrong or missing token)
  6  the server rejected the report
  7  no worker is running (start it with `wats-station --service`)
"""


def usage(parser: argparse.ArgumentParser) -> int:
    """A command group called without an action: its help on stderr, and the usage exit code."""
    parser.print_help(sys.stderr)
    return int(Exit.USAGE)
