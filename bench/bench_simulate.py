"""Benchmark: how fast `nmsquota simulate` runs simulated time, through the real pipeline
(the daemon polling the simulated access server over SNMP on loopback, the ledger, the
policy, projected looks, the `sim` driver) and with the SNMP hop bypassed (`--no-snmp`:
the poller reads the agent's table in-process; everything else unchanged).

Reported: simulated days per wall-clock minute, milliseconds per cycle, and the time a
30-day run would take at that speed. Target (issue 6): 30 days of 1,000 subscribers
through real SNMP in under 5 minutes on the 2-core reference machine.

    .venv/bin/python bench/bench_simulate.py                  # 1,000 subscribers, 3 days
    .venv/bin/python bench/bench_simulate.py --days 30        # the target run itself
    .venv/bin/python bench/bench_simulate.py --modes no-snmp  # the bypass alone
    .venv/bin/python bench/bench_simulate.py --transport pysnmp  # the design card's library
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nmsquota.commands.simulate import TRANSPORTS, default_transport, simulate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--interval", default="5m")
    parser.add_argument("--modes", nargs="+", default=["snmp", "no-snmp"],
                        choices=["snmp", "no-snmp"])  # fmt: skip
    parser.add_argument("--seed", type=int, default=2001)
    parser.add_argument("--transport", choices=TRANSPORTS, default=default_transport(),
                        help="the SNMP library of the snmp mode (default: as `simulate`'s, "
                        "netsnmp when netsnmp-cffi is installed)")  # fmt: skip
    options = parser.parse_args()
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}; "
          f"{options.subscribers} subscribers, {options.days} simulated days, "
          f"interval {options.interval}, seed {options.seed}; snmp mode through "
          f"{options.transport}")  # fmt: skip
    # CPU beside wall: on a machine shared with other work the CPU time per cycle is the
    # steadier figure (this process's own; the agent runs in it too).
    print(f"{'mode':8} {'cycles':>7} {'wall':>9} {'ms/cycle':>9} {'cpu ms':>7} {'days/min':>9} "
          f"{'30 days':>9}  ISP/day after")  # fmt: skip
    for mode in options.modes:
        args = argparse.Namespace(
            subscribers=options.subscribers, days=options.days, before=0, seed=options.seed,
            interval=options.interval, snmp=mode == "snmp", price=0.20,
            transport=options.transport,
        )  # fmt: skip
        started, cpu = time.perf_counter(), time.process_time()
        outcome = simulate(args, "63MB", "7d", "3kbit", True, mode)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        per_minute = options.days / (wall / 60)
        thirty = 30 / per_minute
        after = "-" if outcome.after is None else f"{outcome.after / 1e6:.1f} MB"
        print(f"{mode:8} {outcome.cycles:7d} {wall:8.1f}s {1000 * wall / outcome.cycles:9.1f} "
              f"{1000 * cpu / outcome.cycles:7.1f} {per_minute:9.2f} {thirty:8.1f}m  {after}",
              flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
