"""`nmsquota demo`, for now a preview: a week of the paper's subscribers in a real ledger.

The full demo (a simulated access server polled over SNMP, the policy and a rate limiter
feeding back into the traffic) replaces this once the simulator exists (issue 6).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

from nmsquota.ledger import Ledger, Tally
from nmsquota.sim.paper_week import PAPER_SUBSCRIBERS, paper_week

DEMO_CONFIG = """\
# Written by `nmsquota demo`: the paper's plan, 63 MB a week, limited to 3 kbit/s.
timezone = "Australia/Adelaide"
[plans.paper]
cap = "63MB"
window = "7d"
limit = {{ rate = "3kbit", queue = "10KB" }}
{subscribers}
"""

START = 997_000_000  # Aug 2001, the month of the paper


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="show nmsquota on a week of sample usage (preview)",
        description=(
            "Build a ledger holding a simulated week of the paper's subscribers, committed "
            "hour by hour through the real ledger, then show `nmsquota usage` on it. The "
            "full demo with a simulated access server and live rate limiting is still to come."
        ),
    )
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="build the ledger in DIR and keep it"
    )
    parser.add_argument("--seed", type=int, default=2001, help="random seed (default 2001)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from nmsquota.cli import main

    if args.keep:
        return _demo(args.keep, args.seed, main, keep=True)
    with tempfile.TemporaryDirectory(prefix="nmsquota-demo-") as directory:
        return _demo(Path(directory), args.seed, main, keep=False)


def _demo(directory: Path, seed: int, main: Callable[[list[str]], int], keep: bool) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nmsquota.toml"
    subscribers = "".join(f'[subscribers.{p.name}]\nplan = "paper"\n' for p in PAPER_SUBSCRIBERS)
    config.write_text(DEMO_CONFIG.format(subscribers=subscribers))
    ledger_dir = directory / "ledger"
    commits = 0
    with Ledger.open_writer(ledger_dir, [Tally(7 * 86400)]) as ledger:
        for _hour, samples in groupby(
            paper_week(START, seed=seed), key=lambda s: (s.time - 1) // 3600
        ):
            batch = list(samples)
            ledger.commit(batch[-1].time, batch)
            commits += 1
    print(
        f"A simulated week of the paper's subscribers: {commits} hourly commits into {ledger_dir}"
    )
    print("Usage over the 7-day window, against the paper's 63 MB cap:\n")
    status = main(["--config", str(config), "usage", "--ledger", str(ledger_dir), "--sort", "in"])
    print(
        "\nbiguser, online twenty hours a day, is far over the cap: the policy and the rate "
        "limiter\nthat slow such a subscriber to 3 kbit/s are still to come."
    )
    if keep:
        print(f"\nThe ledger stays in {ledger_dir}; try:")
        print(f"  nmsquota --config {config} usage --ledger {ledger_dir} -v biguser")
        print(f"  nmsquota export --ledger {ledger_dir} --display --tz Australia/Adelaide")
    return status
