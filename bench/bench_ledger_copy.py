"""Benchmark of `nmsquota ledger copy` (nmsquota/ledger/copy.py): wall time and peak memory
of copying a TinyDB ledger to another directory, or to a postgresql:// URL.

The source: --subscribers subscribers (5,000), every one active, one sample each per
--interval seconds (300) over --days days (7), with a 7-day and a 1-day window, built through
the Ledger API (an hour of samples per commit, to build it in minutes rather than the
daemon's 2,016 commits; the files hold the same documents a daemon's would, one per sample
time) and pseudo-random byte counts from --seed, so every run builds the same ledger. It is
kept with --source DIR and reused when that directory already holds one.

The copy runs in a child process (`python bench/bench_ledger_copy.py --child SRC DST`) under
/usr/bin/time -v, so its peak RSS is the copy's own: copy_ledger (which checks the copy), then
check_copy once more on its own to tell the check's share of the time.

    .venv/bin/python bench/bench_ledger_copy.py
    .venv/bin/python bench/bench_ledger_copy.py --days 1 --subscribers 500   # a quick check
    .venv/bin/python bench/bench_ledger_copy.py --source /tmp/copy-src --to postgresql://...
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # nmsquota is normally installed editable; this is a fallback
    sys.path.insert(0, str(REPO))

from nmsquota.ledger import Ledger, Sample, Tally  # noqa: E402

DAY = 86400
HOUR = 3600
TALLIES = [Tally(7 * DAY), Tally(DAY)]
# 2026-01-01T00:00Z: a fixed, hour-aligned start so that runs are comparable.
START = 1_767_225_600


def build(source: Path, subscribers: int, days: int, interval: int, seed: int) -> float:
    """The source ledger, an hour of samples per commit; returns the seconds it took."""
    rng = random.Random(seed)
    names = [f"sub{n:06d}" for n in range(subscribers)]
    started = time.perf_counter()
    with Ledger.open_writer(source, TALLIES) as ledger:
        for hour in range(START, START + days * DAY, HOUR):
            samples = [
                Sample(name, t, rng.randrange(10**8), rng.randrange(10**7))
                for t in range(hour + interval, hour + HOUR + 1, interval)
                for name in names
            ]
            ledger.commit(hour + HOUR, samples)
    return time.perf_counter() - started


def child(source: str, target: str) -> None:
    """The copy alone, in this process; prints its figures as one JSON line."""
    from nmsquota.commands.common import ledger_argument
    from nmsquota.ledger.copy import check_copy, copy_ledger

    src, dst = ledger_argument(source), ledger_argument(target)
    started = time.perf_counter()
    copied = copy_ledger(src, dst)
    copy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    check_copy(src, dst)
    check_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "copy_and_check_s": round(copy_seconds, 2),
                "check_alone_s": round(check_seconds, 2),
                "samples": copied.samples,
                "subscribers": copied.subscribers,
                "commits": copied.commits,
            }
        )
    )


def measure(source: Path, target: str) -> dict[str, object]:
    command = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", str(source), target]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the copy failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    figures["process_wall_s"] = round(wall, 2)
    figures["peak_rss_mib"] = round(int(peak.group(1)) / 1024, 1) if peak else None
    return figures


def size_of(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--interval", type=int, default=300)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--source", type=Path, help="keep (or reuse) the source ledger here")
    parser.add_argument(
        "--to", help="copy to this postgresql:// URL (an empty, migrated database) too"
    )
    parser.add_argument("--child", nargs=2, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-copy-"))
    try:
        source = args.source or work / "source"
        if Ledger.exists(source):
            print(f"source: reusing {source}")
        else:
            took = build(source, args.subscribers, args.days, args.interval, args.seed)
            print(f"source: built {source} in {took:.1f} s")
        print(f"source: {size_of(source) / 2**20:.0f} MiB on disk")
        targets = [str(work / "copy"), *([args.to] if args.to else [])]
        for target in targets:
            figures = measure(source, target)
            print(f"copy to {'a directory' if target.startswith('/') else target}:")
            for key, value in figures.items():
                print(f"  {key}: {value}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
