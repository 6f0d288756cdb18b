"""`nmsquota prune`: retire old usage records into an archive (the paper's prunelog)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from nmsquota.commands.common import add_ledger_options, config_of, ledger_location
from nmsquota.commands.prune_loss import Loss, loss, windows
from nmsquota.commands.records import write_archive
from nmsquota.config import Config
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
            "first (numeric form, which `nmsquota import` reads). Records that a window still "
            "counts (any cap of any plan in the configuration, or a window the ledger keeps) "
            "are not retired without --force: the prune is refused, saying how many records, "
            "whose usage in window would drop and whose limits would lift. Safe while the "
            "daemon runs: it then retires only records that no window counts any more, whole "
            "hours at a time, and says what it left."
        ),
    )
    parser.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 7d or 30d")
    parser.add_argument(
        "--force",
        action="store_true",
        help="retire records that a window still counts too (lowering usage, lifting limits), "
        "and say what was retired from the windows",
    )
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
    directory = ledger_location(args, config)
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
        lost = _counted_in_windows(ledger, config, cutoff, int(args.clock.now()))
        if lost is not None and not args.force:
            raise UsageError(
                f"not pruning records older than {format_duration(age)}: {lost.describe()}; "
                "nothing retired (--force retires them; an age past the longest window, "
                f"{lost.window}, retires none that count)"
            )
        result = ledger.prune(cutoff, archive)
    finally:
        ledger.close()
    where = f" to {args.archive}" if args.archive else ""
    print(
        f"retired {result.records} records older than {format_duration(age)}{where}; "
        f"{result.files_removed} hour files removed",
        file=sys.stderr,
    )
    if lost is not None:
        print(f"of them, {lost.describe(done=True)}", file=sys.stderr)
    if not result.complete:
        print(
            "some records older than that still count in a window or share an hour with "
            "records that do; they stay until they age out (or prune with the daemon stopped)",
            file=sys.stderr,
        )
    return 0


def _counted_in_windows(ledger: Ledger, config: Config | None, cutoff: int,
                        now: int) -> Loss | None:  # fmt: skip
    """What the prune would take from the windows. Beside a running daemon, the ledger
    retires nothing that its own windows count, so only what it may retire is judged."""
    tallies = windows(config, ledger)
    if not ledger.writable:
        cutoff = min([cutoff, *(ledger.edge(tally) for tally in ledger.tallies())])
    return loss(ledger, tallies, cutoff, now, config)
