"""`nmsquota simulate`: weeks of simulated subscribers through the real pipeline, reported
the way the paper reports them.

A population of light, medium and heavy users (each kind spread out, so that caps between
them tell plans apart) and one biggest user, downloading through a simulated access server
polled over SNMP on loopback, with the plan given here. Reported beside the paper's own
figures, with why they differ: daily ISP volume before and after rate limiting starts, the
biggest user's daily volume before and after, the share of subscribers ever limited, and
the paper's worst-case excess cost of a limited subscriber per month (a limited subscriber
gets 80% of the limited rate: the paper's 3 kbit/s pipe "permits approximately 300 bytes per
second"). Seeded: the same seed gives the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmsquota import units
from nmsquota.errors import UsageError

TRANSPORTS = ("pysnmp", "netsnmp")
"""nmsquota.snmp.connect.TRANSPORTS, not imported from there: `--help` should not load the
SNMP libraries."""

if TYPE_CHECKING:
    from nmsquota.sim.world import Profile

SECONDS_PER_MONTH = 30 * 86400
DEFAULT_BEFORE = 3

PAPER_PLAN = "63MB per 7d, then 3kbit"
"""The paper's figures (its Results and Tuning sections): rebel.net.au in 2001."""
PAPER_ISP_BEFORE = "300 to 400 MB"
PAPER_ISP_AFTER = "100 to 200 MB"
PAPER_BIGGEST_BEFORE = "about 180 MB"
PAPER_BIGGEST_AFTER = "about 20 MB"
PAPER_EXCESS = "$155.40"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="simulated subscribers through the real pipeline, reported beside the paper",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    parser.add_argument("--subscribers", type=int, default=20, metavar="N",
                        help="population (default 20)")  # fmt: skip
    parser.add_argument(
        "--days", type=int, default=None,
        help="simulated days, 1 or more (default 14; --replay: all it holds); a run "
        "shorter than the plan's window is allowed, with a note",
    )  # fmt: skip
    parser.add_argument("--before", type=int, default=None, metavar="DAYS",
                        help=f"days at the start without rate limiting (default "
                        f"{DEFAULT_BEFORE}, or one less than --days in a shorter run); at "
                        "least one day must be left with limiting")  # fmt: skip
    parser.add_argument("--cap", default="63MB", help="download cap (default 63MB)")
    parser.add_argument("--window", default="7d", help="rolling window (default 7d)")
    parser.add_argument("--rate", default="3kbit", help="limited rate (default 3kbit)")
    parser.add_argument(
        "--price", type=float, default=0.20, metavar="DOLLARS",
        help="price of a megabyte, for the excess-cost figure (default 0.20)",
    )  # fmt: skip
    parser.add_argument(
        "--replay", type=Path, metavar="LEDGER_DIR",
        help="replay this ledger's recorded usage instead of simulated subscribers (what a "
        "plan would have done to your own subscribers; recorded usage that was already "
        "limited stays limited)",
    )  # fmt: skip
    parser.add_argument("--interval", default="5m",
                        help="polling interval of the daemon (default 5m)")  # fmt: skip
    parser.add_argument("--no-snmp", dest="snmp", action="store_false",
                        help="bypass the SNMP hop: the poller reads the simulated access "
                        "server's table in-process (everything else unchanged)")  # fmt: skip
    parser.add_argument(
        "--transport", choices=TRANSPORTS, default=None,
        help="the SNMP library the daemon polls with (an access server's `transport`); "
        "default netsnmp when netsnmp-cffi (the extra nmsquota[netsnmp]) is installed, "
        "pysnmp otherwise. The numbers are the same with either, and with --no-snmp",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=2001, help="random seed (default 2001)")
    parser.add_argument(
        "--compare", nargs="+", metavar="CAP/WINDOW/RATE[/fixed]",
        help="run these policies on the same traffic and tabulate them, e.g. 63MB/7d/3kbit "
        "100MB/7d/3kbit 63MB/7d/3kbit/fixed (fixed: no projected looks)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def default_transport() -> str:
    """netsnmp when its binding is installed: the same numbers at a fraction of pysnmp's
    CPU per varbind, which a month of a thousand subscribers (millions of them) needs."""
    return "netsnmp" if _netsnmp_installed() else "pysnmp"


def _netsnmp_installed() -> bool:
    return find_spec("netsnmpy") is not None


def chosen_transport(args: argparse.Namespace) -> str:
    """The transport asked for, checked (one line if netsnmp is asked and missing), or the
    default."""
    transport = getattr(args, "transport", None)
    if transport is None:
        return default_transport()
    if transport == "netsnmp" and not _netsnmp_installed():
        raise UsageError(
            "--transport netsnmp needs netsnmp-cffi, which is not installed "
            "(pip install 'nmsquota[netsnmp]'), or use --transport pysnmp"
        )
    return str(transport)


def before_days(before: int | None, days: int, what: str = "run") -> int:
    """The days without limiting: `before` as given, checked, or the default for `days`.

    A run shorter than the plan's window still means something (the daily volumes before
    and after limiting starts, from an empty ledger), but one with no day left to limit
    cannot say what limiting does."""
    if days < 1:
        raise UsageError(f"--days must be 1 or more, got {days}")
    if before is None:
        return min(DEFAULT_BEFORE, days - 1)
    if before < 0:
        raise UsageError(f"--before must be 0 or more, got {before}")
    if before >= days:
        raise UsageError(
            f"--before {before} leaves no day with rate limiting in a {days}-day {what}: "
            f"it needs --days {before + 1} or more, or a --before under {days}"
        )
    return before


def population(count: int) -> dict[Profile, int]:
    """Light, medium and heavy users, each kind spread out (Profile.spread), and the biggest
    user, online since before the run starts as he had been for months in the paper."""
    from nmsquota.sim.world import BIGGEST, HEAVY, LIGHT, MEDIUM, SPREAD

    if count < 1:
        raise UsageError("--subscribers must be at least 1")
    rest = count - 1
    heavy = rest // 5
    medium = (rest - heavy) // 2
    light = rest - heavy - medium
    return {
        replace(LIGHT, spread=SPREAD): light,
        replace(MEDIUM, spread=SPREAD): medium,
        replace(HEAVY, spread=SPREAD): heavy,
        replace(BIGGEST, online_at_start=True): 1,
    }


@dataclass
class Outcome:
    name: str
    cycles: int
    seconds: float
    before: float | None
    after: float | None
    biggest_before: float | None
    biggest_after: float | None
    limited: int
    excess: float
    """Worst-case excess cost of one limited subscriber a month, in dollars."""
    biggest: str
    subscribers: int


def simulate(args: argparse.Namespace, cap: str, window: str, rate: str, projection: bool,
             name: str) -> Outcome:  # fmt: skip
    from nmsquota.clock import ManualClock
    from nmsquota.sim.demo import START, Scenario, run_demo

    try:
        units.parse_size(cap)
        units.parse_duration(window)
        units.parse_duration(args.interval)
    except units.UnitError as error:
        raise UsageError(f"{name}: {error}") from None
    goodput = limited_goodput(rate, name)
    replay = getattr(args, "loaded_replay", None)
    scenario = Scenario(cap=cap, window=window, rate=rate, hysteresis=None, daily=None,
                        population=None if replay else population(args.subscribers),
                        history=False, replay=replay,
                        before_days=args.before, projection=projection,
                        interval=args.interval, snmp=args.snmp,
                        transport=chosen_transport(args))  # fmt: skip
    from nmsquota.ledger.storage import without_fsync

    started = time.monotonic()
    # The ledger lives as long as the run: no fsync, which only a kept ledger needs.
    with tempfile.TemporaryDirectory(prefix="nmsquota-simulate-") as directory, without_fsync():
        start = replay.start if replay is not None else START
        result = asyncio.run(run_demo(Path(directory), args.days, ManualClock(start),
                                      args.seed, scenario=scenario))  # fmt: skip
    # Whole days only. Limiting starts at the first midnight after the days before (the sim
    # driver refuses limits until then), so that day is the first whole day after.
    days = [day for day in result.days if day.per_subscriber][: args.days]
    before = [d for d in days if d.number < args.before]
    after = [d for d in days if d.number >= args.before]

    def mean(chosen: list[Any], key: Callable[[Any], float]) -> float | None:
        return sum(key(d) for d in chosen) / len(chosen) if chosen else None

    # The biggest user: the one who downloaded most before limiting (biguser, simulated).
    totals: dict[str, float] = {}
    for day in before or days:
        for who, volume in day.per_subscriber.items():
            totals[who] = totals.get(who, 0.0) + volume
    biggest_name = max(totals, key=lambda who: totals[who], default="")

    def biggest(day: Any) -> float:
        return float(day.per_subscriber.get(biggest_name, 0.0))

    return Outcome(
        name, result.cycles, time.monotonic() - started,
        mean(before, lambda d: d.total), mean(after, lambda d: d.total),
        mean(before, biggest), mean(after, biggest),
        len({who for _, who, event in result.events if event == "limited"}),
        SECONDS_PER_MONTH * goodput / 1e6 * args.price, biggest_name, len(result.world.subscribers),
    )  # fmt: skip


def limited_goodput(rate: str, name: str = "--rate") -> float:
    """Bytes per second a limited subscriber gets: the simulated traffic's and the excess
    cost's assumption (LIMITED_GOODPUT of the limited rate, the paper's 300 of 375)."""
    from nmsquota.sim.world import LIMITED_GOODPUT

    try:
        return units.parse_rate(rate) / 8 * LIMITED_GOODPUT
    except units.UnitError as error:
        raise UsageError(f"{name}: {error}") from None


def goodput_note(rate: str) -> str:
    """What the excess cost (and every limited subscriber's traffic) assumes, and why."""
    from nmsquota.sim.world import LIMITED_GOODPUT

    return (
        f"assumed: a limited subscriber gets {LIMITED_GOODPUT:.0%} of the limited rate, "
        f"{limited_goodput(rate):g} bytes/s at {rate}, as the paper's 3 kbit/s (375 bytes/s) "
        'pipe "permits approximately 300 bytes per second"; the figures after limiting and '
        "the excess cost rest on it"
    )


def megabytes(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f} MB"


def _count(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _days(first: int, last: int) -> str:
    return f"day {first}" if first == last else f"days {first} to {last}"


def run(args: argparse.Namespace) -> int:
    try:
        interval = units.parse_duration(args.interval)
    except units.UnitError as error:
        raise UsageError(f"--interval: {error}") from None
    if args.replay is not None:
        from nmsquota.sim.replay import load

        if args.days is not None and args.days < 1:
            raise UsageError(f"--days must be 1 or more, got {args.days}")
        args.loaded_replay = load(args.replay, interval, days=args.days)
        args.days = args.loaded_replay.days
        args.subscribers = len(args.loaded_replay.traces)
    elif args.days is None:
        args.days = 14
    args.before = before_days(args.before, args.days, "recording" if args.replay else "run")
    try:
        window: float | None = units.parse_duration(args.window)
    except units.UnitError:
        window = None  # simulate() refuses it, in the plan's words
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    if args.compare:
        return _compare(args)
    result = simulate(args, args.cap, args.window, args.rate, True, "the plan")
    _report(args, result, window)
    return 0


def _report(args: argparse.Namespace, result: Outcome, window: int | None) -> None:
    goodput = limited_goodput(args.rate)
    replayed = args.replay is not None
    how = f"over SNMP ({chosen_transport(args)})" if args.snmp else "without SNMP (--no-snmp)"
    what = (f"replay of {args.replay} ({args.loaded_replay.samples} samples)"
            if replayed else "simulated")  # fmt: skip
    print(f"{args.subscribers} subscribers ({what}), {_count(args.days)}: cap {args.cap} "
          f"per {args.window}, then {args.rate}; seed {args.seed}; {result.cycles} cycles "
          f"{how} in {result.seconds:.1f}s")  # fmt: skip
    before = (f"before: {_days(1, args.before)} without rate limiting"
              if args.before else "before: none, rate limiting from the start")  # fmt: skip
    print(f"{before}; after: {_days(args.before + 1, args.days)} (whole days)")
    if window is not None and args.days * 86400 < window:
        print(
            f"note: {_count(args.days)} is shorter than the {args.window} window: the ledger "
            f"starts empty, so only who reaches {args.cap} within the run is limited"
        )
    print()
    biggest = f"{megabytes(result.biggest_before)} ({result.biggest})"
    rows = [
        ["", "THIS RUN", f"THE PAPER ({PAPER_PLAN})"],
        ["daily ISP volume, before rate limiting:", megabytes(result.before), PAPER_ISP_BEFORE],
        ["daily ISP volume, after:", megabytes(result.after), PAPER_ISP_AFTER],
        ["biggest user's daily volume, before:", biggest, PAPER_BIGGEST_BEFORE],
        ["biggest user's daily volume, after:", megabytes(result.biggest_after),
         PAPER_BIGGEST_AFTER],
        ["subscribers ever limited:", f"{result.limited} of {args.subscribers} "
         f"({100 * result.limited / args.subscribers:.0f}%)", "not given"],
        ["worst-case excess cost of a limited subscriber:", f"${result.excess:.2f} a month",
         PAPER_EXCESS],
    ]  # fmt: skip
    from nmsquota.commands.common import print_table

    # A replay is your own subscribers: the paper's ISP is no yardstick for them.
    print_table([row[:2] for row in rows] if replayed else rows, right=set())
    print(
        f"\nexcess cost: 30 days x 86400 s x {goodput:g} bytes/s / 10^6 x ${args.price:.2f}/MB; "
        f"through one shared pipe, ${result.excess:.2f} a month for all of them together"
    )
    print(goodput_note(args.rate))
    if not replayed:
        print(why_ours_differ(args.subscribers))


def why_ours_differ(subscribers: int) -> str:
    return (
        "why ours differ: the paper's ISP volume is a whole ISP of a size it does not give, "
        f"falling for months as subscribers changed habits; ours is {subscribers} simulated "
        "subscribers who never change theirs. Its $155.40 is a slip: its formula gives $155.52"
    )


def _compare(args: argparse.Namespace) -> int:
    outcomes = []
    for spec in args.compare:
        parts = spec.split("/")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "fixed"):
            raise UsageError(f"--compare: expected CAP/WINDOW/RATE[/fixed], got {spec!r}")
        cap, window, rate = parts[:3]
        outcomes.append(simulate(args, cap, window, rate, len(parts) == 3, spec))
    print(f"{args.subscribers} subscribers, {_count(args.days)} ({args.before} without limiting), "
          f"seed {args.seed}; the same traffic for every policy\n")  # fmt: skip
    rows = [["POLICY", "ISP/DAY BEFORE", "ISP/DAY AFTER", "BIGGEST AFTER", "EVER LIMITED",
             "EXCESS/MONTH PER-HOST", "SHARED PIPE"]]  # fmt: skip
    for o in outcomes:
        rows.append([o.name, megabytes(o.before), megabytes(o.after), megabytes(o.biggest_after),
                     f"{o.limited} of {args.subscribers}", f"${o.excess * o.limited:.2f}",
                     f"${o.excess:.2f}"])  # fmt: skip
    from nmsquota.commands.common import print_table

    print_table(rows, right={1, 2, 3, 5, 6})
    from nmsquota.sim.world import LIMITED_GOODPUT

    print(f"\n(worst case: every limited subscriber pulling {LIMITED_GOODPUT:.0%} of the "
          "limited rate all month, as the paper's 3 kbit/s pipe gave about 300 of its 375 "
          "bytes/s; a shared pipe caps it for all of them together)")  # fmt: skip
    return 0
