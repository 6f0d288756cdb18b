"""`check_nmsquota`: nmsquota as a Nagios / Icinga / LibreNMS service check, following the
Monitoring Plugins development guidelines: one line `NMSQUOTA STATUS: text | perfdata`,
exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, threshold ranges in the standard syntax,
`-t` timeout (UNKNOWN), `-v`, `-h/--help`, `-V/--version`.

The ranges, perfdata and timeout are nagiosplugin's; the modes are in check_modes.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import nagiosplugin
from nagiosplugin.output import Output

from nmsquota import __version__, gcpause
from nmsquota.nms.check_modes import MODES, Thresholds, Where, build
from nmsquota.nms.check_text import escape

PROG = "check_nmsquota"
UNKNOWN = 3

DESCRIPTION = """\
Checks nmsquota's ledger (read only, whether or not the daemon runs) for a monitoring core.

modes:
  subscriber NAME  each cap's usage in its window, percent of the cap (-w/-c on the
                   percent; default -w 80 -c 100), and the limit in force
  poller           the last cycle: its age (-w/-c in seconds; default 2 and 3 intervals,
                   3 is what `nmsquota status` calls stale), WARNING when it overran its
                   interval or an access server failed or was skipped for load, CRITICAL
                   when none answered or no cycle was ever recorded. Several POPs' daemons
                   on one ledger: every POP's access servers; WARNING for a POP whose last
                   cycle is stale (CRITICAL when sessions are online on its access servers:
                   nobody counts them) or which runs other plans than the deciding POP
  limited          how many subscribers are limited, on a step, warned (-w/-c on the number
                   limited; no default)
  drivers          the last cycle's reconciliation: CRITICAL for a driver error or a limit
                   measured not to bite (-w/-c on their number; default -c 0), WARNING for
                   drift or a limited subscriber with no address; UNKNOWN when the last
                   cycle is stale. With POPs, every POP's drivers (POP/driver), those of a
                   stale POP said to be not known
  ledger           the ledger is readable and not corrupt, a writer (the daemon) holds it and
                   its writes do not fail, all else CRITICAL (-w/-c on the age of the last
                   commit in seconds; no default)

A ledger that cannot be read is UNKNOWN in every mode but `ledger`, with the reason.

ranges (Monitoring Plugins guidelines): an alert is raised when the value is
  10       outside 0..10 (below 0 or above 10)
  10:      below 10
  ~:10     above 10
  10:20    outside 10..20
  @10:20   inside 10..20

exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also after --help, --version and bad
usage, as the Monitoring Plugins' own do).
"""


class _Parser(argparse.ArgumentParser):
    """Bad usage is UNKNOWN on one line, as a monitoring core expects, not argparse's
    exit status 2 (which a core would read as CRITICAL)."""

    def error(self, message: str) -> NoReturn:
        print(f"NMSQUOTA UNKNOWN: {escape(message)} (see {PROG} --help)")
        sys.exit(UNKNOWN)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, end="")
        sys.exit(UNKNOWN if status == 0 else status)


def _range(text: str) -> str:
    try:
        nagiosplugin.Range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a threshold range: {text!r} ({error})") from None
    return text


def _seconds(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds >= 1: {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    found = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage=f"{PROG} [-w RANGE] [-c RANGE] [-t SECONDS] [-v] [-H HOST] [--config FILE] "
        "[--ledger DIR] {subscriber NAME,poller,limited,drivers,ledger}",
    )
    found.add_argument("mode", choices=MODES, help="what to check (see above)")
    found.add_argument("name", nargs="?", help="the subscriber (subscriber mode only)")
    found.add_argument("-w", "--warning", metavar="RANGE", type=_range,
                       help="warning threshold range")  # fmt: skip
    found.add_argument("-c", "--critical", metavar="RANGE", type=_range,
                       help="critical threshold range")  # fmt: skip
    found.add_argument("-t", "--timeout", metavar="SECONDS", type=_seconds, default=10,
                       help="give up after this long, UNKNOWN (default 10)")  # fmt: skip
    found.add_argument("-v", "--verbose", action="count", default=0,
                       help="detail lines after the first (repeat for more)")  # fmt: skip
    # LibreNMS Services always pass `-H HOST` (the device the service is on): accepted and
    # not used, the ledger read is this machine's.
    found.add_argument("-H", "--hostname", metavar="HOST",
                       help="accepted for LibreNMS, which always passes one; not used: the "
                       "check reads the ledger on the machine it runs on")  # fmt: skip
    # -c is the critical range here (the guidelines reserve it); nmsquota's own -c/--config
    # is --config.
    found.add_argument("--config", metavar="FILE", type=Path,
                       help="nmsquota's configuration file (default: the first of those "
                       "`nmsquota --help` lists, as nmsquota finds it)")  # fmt: skip
    found.add_argument("--ledger", metavar="DIR", type=Path,
                       help="ledger directory (default: the configuration's data_dir)")  # fmt: skip
    found.add_argument("-V", "--version", action="version",
                       version=f"{PROG} v{__version__} (nmsquota {__version__})")  # fmt: skip
    return found


class _OneLine(Output):  # type: ignore[misc]  # nagiosplugin has no types
    """nagiosplugin's output with the guidelines' `SERVICE STATUS: text | perfdata` first
    line (the library writes `SERVICE STATUS - text`), and the perfdata kept on that first
    line under -v too (the library moves it below): detail lines follow it."""

    def add(self, check: Any) -> None:
        self.status = self.format_status(check)
        perfdata = self.format_perfdata(check)
        if perfdata:
            self.status += " " + perfdata
        if self.verbose:
            self.add_longoutput(check.verbose_str)

    def format_status(self, check: Any) -> str:
        summary = check.summary_str.strip()
        line = f"{check.name.upper()} {str(check.state).upper()}: {summary}"
        return str(self._screen_chars(line, "status line"))


def _runtime() -> Any:
    """nagiosplugin's Runtime is a process-wide singleton: give it a fresh output and log for
    each check (a test runs many in one process)."""
    runtime = nagiosplugin.Runtime()
    runtime.logchan.setStream(io.StringIO())
    runtime.output = _OneLine(runtime.logchan)
    return runtime


@nagiosplugin.guarded(verbose=0)  # type: ignore[untyped-decorator]
def _run(args: argparse.Namespace, now: float) -> None:
    where = Where(config=args.config, ledger=args.ledger, now=now,
                  ping_timeout=min(5.0, args.timeout / 2))  # fmt: skip
    check = build(args.mode, args.name, where, Thresholds(args.warning, args.critical))
    check.main(verbose=args.verbose, timeout=args.timeout)


def main(argv: Sequence[str] | None = None, now: float | None = None) -> NoReturn:
    """The console script. Exits with the check's status."""
    # A process that lives well under a second and makes mostly objects that live as long
    # (pydantic's schemas at import, the snapshot): the cyclic collector would only traverse
    # them again and again (about a tenth of the time, measured). Reference counting still
    # frees what is dropped. Turned back on at the exit, for a caller in the same process
    # (the tests call main).
    with gcpause.paused():
        args = parser().parse_args(argv)
        if (args.mode == "subscriber") != (args.name is not None):
            parser().error("give a subscriber NAME with subscriber mode, and only with it")
        _runtime()
        _run(args, time.time() if now is None else now)
        sys.exit(UNKNOWN)  # not reached: the check exits
