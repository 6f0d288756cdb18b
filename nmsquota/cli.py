"""Command-line entry point: argument parsing and dispatch only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from nmsquota import __version__
from nmsquota.clock import Clock, SystemClock
from nmsquota.commands import (
    config_check,
    console,
    demo,
    driver,
    ledger_admin,
    limitd,
    metrics,
    operator,
    overrides,
    poll,
    probe,
    prune,
    rebuild,
    records,
    report,
    run,
    simulate,
    snmp_extend,
    snmp_pass,
    status,
    subscribers,
    usage,
)
from nmsquota.config import config_search_path
from nmsquota.errors import NmsquotaError

Handler = Callable[[argparse.Namespace], int]
COMMANDS = (
    run,
    operator,
    overrides,
    status,
    console,
    subscribers,
    usage,
    records,
    prune,
    rebuild,
    ledger_admin,
    poll,
    probe,
    driver,
    limitd,
    config_check,
    metrics,
    report,
    snmp_extend,
    demo,
    simulate,
    snmp_pass,
)


def build_parser() -> argparse.ArgumentParser:
    searched = "\n".join(f"  {path}" for path in config_search_path())
    parser = argparse.ArgumentParser(
        prog="nmsquota",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Count each subscriber's bytes, keep them in a ledger, and rate-limit subscribers\n"
            "who go over their plan's cap within a rolling window."
        ),
        epilog=(
            f"Without --config, the configuration is the first of:\n{searched}\n"
            "See nmsquota.example.toml for every setting. Exit status: 0 ok, 1 failure, "
            "2 bad usage or configuration."
        ),
    )
    parser.add_argument("--version", action="version", version=f"nmsquota {__version__}")
    parser.add_argument("-c", "--config", metavar="FILE", type=Path, help="configuration file")
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.clock = clock or SystemClock()
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
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
