"""Benchmark of reading a ledger through the read API at 10,000 and 100,000 subscribers.

What the console (and status, usage, the check plugin) pays before it can draw anything:
`Reader.open(directory, config).snapshot()`, and each cycle after that `reader.refresh()`
then `snapshot()`. The ledger is the one bench/bench_console.py builds (its own `build` and
`grow`, through the ledger API): every subscriber provisioned on one plan with one sample,
10% limited, 10% warned, 70% online.

Each measure runs in a fresh process (what one read leaves in memory slows the next one's
garbage collections), --repeat times; the median is printed with the min and max beside it.
Phases of a first read:

* open: `Reader.open` (state.json read and parsed as JSON, the commit record and the window
  totals checked);
* records: every kind of typed record validated (provisioned, standings, limits, sessions,
  overrides, health, devices, events);
* totals: the window totals of every plan's window;
* views: the rest of `snapshot()` (rosters, caps, lifts, top-ups, views);
* first read: the whole of `Reader.open(...).snapshot()`, timed on its own (not the sum).

The read holds Python's garbage collector off (nmsquota.gcpause); the one young
collection of what it made runs as it ends, inside these figures (a gc.collect(0) right
after the read found nothing left: 0.000 s). Split in phases, the one after the records
lands in "totals".

A refresh read: the writer commits a cycle where 10% of the subscribers used more (as the
daemon's cycle does), then `reader.refresh()` and `snapshot()` on the reader that made the
first read.

Run from the repository root (the 100,000 ledger took 7 s to build here):

    .venv/bin/python bench/bench_read.py
    .venv/bin/python bench/bench_read.py --subscribers 10000 --repeat 5
    .venv/bin/python bench/bench_read.py --profile 10000   # cProfile of one first read
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import multiprocessing
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_console import build, grow  # noqa: E402

from nmsquota.config import load_config  # noqa: E402
from nmsquota.standings import Reader  # noqa: E402
from nmsquota.standings.build import totals_in  # noqa: E402

PHASES = ("open", "records", "totals", "views", "first read", "refresh read")


def phases(built: Path, count: int, seed: int) -> dict[str, float]:
    """One first read split in phases, one timed whole, then one refresh read, on a copy of
    the ledger `built` (so that every run reads the same one)."""
    with tempfile.TemporaryDirectory(prefix="read-run-") as temp:
        directory = Path(temp) / "copy"
        shutil.copytree(built, directory)
        return _phases(directory, count, seed)


def _phases(directory: Path, count: int, seed: int) -> dict[str, float]:
    config = load_config(directory / "nmsquota.toml")
    ledger_dir = directory / "ledger"
    found: dict[str, float] = {}

    started = time.perf_counter()
    reader = Reader.open(ledger_dir, config)
    found["open"] = time.perf_counter() - started

    started = time.perf_counter()
    records = reader.ledger.records
    for read in (records.provisioned, records.standings, records.limits, records.sessions,
                 records.overrides, records.health, records.devices, records.events):  # fmt: skip
        read()
    found["records"] = time.perf_counter() - started

    started = time.perf_counter()
    for tally in {*reader.ledger.tallies()}:
        totals_in(reader.ledger, tally)
    found["totals"] = time.perf_counter() - started

    started = time.perf_counter()
    reader.snapshot()
    # The snapshot counts the totals again (they are not kept between calls).
    found["views"] = time.perf_counter() - started - found["totals"]

    del reader
    gc.collect()
    started = time.perf_counter()
    fresh = Reader.open(ledger_dir, config)
    first = fresh.snapshot()
    found["first read"] = time.perf_counter() - started

    grow(directory, count, 0.1, 1, seed)
    started = time.perf_counter()
    fresh.refresh()
    snap = fresh.snapshot()
    found["refresh read"] = time.perf_counter() - started
    assert snap.as_of is not None and first.as_of is not None and snap.as_of > first.as_of
    return found


def profile(directory: Path) -> None:
    config = load_config(directory / "nmsquota.toml")
    profiler = cProfile.Profile()
    profiler.enable()
    Reader.open(directory / "ledger", config).snapshot()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per count (5)")
    parser.add_argument("--keep", type=Path, help="build the ledgers under this directory")
    parser.add_argument("--ledger", type=Path,
                        help="read this built directory (one --subscribers count, the same "
                             "--seed; what --keep leaves) instead of building one")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile one first read instead")
    args = parser.parse_args(argv)
    if any(count < 100 for count in args.subscribers):
        parser.error("--subscribers: at least 100 each")
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()}", flush=True)
    for count in args.subscribers:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
        base = args.ledger or Path(tempfile.mkdtemp(prefix=f"read-{count}-", dir=args.keep))
        try:
            if args.ledger is None:
                started = time.perf_counter()
                build(base, count, args.seed)
                print(f"{count}: ledger built in {time.perf_counter() - started:.1f} s", flush=True)
            if args.profile:
                profile(base)
                continue
            runs = []
            for _ in range(args.repeat):
                with multiprocessing.get_context("spawn").Pool(1) as pool:
                    runs.append(pool.apply(phases, (base, count, args.seed)))
            print(f"{count} subscribers, {args.repeat} runs: median (min-max) seconds")
            for phase in PHASES:
                values = [run[phase] for run in runs]
                print(f"  {phase:<13} {statistics.median(values):7.3f}"
                      f"  ({min(values):.3f}-{max(values):.3f})")  # fmt: skip
        finally:
            if args.keep is None and args.ledger is None:
                shutil.rmtree(base, ignore_errors=True)
    print(f"load average after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
