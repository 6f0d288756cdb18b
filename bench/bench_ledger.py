"""Benchmark of the quota ledger at ISP scale, built through its real API.

What it measures, on a synthetic ledger of --subscribers subscribers (5,000), every one active,
one sample each per --interval seconds (300) over --days days (8) of history, all written with
``Ledger.open_writer(dir, [Tally(7 * 86400)])`` and one ``ledger.commit(now, samples)`` per cycle
(pseudo-random byte counts from a fixed --seed, so every run builds the same ledger):

* commit time per cycle (the new samples plus the rolling-window update): median, p95 and
  max for every day of history; day 1 (an empty window filling up), day 7 (a nearly full
  window) and day 8 (the steady state: a full window whose oldest samples age out every
  cycle) are set against the targets, plus the day 7 / day 1 ratio of medians;
* reading every subscriber's window total from a fresh reader
  (``Ledger.open_reader(dir).totals()``), with and without the open;
* the cold open of a reader in a new process (``python -c`` that imports nmsquota, opens a
  reader and reads all totals), timed from outside and by the child itself; the page cache
  cannot be dropped here, so this is a warm-page-cache figure;
* the size of the ledger directory on disk and its number of files;
* informational: reopening the writer, a full recount of the window from the usage shards
  (what adopting a new plan window costs, and a check that the incremental totals are right),
  the time spent in Python's garbage collector during commits, and optionally a cProfile of
  a few extra cycles after the measured ones (--profile-cycles), which are not in the figures.

Samples are generated before each commit starts its clock, so only the ledger is timed.

Run from the repository root (a full default run takes several minutes):

    .venv/bin/python bench/bench_ledger.py
    .venv/bin/python bench/bench_ledger.py --days 1 --subscribers 500      # a quick check
    .venv/bin/python bench/bench_ledger.py --profile-cycles 24 --keep --dir /tmp/ledger-bench
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # nmsquota is normally installed editable; this is a fallback
    sys.path.insert(0, str(REPO))

from nmsquota.ledger import Ledger, Sample, Tally  # noqa: E402
from nmsquota.ledger.shards import SHARD_SECONDS  # noqa: E402

DAY = 86400
WEEK = Tally(7 * DAY)
# 2026-01-01T00:00Z: a fixed, hour-aligned start so that runs are comparable.
START = 1_767_225_600

COMMIT_TARGET = 0.250
TOTALS_TARGET = 0.050
COLD_OPEN_TARGET = 2.0
FLAT_TARGET = 1.20

CHILD_CODE = """\
import json, sys, time
t0 = time.perf_counter()
from nmsquota.ledger import Ledger
t1 = time.perf_counter()
reader = Ledger.open_reader(sys.argv[1])
t2 = time.perf_counter()
count = len(reader.totals())
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "totals": t3 - t2, "count": count}))
"""


# -- synthetic traffic ---------------------------------------------------------------------------


class Traffic:
    """Deterministic per-cycle byte counts: each subscriber has a typical volume per cycle
    (log-normal across subscribers, median 2 MB per 5 minutes) and every cycle draws uniformly
    around it; uploads are about a tenth of downloads."""

    def __init__(self, subscribers: int, interval: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = [f"sub-{i:05d}" for i in range(subscribers)]
        scale = interval / 300
        self.means = [
            max(1.0, self.rng.lognormvariate(math.log(2e6 * scale), 1.5)) for _ in self.names
        ]

    def cycle(self, now: int) -> list[Sample]:
        draw = self.rng.random
        samples = []
        for name, mean in zip(self.names, self.means, strict=True):
            bytes_in = int(mean * 2 * draw()) + 1
            samples.append(Sample(name, now, bytes_in, int(bytes_in * 0.2 * draw())))
        return samples


# -- measuring -----------------------------------------------------------------------------------


class GcClock:
    """Time spent in the cyclic garbage collector, through gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full_collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            if info.get("generation") == 2:
                self.full_collections += 1


@dataclass
class Cycle:
    day: int
    slot: int  # documents in the current hour shard after this commit (1..12 at 5 minutes)
    seconds: float
    gc_seconds: float
    full_collections: int


@dataclass
class Stats:
    count: int
    min: float
    median: float
    p95: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        ordered = sorted(values)
        rank = max(0, math.ceil(0.95 * len(ordered)) - 1)  # nearest-rank percentile
        return cls(
            len(ordered),
            ordered[0],
            statistics.median(ordered),
            ordered[rank],
            ordered[-1],
            sum(ordered) / len(ordered),
        )


@dataclass
class Results:
    args: dict[str, Any]
    code: str = ""
    build_seconds: float = 0.0
    samples: int = 0
    cycles: list[Cycle] = field(default_factory=list)
    writer_reopen: float = 0.0
    reader_open: list[float] = field(default_factory=list)
    reader_totals: list[float] = field(default_factory=list)
    reader_count: int = 0
    child: list[dict[str, float]] = field(default_factory=list)
    child_outside: list[float] = field(default_factory=list)
    bare_python: list[float] = field(default_factory=list)
    disk: dict[str, int] = field(default_factory=dict)
    recount_seconds: float | None = None
    recount_ok: bool | None = None
    max_rss_kib: int = 0
    profile: str = ""


def build(ledger: Ledger, traffic: Traffic, args: argparse.Namespace, results: Results) -> int:
    """Commit every cycle of --days days; returns the `now` of the last commit."""
    per_day = DAY // args.interval
    clock = GcClock()
    gc.callbacks.append(clock)
    now = START
    started = time.perf_counter()
    try:
        for index in range(per_day * args.days):
            now = START + (index + 1) * args.interval
            samples = traffic.cycle(now)
            gc_before, full_before = clock.seconds, clock.full_collections
            t0 = time.perf_counter()
            ledger.commit(now, samples)
            elapsed = time.perf_counter() - t0
            slot = (now % SHARD_SECONDS) // args.interval + 1
            results.cycles.append(
                Cycle(
                    index // per_day + 1,
                    slot,
                    elapsed,
                    clock.seconds - gc_before,
                    clock.full_collections - full_before,
                )
            )
            results.samples += len(samples)
            if (index + 1) % per_day == 0:
                day = (index + 1) // per_day
                stats = Stats.of([c.seconds for c in results.cycles if c.day == day])
                print(
                    f"  day {day}/{args.days}: median {ms(stats.median)}, p95 {ms(stats.p95)},"
                    f" max {ms(stats.max)}; {time.perf_counter() - started:.0f} s so far",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        gc.callbacks.remove(clock)
    results.build_seconds = time.perf_counter() - started
    return now


def code_version() -> str:
    """The commit the ledger code was imported from, and whether the tree had changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} (with uncommitted changes)" if changed else commit


def measure_readers(directory: Path, repeats: int, results: Results) -> None:
    for _ in range(repeats):
        t0 = time.perf_counter()
        reader = Ledger.open_reader(directory)
        t1 = time.perf_counter()
        totals = reader.totals()
        t2 = time.perf_counter()
        results.reader_open.append(t1 - t0)
        results.reader_totals.append(t2 - t1)
        results.reader_count = len(totals)


def measure_cold_open(directory: Path, repeats: int, results: Results) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env, cwd=REPO)
        results.bare_python.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD_CODE, str(directory)],
            check=True,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        results.child_outside.append(time.perf_counter() - t0)
        results.child.append(json.loads(done.stdout))


def measure_disk(directory: Path) -> dict[str, int]:
    files = apparent = allocated = shards = largest = 0
    for root, _dirs, names in os.walk(directory):
        for name in names:
            st = os.stat(os.path.join(root, name))
            files += 1
            apparent += st.st_size
            allocated += st.st_blocks * 512
            if os.path.basename(root) == "usage":
                shards += 1
                largest = max(largest, st.st_size)
    state = (directory / "state.json").stat().st_size
    return {
        "files": files,
        "bytes": apparent,
        "allocated": allocated,
        "shards": shards,
        "largest_shard": largest,
        "state_json": state,
    }


def verify(directory: Path, results: Results) -> None:
    reader = Ledger.open_reader(directory)
    t0 = time.perf_counter()
    recounted = reader.recount(WEEK, reader.edge(WEEK))
    results.recount_seconds = time.perf_counter() - t0
    results.recount_ok = recounted == reader.totals(WEEK)


def profile_cycles(
    ledger: Ledger, traffic: Traffic, args: argparse.Namespace, last_now: int
) -> str:
    profiler = cProfile.Profile()
    seconds = []
    for index in range(args.profile_cycles):
        now = last_now + (index + 1) * args.interval
        samples = traffic.cycle(now)
        t0 = time.perf_counter()
        profiler.enable()
        ledger.commit(now, samples)
        profiler.disable()
        seconds.append(time.perf_counter() - t0)
    out = io.StringIO()
    stats = Stats.of(seconds)
    out.write(
        f"cProfile of {args.profile_cycles} extra commits after the measured days (with the"
        f" profiler on: median {ms(stats.median)}, max {ms(stats.max)}; not in the figures)\n"
    )
    for key in ("tottime", "cumulative"):
        out.write(f"\n-- top {args.profile_top} by {key} --\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(
            args.profile_top
        )
    return out.getvalue()


# -- reporting -----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    raise AssertionError


def verdict(value: float, limit: float) -> str:
    return "ok" if value <= limit else "MISSED"


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def report(results: Results, args: argparse.Namespace) -> str:
    per_day = {day: [c for c in results.cycles if c.day == day] for day in range(1, args.days + 1)}
    day_stats = {day: Stats.of([c.seconds for c in cycles]) for day, cycles in per_day.items()}
    out: list[str] = []
    out.append("nmsquota ledger benchmark")
    out.append(
        f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f" ({sys.executable}), {platform.platform()}"
    )
    out.append(f"code: nmsquota at {results.code}")
    out.append(
        f"ledger: {args.subscribers} subscribers, {args.days} days of {args.interval} s cycles ="
        f" {len(results.cycles)} commits, {results.samples:,} samples, window {WEEK.key},"
        f" seed {args.seed}, in {args.dir or '(temporary directory)'}"
    )
    out.append(
        f"build: {results.build_seconds:.1f} s wall (commits only:"
        f" {sum(c.seconds for c in results.cycles):.1f} s), writer max RSS"
        f" {results.max_rss_kib / 1024:.0f} MiB"
    )

    out.append("\nCommit time per cycle, by day of history")
    rows = []
    for day, stats in day_stats.items():
        cycles = per_day[day]
        rows.append(
            (
                str(day),
                str(stats.count),
                ms(stats.min),
                ms(stats.median),
                ms(stats.p95),
                ms(stats.max),
                ms(stats.mean),
                f"{sum(c.gc_seconds for c in cycles):.2f} s",
                str(sum(c.full_collections for c in cycles)),
            )
        )
    out.append(
        table(
            rows,
            ("day", "commits", "min", "median", "p95", "max", "mean", "gc in commits", "full gcs"),
        )
    )

    per_hour = SHARD_SECONDS // args.interval
    if SHARD_SECONDS % args.interval == 0 and per_hour > 1:
        last = per_day[args.days]
        out.append(
            f"\nCommit time on day {args.days} by documents in the hour shard after the commit"
            " (the whole shard file is rewritten each cycle)"
        )
        rows = []
        for slot in range(1, per_hour + 1):
            cycles = [c for c in last if c.slot == slot]
            if cycles:
                stats = Stats.of([c.seconds for c in cycles])
                rows.append(
                    (
                        str(slot),
                        str(stats.count),
                        ms(stats.min),
                        ms(stats.median),
                        ms(stats.max),
                        ms(statistics.mean(c.gc_seconds for c in cycles)),
                        str(sum(c.full_collections for c in cycles)),
                    )
                )
        out.append(table(rows, ("docs", "commits", "min", "median", "max", "mean gc", "full gcs")))

    out.append("\nFigures against targets")
    rows = []
    for day, label in ((1, "day 1"), (7, "day 7"), (8, "day 8 (steady state, expiry)")):
        stats = day_stats.get(day)
        if stats is None:
            rows.append((f"commit, {label}", "n/a (not enough --days)", "<= 250 ms", ""))
            continue
        for name, value in (("median", stats.median), ("p95", stats.p95), ("max", stats.max)):
            rows.append(
                (
                    f"commit {name}, {label}",
                    ms(value),
                    "<= 250 ms",
                    verdict(value, COMMIT_TARGET),
                )
            )
    if 1 in day_stats and 7 in day_stats:
        ratio = day_stats[7].median / day_stats[1].median
        rows.append(
            ("commit median day 7 / day 1", f"{ratio:.2f}", "<= 1.20", verdict(ratio, FLAT_TARGET))
        )
    else:
        rows.append(("commit median day 7 / day 1", "n/a (not enough --days)", "<= 1.20", ""))
    if 1 in day_stats and 8 in day_stats:
        ratio = day_stats[8].median / day_stats[1].median
        rows.append(("commit median day 8 / day 1", f"{ratio:.2f}", "(informational)", ""))
    open_median = statistics.median(results.reader_open)
    totals_median = statistics.median(results.reader_totals)
    both = statistics.median(
        o + t for o, t in zip(results.reader_open, results.reader_totals, strict=True)
    )
    rows.append(
        (
            f"all totals ({results.reader_count} subscribers), excluding open",
            ms(totals_median),
            "<= 50 ms",
            verdict(totals_median, TOTALS_TARGET),
        )
    )
    rows.append(
        (
            "all totals, including open_reader",
            ms(both),
            "<= 50 ms",
            verdict(both, TOTALS_TARGET),
        )
    )
    outside = statistics.median(results.child_outside)
    rows.append(
        (
            "cold open + all totals, new process, from outside",
            ms(outside),
            "<= 2 s",
            verdict(outside, COLD_OPEN_TARGET),
        )
    )
    inside = statistics.median(c["import"] + c["open"] + c["totals"] for c in results.child)
    rows.append(
        (
            "  same, as the child timed it (import+open+totals)",
            ms(inside),
            "<= 2 s",
            verdict(inside, COLD_OPEN_TARGET),
        )
    )
    disk = results.disk
    rows.append(
        (
            "size on disk",
            f"{size(disk['bytes'])} ({disk['bytes']:,} B) in {disk['files']} files",
            "",
            "",
        )
    )
    out.append(table(rows, ("measure", "value", "target", "verdict")))

    out.append("\nDetails (medians over repeats; warm page cache: it cannot be dropped here)")
    rows = [
        ("open_reader (reads state.json)", ms(open_median), f"{len(results.reader_open)} runs"),
        ("totals() after the open", ms(totals_median), f"{len(results.reader_totals)} runs"),
        (
            "new process: bare `python -c pass`",
            ms(statistics.median(results.bare_python)),
            f"{len(results.bare_python)} runs",
        ),
        (
            "new process: whole child, from outside",
            ms(outside),
            "min " + ms(min(results.child_outside)) + ", max " + ms(max(results.child_outside)),
        ),
        (
            "  child: import nmsquota.ledger",
            ms(statistics.median(c["import"] for c in results.child)),
            "",
        ),
        ("  child: open_reader", ms(statistics.median(c["open"] for c in results.child)), ""),
        ("  child: totals()", ms(statistics.median(c["totals"] for c in results.child)), ""),
        ("writer reopen (open_writer on the full ledger)", ms(results.writer_reopen), "1 run"),
        (
            "disk: usage shards / largest shard",
            f"{disk['shards']} / {size(disk['largest_shard'])}",
            "",
        ),
        ("disk: state.json", size(disk["state_json"]), ""),
        ("disk: allocated blocks", size(disk["allocated"]), ""),
    ]
    if results.recount_seconds is not None:
        rows.append(
            (
                "full recount of the window from the shards",
                ms(results.recount_seconds),
                "matches the incremental totals"
                if results.recount_ok
                else "DIFFERS from the incremental totals",
            )
        )
    out.append(table(rows, ("measure", "value", "note")))
    if results.profile:
        out.append("\n" + results.profile.rstrip())
    return "\n".join(out)


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=5000, help="default: 5000")
    parser.add_argument(
        "--days", type=int, default=8, help="days of history; day 8 shows expiry (default: 8)"
    )
    parser.add_argument("--interval", type=int, default=300, help="seconds per cycle (300)")
    parser.add_argument(
        "--dir",
        type=Path,
        help="ledger directory, kept at the end (default: a temporary one); must be new or empty",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary ledger directory at the end"
    )
    parser.add_argument("--seed", type=int, default=2001, help="traffic seed (default: 2001)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs of each reader measurement (default: 5)"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the full recount check at the end"
    )
    parser.add_argument(
        "--profile-cycles",
        type=int,
        default=0,
        help="commit this many extra cycles under cProfile and print the profile (default: 0)",
    )
    parser.add_argument("--profile-top", type=int, default=20, help="profile rows (default: 20)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.days < 1 or args.subscribers < 1 or args.repeats < 1:
        parser.error("--days, --subscribers and --repeats must be at least 1")
    if args.interval < 1 or DAY % args.interval:
        parser.error("--interval must divide a day")
    if args.dir is not None and args.dir.exists() and any(args.dir.iterdir()):
        parser.error(f"--dir {args.dir} is not empty; the benchmark builds a new ledger")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="nmsquota-bench-"))
    results = Results(args={k: str(v) for k, v in vars(args).items()}, code=code_version())
    print(
        f"building {args.days} days x {DAY // args.interval} cycles x {args.subscribers}"
        f" subscribers in {directory} ...",
        file=sys.stderr,
        flush=True,
    )
    try:
        traffic = Traffic(args.subscribers, args.interval, args.seed)
        ledger = Ledger.open_writer(directory, [WEEK])
        try:
            last_now = build(ledger, traffic, args, results)
        finally:
            ledger.close()
        results.max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        print("measuring readers ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        ledger = Ledger.open_writer(directory, [WEEK])
        results.writer_reopen = time.perf_counter() - t0
        try:
            # The writer holds the lock meanwhile, as the daemon does while the CLI reads.
            measure_readers(directory, args.repeats, results)
            measure_cold_open(directory, args.repeats, results)
            results.disk = measure_disk(directory)
            if not args.no_verify:
                print("recounting the window from the shards ...", file=sys.stderr, flush=True)
                verify(directory, results)
            if args.profile_cycles > 0:
                print("profiling extra commits ...", file=sys.stderr, flush=True)
                results.profile = profile_cycles(ledger, traffic, args, last_now)
        finally:
            ledger.close()
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            print(f"kept the ledger in {directory}", file=sys.stderr)

    print(report(results, args))
    if args.json:
        raw = {
            "args": results.args,
            "code": results.code,
            "days": {
                day: vars(Stats.of([c.seconds for c in results.cycles if c.day == day]))
                for day in range(1, args.days + 1)
            },
            "cycles": [vars(c) for c in results.cycles],
            "reader_open": results.reader_open,
            "reader_totals": results.reader_totals,
            "child": results.child,
            "child_outside": results.child_outside,
            "bare_python": results.bare_python,
            "writer_reopen": results.writer_reopen,
            "disk": results.disk,
            "recount_seconds": results.recount_seconds,
            "recount_ok": results.recount_ok,
        }
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    return 0 if results.recount_ok in (None, True) else 1


if __name__ == "__main__":
    sys.exit(main())
