"""`nmsquota rebuild`: make state.json agree with the usage files again, after a repair."""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import add_ledger_options, config_of, ledger_location
from nmsquota.commands.records import PAPER_WINDOW
from nmsquota.ledger import Ledger
from nmsquota.units import format_bytes


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "rebuild",
        help="recount the windows from the usage files",
        description=(
            "After a usage file was repaired or moved aside, or state.json was lost or does "
            "not read: treat every record in the usage files as committed and recount every "
            "window from them. A state.json that does not read is moved aside "
            "(state.json.unreadable-TIME) and every table of it that still reads is kept: "
            "overrides, limits in force, standings, the event log, provisioned subscribers, "
            "and the poller's counter baselines (unless the usage files hold a later commit "
            "than they do). What could not be kept is listed, with what that costs. Needs the "
            "writer lock (stop the daemon first)."
        ),
    )
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_of(args)
    directory = ledger_location(args, config)
    tallies = config.tallies() if config else []
    ledger = Ledger.open_writer(directory, tallies, rebuild=True)
    if ledger.salvaged is not None:
        for line in ledger.salvaged.lines():
            print(line, file=sys.stderr)
    try:
        if not ledger.tallies():  # no configuration and none recorded: the paper's week
            ledger.close()
            ledger = Ledger.open_writer(directory, [PAPER_WINDOW])
        for tally in ledger.tallies():
            totals = ledger.totals(tally)
            volume = sum(t.bytes_in for t in totals.values())
            print(
                f"{tally.key}: {len(totals)} subscribers, {format_bytes(volume)} in",
                file=sys.stderr,
            )
    finally:
        ledger.close()
    return 0
