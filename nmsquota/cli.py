"""Command-line entry point: argument parsing and dispatch only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from nmsquota import __version__
from nmsquota.errors import NmsquotaError

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nmsquota",
        description=(
            "Count each subscriber's bytes, keep them in a ledger, and rate-limit subscribers "
            "who go over their plan's cap within a rolling window."
        ),
    )
    parser.add_argument("--version", action="version", version=f"nmsquota {__version__}")
    parser.set_defaults(handler=None)
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = args.handler
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except NmsquotaError as error:
        print(f"nmsquota: {error}", file=sys.stderr)
        return error.exit_status
    except BrokenPipeError:
        # `nmsquota export | head` is normal use, not a failure worth a traceback.
        return 0
