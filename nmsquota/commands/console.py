"""`nmsquota console`: the operator console (Textual) on the ledger, read through the read
API whether a daemon runs or not."""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    data_dir_of,
    ledger_location,
    reader_of,
    zone_of,
)
from nmsquota.errors import UsageError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "console", help="the operator console: live subscribers, limits, devices, actions",
        description="A terminal application on the ledger, live: every subscriber with their "
        "usage against the cap closest to biting, the limit or step in force, state, session "
        "and when the limit lifts, sortable and filterable; a header with the counts and the "
        "last cycle's health and age, and a banner when no daemon is cycling on the ledger. "
        "Keys: 1-4 screens, enter detail, / filter, f limited or not-effective only, s sort, "
        "? help, q quit. It reads the ledger in the background every --refresh seconds and "
        "never blocks the daemon. Needs a terminal: without one, use `nmsquota status`.",
    )  # fmt: skip
    parser.add_argument(
        "--refresh", metavar="SECONDS", type=refresh_seconds, default=2.0,
        help="how often to read the ledger (default 2)",
    )  # fmt: skip
    parser.add_argument(
        "--tz", metavar="ZONE", help="time zone for the times shown (default: the configuration's)"
    )
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def refresh_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, got {text!r}") from None
    if not 0.1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"between 0.1 and 3600 seconds, got {text!r}")
    return seconds


def run(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    directory = data_dir_of(args, config)
    location = ledger_location(args, config)
    zone = zone_of(args, config)
    reader = reader_of(location, config)
    # A corrupt ledger says so here, in one line (LedgerCorrupt), not inside the screen.
    reader.snapshot()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("console: needs a terminal (stdin and stdout are not one); for a "
                         "printed summary use `nmsquota status` or `nmsquota usage`")  # fmt: skip
    # Textual only now: the checks above cost no screen library.
    from nmsquota.console.app import ConsoleApp

    app = ConsoleApp(config, directory, args.clock, zone=zone, refresh=args.refresh,
                     reader=reader, location=location)  # fmt: skip
    app.run()
    return 0
