"""`nmsquota export` and `nmsquota import`: usage records as text (the paper's byteconvert).

This is also the repair path: export, fix the text by hand, import --replace.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    data_dir_of,
    ledger_location,
    progress,
    quota_records,
    tracked,
    zone_of,
)
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger import Ledger, Sample, Tally
from nmsquota.ledger.backends import shown
from nmsquota.records import Form, TextForm, numbered_records

PAPER_WINDOW = Tally(7 * 86400)


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write usage records as text",
        description=(
            "Write the ledger's usage records, oldest first, one per line: "
            "'SUBSCRIBER EPOCH IN OUT' (--numeric, the default) or "
            "'SUBSCRIBER Fri Aug 17 00:07:06 2001 IN OUT' (--display)."
        ),
    )
    _form_options(export)
    export.add_argument("subscribers", nargs="*", metavar="SUBSCRIBER", help="only these")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(handler=run_export)

    imported = commands.add_parser(
        "import",
        help="read usage records from text",
        description=(
            "Add usage records from text files (or stdin) in either form export writes; the "
            "form is detected from the first record unless given. Every line is checked "
            "before anything is written: one bad line and nothing is imported. A record the "
            "ledger already has (same subscriber, time and counts) is skipped, so importing "
            "a file twice counts it once; a record for a subscriber and time the ledger has "
            "with other counts is a conflict, named by line, and nothing is imported."
        ),
    )
    _form_options(imported)
    imported.add_argument("files", nargs="*", type=Path, metavar="FILE", help="default: stdin")
    imported.add_argument(
        "--replace",
        action="store_true",
        help=(
            "replace every record in the ledger with these (the repair path), whether or not "
            "the ledger has them already; the records replaced are first saved to "
            "replaced-TIME.txt in the ledger directory (the data_dir, for a database ledger)"
        ),
    )
    imported.set_defaults(handler=run_import)


def _form_options(parser: argparse.ArgumentParser) -> None:
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "-n",
        "--numeric",
        dest="form",
        action="store_const",
        const="numeric",
        help="SUBSCRIBER EPOCH IN OUT, e.g. davidn 997972561 120505 7555",
    )
    form.add_argument(
        "-d",
        "--display",
        dest="form",
        action="store_const",
        const="display",
        help="SUBSCRIBER Www Mmm dd HH:MM:SS YYYY IN OUT (ctime's date)",
    )
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone of the display form, e.g. "
        "Australia/Adelaide (default: the configuration's, else this machine's)",
    )
    add_ledger_options(parser)


def run_export(args: argparse.Namespace) -> int:
    config = config_of(args)
    ledger = Ledger.open_reader(ledger_location(args, config))
    form = TextForm(args.form or "numeric", zone_of(args, config))
    samples = ledger.samples(args.subscribers or None)
    if args.output is None or not _replaceable(args.output):
        # stdout, or what -o names that is not a plain file (/dev/stdout, a fifo, a symlink):
        # written in place; renaming over it would replace the link or device itself.
        try:
            if args.output is None:
                _write_records(sys.stdout, samples, form)
                # Flushed here, not at exit, so that a full disk is an error reported here.
                sys.stdout.flush()
            else:
                with open(args.output, "w", encoding="utf-8") as out:
                    _write_records(out, samples, form)
        except BrokenPipeError:
            raise  # `export | head`: the CLI ends quietly
        except OSError as error:
            where = args.output or "stdout"
            raise NmsquotaError(f"{where}: cannot write: {error.strerror}") from None
        return 0
    # A file is written beside its final name and renamed into place: a failed export leaves
    # whatever was there before, not half a file.
    partial = args.output.with_name(f".{args.output.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as out:
            _write_records(out, samples, form)
        os.replace(partial, args.output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise NmsquotaError(f"{args.output}: cannot write: {error.strerror}") from None
    except BaseException:  # a record with no display form, ^C: no half file either
        partial.unlink(missing_ok=True)
        raise
    return 0


def _replaceable(path: Path) -> bool:
    return not path.is_symlink() and (path.is_file() or not path.exists())


def _write_records(out: TextIO, samples: Iterable[Sample], form: TextForm) -> None:
    with progress("exporting", total=None) as advance:
        out.writelines(form.format(sample) + "\n" for sample in tracked(samples, advance))


def run_import(args: argparse.Namespace) -> int:
    config = config_of(args)
    zone = zone_of(args, config)
    records = _read_all(args.files, args.form, zone)
    directory = ledger_location(args, config)
    tallies = config.tallies() if config else []
    if not tallies and not Ledger.exists(directory):
        tallies = [PAPER_WINDOW]
    with Ledger.open_writer(directory, tallies) as ledger:
        now = args.clock.now()
        if args.replace:
            samples, present = [record.sample for record in records], 0
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
            backup = data_dir_of(args, config) / f"replaced-{stamp}.txt"
            form = TextForm("numeric", zone)
            ledger.replace(now, samples, lambda old: write_archive(backup, old, form))
        else:
            samples, present = not_yet_in(records, _held_at(ledger, records))
            ledger.commit(now, samples)
        if config is not None:
            # The ledger keeps the quota file too, for readers that have no configuration.
            with ledger.batch():
                subscribers, plans = quota_records(config)
                ledger.records.set_subscribers(subscribers)
                ledger.records.set_plans(plans)
    skipped = f"; skipped {present} already present" if present else ""
    print(f"imported {len(samples)} records into {shown(directory)}{skipped}", file=sys.stderr)
    return 0


@dataclass(frozen=True, slots=True)
class Numbered:
    """A record as read, with where it was read from (for a conflict's error)."""

    source: str
    line: int
    sample: Sample


def _read_all(files: list[Path], form: Form | None, zone: ZoneInfo) -> list[Numbered]:
    records: list[Numbered] = []
    for path in files or [Path("-")]:
        if str(path) == "-":
            records.extend(_numbered(sys.stdin, form, zone, "<stdin>"))
            continue
        try:
            handle = open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise UsageError(f"{path}: cannot read: {error.strerror}") from None
        with handle, progress(f"reading {path}", path.stat().st_size) as advance:
            try:
                records.extend(_numbered(_counted(handle, advance), form, zone, str(path)))
            except UnicodeDecodeError as error:
                raise UsageError(f"{path}: not UTF-8 text ({error.reason})") from None
    return records


def _numbered(lines: Iterable[str], form: Form | None, zone: ZoneInfo,
              source: str) -> Iterator[Numbered]:  # fmt: skip
    return (
        Numbered(source, n, sample) for n, sample in numbered_records(lines, form, zone, source)
    )


def _held_at(ledger: Ledger, records: list[Numbered]) -> Iterator[Sample]:
    """The ledger's records from the first to the last time being imported."""
    if not records:
        return iter(())
    times = [record.sample.time for record in records]
    return ledger.samples(after=min(times) - 1, until=max(times))


Counts = tuple[int, int]


def not_yet_in(records: list[Numbered], held: Iterable[Sample]) -> tuple[list[Sample], int]:
    """The records to import, and how many were skipped as already present.

    A record is present when the ledger holds one with the same subscriber, time and counts
    (each held record matches one imported record: a file imported twice adds nothing).
    A record whose subscriber and time the ledger has only with other counts is neither new
    nor present: ConflictError names its line, and nothing is imported, as for a bad line.
    """
    times = {record.sample.time for record in records}
    held_at: dict[tuple[str, int], Counter[Counts]] = {}
    for sample in held:
        if sample.time in times:
            key = (sample.subscriber, sample.time)
            held_at.setdefault(key, Counter())[(sample.bytes_in, sample.bytes_out)] += 1
    unmatched = {key: counts.copy() for key, counts in held_at.items()}
    new: list[Sample] = []
    present = 0
    conflicts: list[Numbered] = []
    for record in records:
        sample = record.sample
        counts = unmatched.get((sample.subscriber, sample.time))
        if counts is None:
            new.append(sample)
        elif counts[(sample.bytes_in, sample.bytes_out)] > 0:
            counts[(sample.bytes_in, sample.bytes_out)] -= 1
            present += 1
        else:
            conflicts.append(record)
    if conflicts:
        first = conflicts[0].sample
        raise ConflictError(conflicts[0], held_at[(first.subscriber, first.time)],
                            others=len(conflicts) - 1)  # fmt: skip
    return new, present


class ConflictError(UsageError):
    """An imported record for a moment the ledger already has, with other counts."""

    def __init__(self, record: Numbered, held: Counter[Counts], others: int) -> None:
        sample = record.sample
        counts = (sample.bytes_in, sample.bytes_out)
        had = " and ".join(f"{i} {o}" for (i, o), n in sorted(held.items()) for _ in range(n))
        why = ("one more time than the ledger has it" if counts in held
               else "other counts")  # fmt: skip
        more = f" (and {others} more such lines)" if others else ""
        super().__init__(
            f"{record.source}:{record.line}: the ledger already has {sample.subscriber} at "
            f"{sample.time} as IN OUT {had}; this line says {counts[0]} {counts[1]}, {why}"
            f"{more}; nothing imported (to change recorded usage: export, fix, import "
            "--replace)"
        )


def _counted(lines: Iterable[str], advance: Callable[[float], None]) -> Iterator[str]:
    pending = 0
    for line in lines:
        yield line
        pending += len(line)
        if pending >= 1 << 16:  # one redraw per 64 KiB, not per line
            advance(pending)
            pending = 0
    advance(pending)


def write_archive(path: Path, samples: Iterable[Sample], form: TextForm) -> None:
    """Append records to an archive and make them durable before the ledger lets them go."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(form.format(sample) + "\n" for sample in samples)
        handle.flush()
        os.fsync(handle.fileno())
