"""What every subcommand needs: the configuration, the ledger's location, the clock, units."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from nmsquota.clock import Clock
from nmsquota.config import Config, default_data_dir, find_config, load_config
from nmsquota.errors import UsageError
from nmsquota.ledger.fingerprint import quota_records as quota_records  # where it was
from nmsquota.units import format_bytes

if TYPE_CHECKING:
    from nmsquota.standings import Reader

T = TypeVar("T")


def add_ledger_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="DIR|URL",
        type=ledger_argument,
        help="ledger directory, or a postgresql:// URL (default: the configuration's "
        "[ledger] url, else its data_dir)",
    )


def ledger_argument(text: str) -> Path | str:
    """--ledger's value: a database URL as it is, anything else a directory."""
    from nmsquota.config.settings import LEDGER_SCHEMES

    return text if text.startswith(LEDGER_SCHEMES) else Path(text)


def config_of(
    args: argparse.Namespace, *, required: bool = False, check_drivers: bool = True
) -> Config | None:
    """The configuration named by --config, else the first one found; None if there is none.
    Readers pass `check_drivers=False`: they build no driver, so they load none."""
    path = args.config or find_config()
    if path is None:
        if required:
            raise UsageError(
                "no configuration file: give --config FILE or create one of the files listed "
                "in `nmsquota --help`"
            )
        return None
    return load_config(path, check_drivers=check_drivers)


def ledger_location(args: argparse.Namespace, config: Config | None) -> Path | str:
    """Where the ledger is: --ledger, else the configuration's (`[ledger] url`, else
    data_dir), else the default data directory."""
    if getattr(args, "ledger", None):
        return args.ledger  # type: ignore[no-any-return]
    return config.ledger_location if config else default_data_dir()


def data_dir_of(args: argparse.Namespace, config: Config | None) -> Path:
    """This host's own directory (the daemon's control socket, the files it writes for the
    readers): --ledger DIR, else the configuration's data_dir. With a database ledger the
    ledger is elsewhere, but this directory stays local."""
    given = getattr(args, "ledger", None)
    if isinstance(given, Path):
        return given
    return config.data_dir if config else default_data_dir()


def reader_of(location: Path | str, config: Config | None) -> Reader:
    """The read API on this ledger; a missing one is the user's mistake (a one-line usage
    error), a corrupt one raises as the read API says."""
    from nmsquota.standings import LedgerMissing, Reader  # heavy: only the commands that read

    try:
        return Reader.open(location, config)
    except LedgerMissing as error:
        raise UsageError(str(error)) from None


def clock_of(args: argparse.Namespace) -> Clock:
    return args.clock


def zone_of(args: argparse.Namespace, config: Config | None) -> ZoneInfo:
    """--tz, else the configuration's time zone, else this machine's local zone."""
    if getattr(args, "tz", None):
        try:
            return ZoneInfo(args.tz)
        except (KeyError, ValueError) as error:
            raise UsageError(f"--tz: unknown time zone {args.tz!r}") from error
    if config is not None:
        return ZoneInfo(config.settings.timezone)
    return _local_zone()


def _local_zone() -> ZoneInfo:
    try:
        link = Path("/etc/localtime").resolve()
        return ZoneInfo(str(link).split("zoneinfo/", 1)[1])
    except (IndexError, KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def amount(count: int, exact: bool) -> str:
    return str(count) if exact else format_bytes(count)


@contextmanager
def progress(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """A progress bar on a terminal (stderr); silent when not on one, e.g. under cron."""
    if not sys.stderr.isatty():
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda step: bar.advance(task, step)


def tracked(
    items: Iterable[T], advance: Callable[[float], None], every: int = 10_000
) -> Iterator[T]:
    count = 0
    for item in items:
        yield item
        count += 1
        if count == every:
            advance(count)
            count = 0
    advance(count)


def print_table(rows: list[list[str]], right: set[int], out: Any = None) -> None:
    """Columns padded to their widest cell; `right` are the columns aligned right (numbers)."""
    out = out or sys.stdout
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip(), file=out)
