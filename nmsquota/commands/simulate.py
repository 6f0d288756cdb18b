"""`nmsquota simulate`: weeks of simulated subscribers through the real pipeline, reported
the way the paper reports them.

A population of light, medium and heavy users and one biggest user, downloading through a
simulated access server polled over SNMP on loopback, with the plan given here. Reported:
daily ISP volume before and after rate limiting starts, the biggest user's daily volume
before and after, the share of subscribers ever limited, and the paper's worst-case excess
cost of a limited subscriber per month. Seeded: the same seed gives the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmsquota import units
from nmsquota.errors import UsageError

if TYPE_CHECKING:
    from nmsquota.sim.world import Profile

SECONDS_PER_MONTH = 30 * 86400


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="simulated subscribers through the real pipeline, reported as in the paper",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    parser.add_argument("--subscribers", type=int, default=20, metavar="N",
                        help="population (default 20)")  # fmt: skip
    parser.add_argument("--days", type=int, default=None,
                        help="simulated days (default 14; --replay: all it holds)")  # fmt: skip
    parser.add_argument("--before", type=int, default=3, metavar="DAYS",
                        help="days at the start without rate limiting (default 3)")  # fmt: skip
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
    parser.add_argument("--seed", type=int, default=2001, help="random seed (default 2001)")
    parser.add_argument(
        "--compare", nargs="+", metavar="CAP/WINDOW/RATE[/fixed]",
        help="run these policies on the same traffic and tabulate them, e.g. 63MB/7d/3kbit "
        "100MB/7d/3kbit 63MB/7d/3kbit/fixed (fixed: no projected looks)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


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
    from nmsquota.sim.world import LIMITED_GOODPUT

    try:
        rate_bps = units.parse_rate(rate)
        units.parse_size(cap)
        units.parse_duration(window)
        units.parse_duration(args.interval)
    except units.UnitError as error:
        raise UsageError(f"{name}: {error}") from None
    replay = getattr(args, "loaded_replay", None)
    scenario = Scenario(cap=cap, window=window, rate=rate, hysteresis=None, daily=None,
                        population=None if replay else population(args.subscribers),
                        history=False, replay=replay,
                        before_days=args.before, projection=projection,
                        interval=args.interval, snmp=args.snmp)  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nmsquota-simulate-") as directory:
        start = replay.start if replay is not None else START
        result = asyncio.run(run_demo(Path(directory), args.days, ManualClock(start),
                                      args.seed, scenario=scenario))  # fmt: skip
    # Whole days only: the one on which limiting starts belongs to neither side.
    days = [day for day in result.days if day.per_subscriber][: args.days]
    before = [d for d in days if d.number < args.before]
    after = [d for d in days if d.number > args.before]

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

    goodput = rate_bps / 8 * LIMITED_GOODPUT
    return Outcome(
        name, result.cycles, time.monotonic() - started,
        mean(before, lambda d: d.total), mean(after, lambda d: d.total),
        mean(before, biggest), mean(after, biggest),
        len({who for _, who, event in result.events if event == "limited"}),
        SECONDS_PER_MONTH * goodput / 1e6 * args.price, biggest_name, len(result.world.subscribers),
    )  # fmt: skip


def megabytes(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    from nmsquota.sim.world import LIMITED_GOODPUT

    try:
        interval = units.parse_duration(args.interval)
    except units.UnitError as error:
        raise UsageError(f"--interval: {error}") from None
    if args.replay is not None:
        from nmsquota.sim.replay import load

        args.loaded_replay = load(args.replay, interval, days=args.days)
        args.days = args.loaded_replay.days
        args.subscribers = len(args.loaded_replay.traces)
    elif args.days is None:
        args.days = 14
    if not 0 <= args.before < args.days:
        raise UsageError("--before must be at least 0 and less than --days")
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    if args.compare:
        return _compare(args)
    result = simulate(args, args.cap, args.window, args.rate, True, "the plan")
    goodput = units.parse_rate(args.rate) / 8 * LIMITED_GOODPUT
    what = (f"replay of {args.replay} ({args.loaded_replay.samples} samples)"
            if args.replay else "simulated")  # fmt: skip
    print(f"{args.subscribers} subscribers ({what}), {args.days} days: cap {args.cap} "
          f"per {args.window}, then {args.rate}; seed {args.seed}; {result.cycles} cycles "
          f"{'over SNMP' if args.snmp else 'without SNMP (--no-snmp)'} in "
          f"{result.seconds:.1f}s\n")  # fmt: skip
    print(f"daily ISP volume, before rate limiting:     {megabytes(result.before)}")
    print(f"daily ISP volume, after:                    {megabytes(result.after)}")
    print(f"biggest user's daily volume, before:        {megabytes(result.biggest_before)} "
          f"({result.biggest})")  # fmt: skip
    print(f"biggest user's daily volume, after:         {megabytes(result.biggest_after)}")
    print(f"subscribers ever limited:                   {result.limited} of {args.subscribers} "
          f"({100 * result.limited / args.subscribers:.0f}%)")  # fmt: skip
    print(f"worst-case excess cost of a limited subscriber: ${result.excess:.2f} a month "
          f"(30 days at {goodput:g} bytes/s, ${args.price:.2f}/MB; the paper printed $155.40 "
          f"for 300 bytes/s and $0.20); with one shared pipe, ${result.excess:.2f} a month "
          "for all of them together")  # fmt: skip
    return 0


def _compare(args: argparse.Namespace) -> int:
    outcomes = []
    for spec in args.compare:
        parts = spec.split("/")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "fixed"):
            raise UsageError(f"--compare: expected CAP/WINDOW/RATE[/fixed], got {spec!r}")
        outcomes.append(simulate(args, *parts[:3], len(parts) == 3, spec))
    print(f"{args.subscribers} subscribers, {args.days} days ({args.before} without limiting), "
          f"seed {args.seed}; the same traffic for every policy\n")  # fmt: skip
    rows = [["POLICY", "ISP/DAY BEFORE", "ISP/DAY AFTER", "BIGGEST AFTER", "EVER LIMITED",
             "EXCESS/MONTH PER-HOST", "SHARED PIPE"]]  # fmt: skip
    for o in outcomes:
        rows.append([o.name, megabytes(o.before), megabytes(o.after), megabytes(o.biggest_after),
                     f"{o.limited} of {args.subscribers}", f"${o.excess * o.limited:.2f}",
                     f"${o.excess:.2f}"])  # fmt: skip
    from nmsquota.commands.common import print_table

    print_table(rows, right={1, 2, 3, 5, 6})
    print("\n(worst case: every limited subscriber pulling the limited rate all month; a shared"
          " pipe caps it for all of them together)")  # fmt: skip
    return 0
