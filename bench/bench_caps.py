"""Benchmark: what several caps per plan cost a cycle. 5,000 subscribers on a plan with one
cap (7d) against the same subscribers on a plan with three (1d, 7d, 30d): per cycle, the
ledger commit (samples in, every window moved on) and the daemon's decision (each window's
totals, the policy, the standings and limits written back), all in one batch as the daemon
does it (`Daemon.decide` and `Daemon.record`, the cycle's own code).

Steady state without a month of history to build: the history is only the hours where the
measured cycles' samples leave each window (a day, a week and 30 days before them), so
every measured cycle adds 5,000 samples to each window and takes 5,000 out of each.
Target (issue 11): three caps cost at most 1.5x one cap.

    .venv/bin/python bench/bench_caps.py
    .venv/bin/python bench/bench_caps.py --subscribers 500 --cycles 6     # a quick look
    .venv/bin/python bench/bench_caps.py --no-pause   # the collector inside the cycle

The cycle holds the cyclic garbage collector off (nmsquota/gcpause.py), so its work moves
to between cycles: the figure compared is each cycle's median plus the collector's time
that followed its cycles, spread over them (with --no-pause, most of it is inside the
cycles). The two setups take turns, a cycle each, so the machine's slower spells fall on
both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nmsquota import gcpause  # noqa: E402
from nmsquota.clock import ManualClock  # noqa: E402
from nmsquota.config import load_config  # noqa: E402
from nmsquota.daemon.core import Daemon  # noqa: E402
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


class Collections:
    """Time in the cyclic garbage collector (gc.callbacks) outside the timed cycles, charged
    to the cycle before: with the collector held off in a cycle, its work comes after."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.owner = ""
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.owner:
            spent = time.perf_counter() - self._started
            self.seconds[self.owner] = self.seconds.get(self.owner, 0.0) + spent


@dataclass
class Setup:
    label: str
    ledger: Ledger
    daemon: Daemon
    batches: list[list[Sample]]
    times: list[float] = field(default_factory=list)
    limited: int = 0


def prepare(label: str, caps: str, options: argparse.Namespace, directory: Path,
            stack: contextlib.ExitStack) -> Setup:  # fmt: skip
    rng = random.Random(options.seed)
    path = directory / "nmsquota.toml"
    path.write_text(config_text(options.subscribers, caps, directory / "ledger"))
    config = load_config(path)
    ledger = stack.enter_context(Ledger.open_writer(config.data_dir, config.tallies()))
    span = options.cycles * INTERVAL
    # Only the history the measured cycles move out of each window.
    for back in (30 * DAY, 7 * DAY, DAY):
        for now in range(T - back, T - back + span + INTERVAL, INTERVAL):
            ledger.commit(now, samples(rng, options.subscribers, now))
    daemon = Daemon(config, ManualClock(T), ledger, drivers=[make_driver("log", "log", {})])
    batches = [samples(rng, options.subscribers, T + c * INTERVAL) for c in range(options.cycles)]
    return Setup(label, ledger, daemon, batches)


def cycle(setup: Setup, number: int, pause: Callable[[], contextlib.AbstractContextManager],
          collections: Collections) -> None:  # fmt: skip
    """One cycle's commit, decision and record, in one batch, as Daemon.cycle does them.
    A collection inside the timed part is in its time; one after it is charged to it."""
    now = T + number * INTERVAL
    collections.owner = ""
    started = time.perf_counter()
    with pause(), setup.ledger.batch():
        setup.ledger.commit(now, setup.batches[number])
        evaluation = setup.daemon.decide(now)
        setup.daemon.record(evaluation, now)
    setup.times.append(time.perf_counter() - started)
    collections.owner = setup.label  # until the next cycle's timing starts
    setup.limited = len(evaluation.limited)


def report(setup: Setup, collections: Collections, paused: bool) -> float:
    """Prints a setup's figures; returns its cost a cycle: the median, plus its share of the
    collector's time when that ran outside the cycles (paused)."""
    median = statistics.median(setup.times)
    collector_time = collections.seconds.get(setup.label, 0.0) / len(setup.times)
    print(f"{setup.label:10} median {1000 * median:7.1f} ms  p95 {1000 * _p95(setup.times):7.1f}"
          f" ms  collector {1000 * collector_time:6.1f} ms a cycle  ({len(setup.times)} cycles, "
          f"{setup.limited} limited at the end)", flush=True)  # fmt: skip
    return median + (collector_time if paused else 0.0)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=24, help="measured cycles (default 24)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--no-pause",
        dest="pause",
        action="store_false",
        help="let the collector run inside the cycle (as before session 4)",
    )
    options = parser.parse_args()
    logging.getLogger("nmsquota").setLevel(logging.ERROR)
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}; "
          f"{options.subscribers} subscribers, commit + decide + record per cycle")  # fmt: skip
    pause = gcpause.paused if options.pause else contextlib.nullcontext
    collections = Collections()
    with contextlib.ExitStack() as stack:
        setups = []
        for label, caps in (("one cap", ONE_CAP), ("three caps", THREE_CAPS)):
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="nmsquota-bench-caps-")))  # fmt: skip
            setups.append(prepare(label, caps, options, directory, stack))
        gc.callbacks.append(collections)
        try:
            # Turn about, so that a slower spell of the machine falls on both alike.
            for number in range(options.cycles):
                for setup in setups:
                    cycle(setup, number, pause, collections)
        finally:
            gc.callbacks.remove(collections)
        one, three = (report(setup, collections, options.pause) for setup in setups)
    figure = "median + collector" if options.pause else "median (collections inside)"
    print(f"three caps / one cap, {figure}: {three / one:.2f} (target: at most 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
