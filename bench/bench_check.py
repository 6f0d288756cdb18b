"""Benchmark of `check_nmsquota`, each mode, against a ledger of 5,000 subscribers (issue 21:
<= 150 ms a call, the whole process: interpreter start, imports, the read, the output).

The ledger is built through the ledger API (tests/fixtures/check_ledger.py): every
subscriber provisioned on plan `home` (a 10 GB day cap) with a day's download, 10% limited
(1% of them measured not to bite), 5% on a step, 10% warned, a cycle 30 s old.

Each call is the installed console script run as a monitoring core runs it (a fresh process,
timed from spawn to exit), --repeat times a mode; the median is printed with the min and max.
Each mode is timed twice: reading the NMS summary the daemon writes after each commit
(nmsquota.nms.summary; what a check of a running daemon reads), and with no summary, reading
the ledger itself (a ledger no daemon summarises, or a commit the summary has not caught up
with). Beside them, what writing the summary costs the daemon once per commit.
Beside the modes, what no mode can go below: the interpreter alone (`python -c pass`), and
the interpreter plus the imports every mode makes (nagiosplugin and the read API).

Python's bytecode is cached as an installed package has it (pip compiles on install): in a
directory of its own (PYTHONPYCACHEPREFIX), written by a first untimed call of each mode.

    .venv/bin/python bench/bench_check.py
    .venv/bin/python bench/bench_check.py --subscribers 5000 --repeat 9
    .venv/bin/python bench/bench_check.py --importtime   # where the imports' time goes
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fixtures.check_ledger import GB, Cycle, Someone, build  # noqa: E402
from fixtures.control_server import Recorder, served  # noqa: E402

from nmsquota.config import load_config  # noqa: E402
from nmsquota.control import socket_path  # noqa: E402
from nmsquota.ledger import Ledger  # noqa: E402
from nmsquota.nms import summarise, summary  # noqa: E402
from nmsquota.verdict import State  # noqa: E402

SCRIPT = Path(sys.executable).parent / "check_nmsquota"
TARGET = 0.150
IMPORTS = "import nagiosplugin, nmsquota.nms.check, nmsquota.nms.summary"
LEDGER_IMPORTS = "import nagiosplugin, nmsquota.nms.check, nmsquota.standings"


def people(count: int, seed: int) -> list[Someone]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        name, roll = f"sub-{i:06d}", rng.random()
        if roll < 0.01:
            found.append(Someone(name, down=int(11 * GB), state=State.LIMITED, rate=1_000_000,
                                 flagged=True))  # fmt: skip
        elif roll < 0.10:
            found.append(Someone(name, down=int(rng.uniform(10, 13) * GB), state=State.LIMITED,
                                 rate=1_000_000))  # fmt: skip
        elif roll < 0.15:
            found.append(Someone(name, down=int(9.5 * GB), state=State.STEPPED, rate=4_000_000,
                                 step_at=90.0))  # fmt: skip
        elif roll < 0.25:
            found.append(Someone(name, down=int(8.5 * GB), state=State.WARNED))
        else:
            found.append(Someone(name, down=int(rng.uniform(0, 7.5) * GB)))
    return found


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - started, done.stdout.splitlines()[0] if done.stdout else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7, help="calls per mode (7)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--importtime", action="store_true",
                        help="the slowest imports (python -X importtime) instead")  # fmt: skip
    args = parser.parse_args(argv)
    temp = Path(tempfile.mkdtemp(prefix="bench-check-"))
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(temp / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        if args.importtime:
            return importtime(env)
        started = time.perf_counter()
        data = build(temp / "data", people(args.subscribers, args.seed), Cycle(age=30),
                     now=time.time())  # fmt: skip
        print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()}")
        print(f"{args.subscribers} subscribers: ledger built in "
              f"{time.perf_counter() - started:.1f} s; {args.repeat} calls each, "
              "median (min-max) ms")  # fmt: skip
        config = ["--config", str(data / "nmsquota.toml")]
        modes = (["subscriber", "sub-000042"], ["poller"], ["limited"], ["drivers"], ["ledger"])
        ledger = data / "ledger"
        writes = [summarise_once(ledger, data / "nmsquota.toml") for _ in range(3)]
        print(f"  the daemon's summary of a commit: {1000 * statistics.median(writes):.0f} ms "
              f"({1000 * min(writes):.0f}-{1000 * max(writes):.0f}), "
              f"{summary.path_in(ledger).stat().st_size / 1e6:.2f} MB")  # fmt: skip
        calls = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "summary imports (floor)": [sys.executable, "-c", IMPORTS],
            **{" ".join(mode): [str(SCRIPT), *mode, *config] for mode in modes},
            "read API imports (floor)": [sys.executable, "-c", LEDGER_IMPORTS],
            **{" ".join(mode) + ", no summary": [str(SCRIPT), *mode, *config] for mode in modes},
        }  # fmt: skip
        for name, call in calls.items():
            if name.startswith("read API"):
                run_ledger_mode_beside_a_daemon(ledger, config, env, args.repeat)
                summary.path_in(ledger).unlink()
                print("  no summary: the ledger read through the read API")
            _, line = timed(call, env)  # writes the bytecode cache
            runs = [timed(call, env)[0] for _ in range(args.repeat)]
            median = statistics.median(runs)
            met = "" if "floor" in name else ("  met" if median <= TARGET else "  NOT met")
            print(f"  {name:<24} {1000 * median:6.0f}  ({1000 * min(runs):.0f}-"
                  f"{1000 * max(runs):.0f}){met}")  # fmt: skip
            if line:
                print(f"    {line[:150]}")
        print(f"load average after {os.getloadavg()}")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return 0


def run_ledger_mode_beside_a_daemon(ledger: Path, config: list[str], env: dict[str, str],
                                    repeat: int) -> None:  # fmt: skip
    """`ledger` mode as it runs beside a daemon: the writer lock held and the control socket
    answering its ping (served here, as the daemon serves it)."""
    with Ledger.open_writer(ledger), served(socket_path(ledger), Recorder({"ok": True})):
        summarise_once(ledger, Path(config[1]))
        call = [str(SCRIPT), "ledger", *config]
        _, line = timed(call, env)
        runs = [timed(call, env)[0] for _ in range(repeat)]
    median = statistics.median(runs)
    met = "  met" if median <= TARGET else "  NOT met"
    print(f"  {'ledger, daemon running':<24} {1000 * median:6.0f}  ({1000 * min(runs):.0f}-"
          f"{1000 * max(runs):.0f}){met}\n    {line[:150]}")  # fmt: skip


def summarise_once(ledger: Path, config_path: Path) -> float:
    """Seconds the daemon's writer takes to summarise a commit and write the summary."""
    config = load_config(config_path, check_drivers=False)
    started = time.perf_counter()
    summarise.write(ledger, summarise.read(ledger, config))
    return time.perf_counter() - started


def importtime(env: dict[str, str]) -> int:
    """The imports of a check, slowest (cumulative) first, as `python -X importtime` has them."""
    call = [sys.executable, "-X", "importtime", "-c", IMPORTS]
    subprocess.run(call, capture_output=True, env=env, check=True)  # the bytecode cache
    lines = subprocess.run(call, capture_output=True, text=True, env=env, check=True).stderr
    rows = []
    for line in lines.splitlines()[1:]:
        own, total, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        rows.append((int(total), int(own), name))
    print("cumulative ms  own ms  module")
    for total, own, name in sorted(rows, reverse=True)[:30]:
        print(f"{total / 1000:13.1f}  {own / 1000:6.1f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
