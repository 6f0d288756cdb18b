"""Benchmark: what several caps per plan cost a cycle. 5,000 subscribers on a plan with one
cap (7d) against the same subscribers on a plan with three (1d, 7d, 30d): per cycle, the
ledger commit (samples in, every window moved on) and the daemon's decision (each window's
totals, the policy, the standings and limits written back), all in one batch as the daemon
does it (`Daemon._decide` and `Daemon._record`, the cycle's own code).

Steady state without a month of history to build: the history is only the hours where the
measured cycles' samples leave each window (a day, a week and 30 days before them), so
every measured cycle adds 5,000 samples to each window and takes 5,000 out of each.
Target (issue 11): three caps cost at most 1.5x one cap.

    .venv/bin/python bench/bench_caps.py
    .venv/bin/python bench/bench_caps.py --subscribers 500 --cycles 6     # a quick look
"""

from __future__ import annotations

import argparse
import logging
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nmsquota.clock import ManualClock  # noqa: E402
from nmsquota.config import load_config  # noqa: E402
from nmsquota.daemon import Daemon  # noqa: E402
from nmsquota.enforcement.driver import make_driver  # noqa: E402
from nmsquota.ledger import Ledger, Sample  # noqa: E402

DAY = 86_400
INTERVAL = 300
T = 1_800_000_000 // 3600 * 3600  # the first measured cycle's hour
ONE_CAP = 'cap = "400MB"\nwindow = "7d"\nlimit = { rate = "1Mbit" }\n'
THREE_CAPS = "".join(
    f'[[plans.fair.caps]]\ncap = "{cap}"\nwindow = "{window}"\nlimit = {{ rate = "{rate}" }}\n'
    for cap, window, rate in (("100MB", "1d", "10Mbit"), ("400MB", "7d", "1Mbit"),
                              ("1GB", "30d", "512kbit"))
)  # fmt: skip


def config_text(subscribers: int, caps: str, ledger: Path) -> str:
    members = "".join(f'[subscribers.s{i}]\nplan = "fair"\n' for i in range(subscribers))
    return f'data_dir = "{ledger}"\n[plans.fair]\n{caps}{members}'


def samples(rng: random.Random, subscribers: int, now: int) -> list[Sample]:
    # Heavy-tailed: most subscribers move little, a few a lot, so some cross each cap.
    return [Sample(f"s{i}", now, int(rng.paretovariate(1.2) * 200_000), 20_000)
            for i in range(subscribers)]  # fmt: skip


def run(label: str, caps: str, options: argparse.Namespace) -> list[float]:
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory(prefix="nmsquota-bench-caps-") as directory:
        path = Path(directory) / "nmsquota.toml"
        path.write_text(config_text(options.subscribers, caps, Path(directory) / "ledger"))
        config = load_config(path)
        clock = ManualClock(T)
        span = options.cycles * INTERVAL
        with Ledger.open_writer(config.data_dir, config.tallies()) as ledger:
            # Only the history the measured cycles move out of each window.
            for back in (30 * DAY, 7 * DAY, DAY):
                for now in range(T - back, T - back + span + INTERVAL, INTERVAL):
                    ledger.commit(now, samples(rng, options.subscribers, now))
            daemon = Daemon(config, clock, ledger, drivers=[make_driver("log", "log", {})])
            times = []
            for cycle in range(options.cycles):
                now = T + cycle * INTERVAL
                batch = samples(rng, options.subscribers, now)
                started = time.perf_counter()
                with ledger.batch():
                    ledger.commit(now, batch)
                    evaluation = daemon._decide(now)
                    daemon._record(evaluation, now)
                times.append(time.perf_counter() - started)
            limited = len(evaluation.limited)
    median = statistics.median(times)
    print(f"{label:10} median {1000 * median:7.1f} ms  p95 {1000 * _p95(times):7.1f} ms  "
          f"({len(times)} cycles, {limited} limited at the end)", flush=True)  # fmt: skip
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=24, help="measured cycles (default 24)")
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}; "
          f"{options.subscribers} subscribers, commit + decide + record per cycle")  # fmt: skip
    one = statistics.median(run("one cap", ONE_CAP, options))
    three = statistics.median(run("three caps", THREE_CAPS, options))
    print(f"three caps / one cap: {three / one:.2f} (target: at most 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
