"""`nmsquota demo`: the whole system on a simulated access server, on a fast clock.

Subscribers download through a simulated access server that nmsquota polls over real SNMP
on loopback; a real ledger records them; the policy slows whoever goes over 20 MB in a day to
32 kbit/s and whoever goes over the paper's 63 MB a week to 3 kbit/s, through a simulated
rate limiter. No configuration, no root. On a terminal the operator console opens on the
demo's ledger while it runs (q quits it, stops the demo and prints the summary); without
one, a line every six simulated hours, then the summary; --headless neither, as fast as the
machine allows, then the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.errors import NmsquotaError, UsageError

if TYPE_CHECKING:
    from nmsquota.clock import Clock
    from nmsquota.config import Config
    from nmsquota.console.app import ConsoleApp
    from nmsquota.sim.demo import Change, Result

CONSOLE_REFRESH = 1.0
"""Seconds between the console's reads of the demo's ledger: an hour of it at the default
speed."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="the whole system on a simulated access server (no configuration, no root)",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    parser.add_argument(
        "--for", dest="duration", default="7d", metavar="DURATION",
        help="simulated time to run (default 7d)",
    )  # fmt: skip
    parser.add_argument(
        "--speed", type=float, default=3600.0, metavar="N",
        help="simulated seconds per second (default 3600: an hour a second)",
    )  # fmt: skip
    parser.add_argument(
        "--headless", action="store_true",
        help="as fast as the machine allows, no console and no live output; a summary at "
        "the end",
    )  # fmt: skip
    parser.add_argument(
        "--keep", metavar="DIR", type=Path,
        help="keep the ledger and configuration in DIR (for the reports)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=2001, help="random seed (default 2001)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        seconds = units.parse_duration(args.duration)
    except units.UnitError as error:
        raise UsageError(f"--for: {error}") from None
    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    if args.keep:
        _make_keep(args.keep)
        return _run(args, args.keep, seconds)
    with tempfile.TemporaryDirectory(prefix="nmsquota-demo-") as directory:
        return _run(args, Path(directory), seconds)


def _make_keep(directory: Path) -> None:
    """--keep's directory, made before the demo starts, so a bad one is refused at once."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--keep: {directory} exists and is not a directory (give a directory "
                         "for the ledger and configuration)")  # fmt: skip
    earlier = [name for name in ("ledger", "nmsquota.toml") if (directory / name).exists()]
    if earlier:
        # A second demo would merge its week into the first's ledger, its clock going back to
        # the same start: a ledger that says what never happened.
        raise UsageError(f"--keep: {directory} already holds a demo's {' and '.join(earlier)} "
                         "(give a new directory, or remove that one)")  # fmt: skip
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NmsquotaError(f"--keep: cannot create {directory}: {error.strerror}") from None


def _run(args: argparse.Namespace, directory: Path, seconds: int) -> int:
    from nmsquota.clock import AcceleratedClock, ManualClock
    from nmsquota.sim.demo import START, TIMEZONE, falls_behind, run_demo

    zone = ZoneInfo(TIMEZONE)
    clock = (ManualClock(START) if args.headless
             else AcceleratedClock(START, args.speed, running=False))  # fmt: skip
    shown = {"hour": -1}

    def live(world, report) -> None:  # type: ignore[no-untyped-def]
        if not shown.get("skipped") and falls_behind(report.number, report.skipped):
            shown["skipped"] = 1
            print(f"(this machine does not keep up with --speed {args.speed:g}: "
                  f"{report.skipped} of {report.number + report.skipped} cycles skipped so "
                  "far, so limits land late; a lower --speed runs every one)",
                  flush=True)  # fmt: skip
        hour = int((world.now - START) // 3600)
        if hour % 6 or hour == shown["hour"]:
            return
        shown["hour"] = hour
        when = datetime.fromtimestamp(world.now, zone).strftime("%a %H:%M")
        online = len(world.online)
        big = next(s for s in world.subscribers if s.name == "biguser")
        state = "LIMITED" if big.limited_bps else ("online" if "biguser" in world.online
                                                   else "offline")  # fmt: skip
        print(f"{when}  {online:2d} online  limited: {', '.join(report.limited) or '-':<20}"
              f"biguser {state}, {big.downloaded / 1e6:6.1f} MB so far", flush=True)  # fmt: skip

    started = time.monotonic()
    if not args.headless and on_terminal():
        try:
            result = _with_console(directory, seconds, clock, args.seed, zone)
        except KeyboardInterrupt:
            print("\nstopped")
            return 130
        return _finish(args, directory, result, zone, started)
    if not args.headless:
        span = units.format_duration(seconds)
        print(f"{span} of simulated time at {args.speed:g}x (Ctrl-C stops): 20 MB a day, then "
              "32 kbit/s; the paper's 63 MB a week, then 3 kbit/s.\n")  # fmt: skip
    try:
        result = asyncio.run(run_demo(directory, seconds / 86400, clock, args.seed,
                                      on_cycle=None if args.headless else live))  # fmt: skip
    except KeyboardInterrupt:
        print("\nstopped")
        return 130
    return _finish(args, directory, result, zone, started)


def _finish(args: argparse.Namespace, directory: Path, result: Result, zone: ZoneInfo,
            started: float) -> int:  # fmt: skip
    _summary(result, zone, time.monotonic() - started)
    if args.keep:
        print(f"\nThe ledger and configuration stay in {directory}; try:")
        print(f"  nmsquota -c {result.config} usage --sort in")
        print(f"  nmsquota -c {result.config} status")
    return 0


def on_terminal() -> bool:
    """Whether the demo runs on a terminal, where the console can open."""
    return sys.stdin.isatty() and sys.stdout.isatty()


class Background:
    """The demo (its SNMP agent, daemon and ledger) on an event loop in a thread of its own,
    so that the console can have the main thread: they share nothing but the ledger's files,
    which the console reads through the read API as it reads a real daemon's."""

    def __init__(self, directory: Path, seconds: int, clock: Clock, seed: int) -> None:
        self.directory, self.seconds, self.clock, self.seed = directory, seconds, clock, seed
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop: asyncio.Event | None = None
        self.cycled = threading.Event()
        """Set after the first cycle (its ledger and configuration are written by then),
        or when the demo ended without one."""
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="nmsquota-demo", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            # asyncio.run, so that what the SNMP engine leaves running is cancelled before
            # the loop closes, as in the demo without a console.
            self.result = asyncio.run(self._demo())
        except BaseException as error:  # handed to the main thread by finish()
            self.error = error
        finally:
            self.cycled.set()

    async def _demo(self) -> Result:
        from nmsquota.sim.demo import run_demo

        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        return await run_demo(self.directory, self.seconds / 86400, self.clock, self.seed,
                              on_cycle=lambda world, report: self.cycled.set(),
                              stop=self.stop)  # fmt: skip

    def finish(self) -> Result:
        """Stop the demo after the cycle in flight, wait for it, and return what it did."""
        if self.loop is not None and self.stop is not None:
            # A closed loop: the demo ended on its own.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _with_console(directory: Path, seconds: int, clock: Clock, seed: int,
                  zone: ZoneInfo) -> Result:  # fmt: skip
    """The demo in the background and the console on its ledger until the operator quits
    it; then the demo stops (its ledger is whole: a cycle in flight finishes first)."""
    from nmsquota.config import load_config

    demo = Background(directory, seconds, clock, seed)
    demo.start()
    try:
        demo.cycled.wait()
        if demo.error is None:
            config = load_config(directory / "nmsquota.toml")
            run_console(open_console(config, directory / "ledger", clock, zone))
    finally:
        result = demo.finish()
    return result


def open_console(config: Config, ledger: Path, clock: Clock, zone: ZoneInfo) -> ConsoleApp:
    """The console on the demo's ledger, on the demo's clock (so that ages are simulated
    time's)."""
    # Textual only now: the headless demo never loads a screen library.
    from nmsquota.console.app import ConsoleApp

    return ConsoleApp(config, ledger, clock, zone=zone, refresh=CONSOLE_REFRESH)


def run_console(app: ConsoleApp) -> None:
    """Until the operator quits it (a test drives it under Textual's pilot instead)."""
    app.run()


def _summary(result, zone: ZoneInfo, elapsed: float) -> None:  # type: ignore[no-untyped-def]
    skipped = f" ({result.skipped} skipped: the clock ran ahead)" if result.skipped else ""
    print(f"\n{result.cycles} cycles polled over SNMP{skipped}, {result.looks} projected looks, "
          f"in {elapsed:.1f}s.\n")  # fmt: skip
    print(f"{'DAY':<12}{'ISP TOTAL':>12}{'BIGUSER':>10}  LIMITED")
    for day in result.days:
        date = datetime.fromtimestamp(result.world.start + day.number * 86400, zone)
        big = day.per_subscriber.get("biguser", 0.0)
        print(f"{date:%a %d %b}  {day.total / 1e6:>9.1f} MB{big / 1e6:>7.1f} MB  "
              f"{', '.join(sorted(day.limited)) or '-'}")  # fmt: skip
    print()
    for change in result.changes:
        stamp = datetime.fromtimestamp(change.when, zone).strftime("%a %d %b %H:%M")
        line = f"{stamp}  {change.subscriber} {change.event}"
        if change.event != "released":
            # A step's event names its cap already ("step 80% of 1d").
            named = change.cap_name and not change.event.endswith(f" of {change.cap_name}")
            of = f", cap {change.cap_name}" if named else ""
            line += f" to {units.format_rate(change.rate_bps)}{of}"
        print(line)
    order = cap_order(result.changes, "biguser", zone)
    if order:
        print(f"\n{order}")


def cap_order(changes: Sequence[Change], subscriber: str, zone: ZoneInfo) -> str:
    """Which of a subscriber's caps they met first, in the last spell of being limited in
    which they met two: "biguser met the daily cap (1d) at Sun 14:05, before the weekly cap
    (7d) at Sun 15:30." Seen at the changes the daemon told of, so a cap met while a
    stricter one already held (no change of rate) counts from the next change. Empty when
    no spell had two caps met."""
    spells: list[dict[str, float]] = [{}]
    for change in changes:
        if change.subscriber != subscriber:
            continue
        if change.event == "released":
            spells.append({})
            continue
        for cap in change.caps_over:
            spells[-1].setdefault(cap, change.when)
    met = next((spell for spell in reversed(spells) if len(spell) >= 2), None)
    if met is None:
        return ""
    (first, at), (second, then) = sorted(met.items(), key=lambda item: item[1])[:2]
    names = {"1d": "daily", "7d": "weekly", "30d": "monthly"}

    def label(name: str) -> str:
        return f"the {names.get(name, name)} cap ({name})"

    def stamp(when: float) -> str:
        return datetime.fromtimestamp(when, zone).strftime("%a %H:%M")

    if at == then:
        return f"{subscriber} was over {label(first)} and {label(second)} at once, at {stamp(at)}."
    return (f"{subscriber} met {label(first)} at {stamp(at)}, before {label(second)} at "
            f"{stamp(then)}.")  # fmt: skip
