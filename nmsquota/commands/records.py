"""`nmsquota export` and `nmsquota import`: usage records as text (the paper's byteconvert).

This is also the repair path: export, fix the text by hand, import --replace.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    ledger_dir,
    progress,
    quota_records,
    tracked,
    zone_of,
)
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger import Ledger, Sample, Tally
from nmsquota.records import Form, TextForm, parse_lines

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
            "before anything is written: one bad line and nothing is imported."
        ),
    )
    _form_options(imported)
    imported.add_argument("files", nargs="*", type=Path, metavar="FILE", help="default: stdin")
    imported.add_argument(
        "--replace",
        action="store_true",
        help=(
            "replace every record in the ledger with these (the repair path); the records "
            "replaced are first saved to replaced-TIME.txt in the ledger directory"
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
    ledger = Ledger.open_reader(ledger_dir(args, config))
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
    samples = _read_all(args.files, args.form, zone)
    directory = ledger_dir(args, config)
    tallies = config.tallies() if config else []
    if not tallies and not Ledger.exists(directory):
        tallies = [PAPER_WINDOW]
    with Ledger.open_writer(directory, tallies) as ledger:
        now = args.clock.now()
        if args.replace:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
            backup = directory / f"replaced-{stamp}.txt"
            form = TextForm("numeric", zone)
            ledger.replace(now, samples, lambda old: write_archive(backup, old, form))
        else:
            ledger.commit(now, samples)
        if config is not None:
            # The ledger keeps the quota file too, for readers that have no configuration.
            with ledger.batch():
                subscribers, plans = quota_records(config)
                ledger.records.set_subscribers(subscribers)
                ledger.records.set_plans(plans)
    print(f"imported {len(samples)} records into {directory}", file=sys.stderr)
    return 0


def _read_all(files: list[Path], form: Form | None, zone: ZoneInfo) -> list[Sample]:
    samples: list[Sample] = []
    for path in files or [Path("-")]:
        if str(path) == "-":
            samples.extend(parse_lines(sys.stdin, form, zone, "<stdin>"))
            continue
        try:
            handle = open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise UsageError(f"{path}: cannot read: {error.strerror}") from None
        with handle, progress(f"reading {path}", path.stat().st_size) as advance:
            try:
                samples.extend(parse_lines(_counted(handle, advance), form, zone, str(path)))
            except UnicodeDecodeError as error:
                raise UsageError(f"{path}: not UTF-8 text ({error.reason})") from None
    return samples


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
