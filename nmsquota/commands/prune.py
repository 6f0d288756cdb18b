"""`nmsquota prune`: retire old usage records into an archive (the paper's prunelog)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from nmsquota.commands.common import add_ledger_options, config_of, ledger_dir
from nmsquota.commands.records import write_archive
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger, LedgerLocked, LedgerMissing, Sample
from nmsquota.records import TextForm
from nmsquota.units import UnitError, format_duration, parse_duration


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prune",
        help="retire records older than an age",
        description=(
            "Remove usage records older than AGE from the ledger, appending them to an archive "
            "first (numeric form, which `nmsquota import` reads). Records still inside a "
            "window stop counting towards it. Safe while the daemon runs: it then retires only "
            "records that no window counts any more, whole hours at a time, and says what it "
            "left."
        ),
    )
    parser.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 7d or 30d")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--archive", metavar="FILE", help="append retired records to FILE")
    where.add_argument("--discard", action="store_true", help="drop them, keeping no copy")
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        age = parse_duration(args.older_than)
    except UnitError as error:
        raise UsageError(f"--older-than: {error}") from None
    config = config_of(args)
    directory = ledger_dir(args, config)
    form = TextForm("numeric", ZoneInfo("UTC"))
    cutoff = int(args.clock.now()) - age

    def archive(samples: Iterable[Sample]) -> None:
        if args.archive:
            write_archive(args.archive, samples, form)

    if not Ledger.exists(directory):
        raise LedgerMissing(directory)  # not a typo'd path turned into a new, empty ledger
    try:
        ledger = Ledger.open_writer(directory)
    except LedgerLocked as locked:
        ledger = Ledger.open_reader(directory)
        holder = f"process {locked.pid}" if locked.pid else "another process"
        print(f"the ledger is held by {holder}; pruning beside it", file=sys.stderr)
    try:
        result = ledger.prune(cutoff, archive)
    finally:
        ledger.close()
    where = f" to {args.archive}" if args.archive else ""
    print(
        f"retired {result.records} records older than {format_duration(age)}{where}; "
        f"{result.files_removed} hour files removed",
        file=sys.stderr,
    )
    if not result.complete:
        print(
            "some records older than that still count in a window or share an hour with "
            "records that do; they stay until they age out (or prune with the daemon stopped)",
            file=sys.stderr,
        )
    return 0
