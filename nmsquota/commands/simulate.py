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
from pathlib import Path

from nmsquota import units
from nmsquota.errors import UsageError

SECONDS_PER_MONTH = 30 * 86400


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="simulated subscribers through the real pipeline, reported as in the paper",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    parser.add_argument("--subscribers", type=int, default=20, metavar="N",
                        help="population (default 20)")  # fmt: skip
    parser.add_argument("--days", type=int, default=14, help="simulated days (default 14)")
    parser.add_argument("--before", type=int, default=3, metavar="DAYS",
                        help="days at the start without rate limiting (default 3)")  # fmt: skip
    parser.add_argument("--cap", default="63MB", help="download cap (default 63MB)")
    parser.add_argument("--window", default="7d", help="rolling window (default 7d)")
    parser.add_argument("--rate", default="3kbit", help="limited rate (default 3kbit)")
    parser.add_argument(
        "--price", type=float, default=0.20, metavar="DOLLARS",
        help="price of a megabyte, for the excess-cost figure (default 0.20)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=2001, help="random seed (default 2001)")
    parser.set_defaults(handler=run)


def population(count: int) -> dict:
    from nmsquota.sim.world import BIGGEST, HEAVY, LIGHT, MEDIUM

    if count < 1:
        raise UsageError("--subscribers must be at least 1")
    rest = count - 1
    heavy = rest // 5
    medium = (rest - heavy) // 2
    return {LIGHT: rest - heavy - medium, MEDIUM: medium, HEAVY: heavy, BIGGEST: 1}


def run(args: argparse.Namespace) -> int:
    from nmsquota.clock import ManualClock
    from nmsquota.sim.demo import START, Scenario, run_demo
    from nmsquota.sim.world import LIMITED_GOODPUT

    try:
        rate = units.parse_rate(args.rate)
        units.parse_size(args.cap)
        units.parse_duration(args.window)
    except units.UnitError as error:
        raise UsageError(str(error)) from None
    if not 0 <= args.before < args.days:
        raise UsageError("--before must be at least 0 and less than --days")
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    scenario = Scenario(cap=args.cap, window=args.window, rate=args.rate, hysteresis=None,
                        population=population(args.subscribers), history=False,
                        before_days=args.before)  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nmsquota-simulate-") as directory:
        result = asyncio.run(run_demo(Path(directory), args.days, ManualClock(START),
                                      args.seed, scenario=scenario))  # fmt: skip
    elapsed = time.monotonic() - started
    # Whole days only: the one on which limiting starts belongs to neither side.
    full_days = [day for day in result.days if day.per_subscriber][: args.days]
    before = [d for d in full_days if d.number < args.before]
    after = [d for d in full_days if d.number > args.before]
    limited = {name for _, name, event in result.events if event == "limited"}

    def mean(days: list, key) -> str:  # type: ignore[no-untyped-def]
        return f"{sum(key(d) for d in days) / len(days) / 1e6:.1f} MB" if days else "-"

    goodput = rate / 8 * LIMITED_GOODPUT
    excess = SECONDS_PER_MONTH * goodput / 1e6 * args.price
    print(f"{args.subscribers} subscribers, {args.days} days: cap {args.cap} per {args.window}, "
          f"then {args.rate}; seed {args.seed}; {result.cycles} cycles over SNMP in "
          f"{elapsed:.1f}s\n")  # fmt: skip
    print(f"daily ISP volume, before rate limiting:     {mean(before, lambda d: d.total)}")
    print(f"daily ISP volume, after:                    {mean(after, lambda d: d.total)}")
    big = "biguser"
    print(f"biggest user's daily volume, before:        "
          f"{mean(before, lambda d: d.per_subscriber.get(big, 0))}")  # fmt: skip
    print(f"biggest user's daily volume, after:         "
          f"{mean(after, lambda d: d.per_subscriber.get(big, 0))}")  # fmt: skip
    print(f"subscribers ever limited:                   {len(limited)} of {args.subscribers} "
          f"({100 * len(limited) / args.subscribers:.0f}%)")  # fmt: skip
    print(f"worst-case excess cost of a limited subscriber: ${excess:.2f} a month "
          f"(30 days at {goodput:g} bytes/s, ${args.price:.2f}/MB; the paper printed $155.40 "
          f"for 300 bytes/s and $0.20); with one shared pipe, ${excess:.2f} a month for all "
          "of them together")  # fmt: skip
    return 0
