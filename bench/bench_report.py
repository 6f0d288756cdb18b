"""Benchmark of the report site (issue 22): a full regeneration of `nmsquota report site`
over 5,000 subscribers with 7 days of 5-minute samples, then an incremental one after a
cycle in which fewer than 5% of them moved (targets: <= 30 s and <= 5 s on this 2-core
machine). The ledger is built by bench/report_ledger.py through the ledger API.

    .venv/bin/python bench/bench_report.py                     # 5,000 subscribers
    .venv/bin/python bench/bench_report.py --subscribers 500   # a quick look

Each regeneration is `write_site` as `nmsquota report site` and the daemon's writer call it
(a reader opened afresh, the configuration's plans, UTC), timed whole: reading, drawing,
writing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_ledger import build, time_site_regeneration

from nmsquota.config import load_config
from nmsquota.report.site import write_site
from nmsquota.standings import Reader

SECRET = "bench-secret-of-the-site-0123456789"


def regenerate(data: Path) -> None:
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    written = write_site(data / "site", Reader.open(data / "ledger", config), SECRET,
                         ZoneInfo("UTC"))  # fmt: skip
    print(f"  drew {len(written.drawn)} pages (index {'drawn' if written.index_drawn else 'kept'}),"
          f" kept {written.kept}, removed {len(written.removed)}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(argv)
    data = Path(tempfile.mkdtemp(prefix="nq-bench-report-"))
    try:
        started = time.perf_counter()
        built = build(data, args.subscribers, args.days)
        print(f"ledger: {built.subscribers:,} subscribers, {built.samples:,} samples, built in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        time_site_regeneration(data, regenerate)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
