"""Benchmark: overshoot past the cap end to end, with and without projected looks: real
snmpd, real traffic, nftables, `nmsquota run` at a 10 s interval (the rig is
tests/integration/overshoot.py). Needs root, ip, nft, ethtool and snmpd.

Each run: a fresh ledger; the server sends sub1 a paced UDP stream at --rate from just
after the daemon's first cycle; the cap is `cross_after` seconds of it, so the crossing
falls that long after the first cycle. Runs cycle through --cross-after values to spread
the crossing over the interval. Also measures how often the router's snmpd refreshes the
interface counters it serves (the earliest a look can see a crossing).

    sudo .venv/bin/python bench/bench_overshoot_ns.py              # 6 runs each way
    sudo .venv/bin/python bench/bench_overshoot_ns.py --runs 2     # a quick look
    git archive COMMIT nmsquota | tar -x -C /tmp/before     # another version's daemon:
    sudo .venv/bin/python bench/bench_overshoot_ns.py --code /tmp/before --modes on
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from conftest import Namespaces  # noqa: E402
from integration.overshoot import PORT, OvershootRig  # noqa: E402

CROSSINGS = (10.0, 11.5, 13.0, 14.5, 16.0, 17.5, 19.0)
"""Seconds after the first cycle was due: from the second cycle to late in its interval."""


def refresh_gaps(rig: OvershootRig, seconds: float = 16.0) -> list[float]:
    """Seconds between the changes snmpd shows in sub1's ifHCOutOctets, asked every 0.1 s
    while a stream moves it."""
    sender = rig.spaces.start(rig.net.server, sys.executable, "-c", PACED_FOR_REFRESH)
    oid = ".1.3.6.1.2.1.31.1.1.1.10"
    changes, last = [], None
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            out = rig.spaces.run(rig.net.router, "snmpbulkwalk", "-v2c", "-c", "public",
                                 "-Oqv", f"127.0.0.1:{PORT}", oid)  # fmt: skip
            if out != last:
                changes.append(time.monotonic())
                last = out
            time.sleep(0.1)
    finally:
        sender.kill()
        sender.wait(timeout=10)
    # The first reading is not a change: the gaps between the changes after it.
    return [round(b - a, 2) for a, b in itertools.pairwise(changes[1:])]


PACED_FOR_REFRESH = (
    "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "while True:\n s.sendto(b'x'*1000,('10.60.1.2',9)); time.sleep(0.01)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="runs each way (default 6)")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1e6, help="bytes/s (default 1e6)")
    parser.add_argument(
        "--modes",
        choices=("both", "on", "off"),
        default="both",
        help="projected looks on, off, or both in turn (default)",
    )
    parser.add_argument(
        "--code",
        type=Path,
        metavar="DIR",
        help="run the daemon from DIR/nmsquota (another version) instead",
    )
    args = parser.parse_args()
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.modes]
    spaces = Namespaces()
    try:
        with tempfile.TemporaryDirectory() as directory:
            rig = OvershootRig(spaces, Path(directory), daemon(args.code))
            gaps = refresh_gaps(rig)
            print(f"snmpd counter refreshes, seconds apart: {gaps}")
            print(f"interval {args.interval:g} s, stream {args.rate / 1e6:g} MB/s")
            print("projection  crossing  overshoot  seconds  landed on  limited after")
            results: dict[bool, list[float]] = {True: [], False: []}
            for n in range(args.runs):
                cross = CROSSINGS[n % len(CROSSINGS)]
                for projection in modes:
                    r = rig.run(args.interval, args.rate, cross, projection)
                    results[projection].append(r.seconds)
                    print(f"{'on' if projection else 'off':>10}  {cross:7.1f}s  "
                          f"{r.overshoot / 1e6:7.2f}MB  {r.seconds:6.2f}s  "
                          f"{'look' if r.by_look else 'cycle':>9}  {r.limited_after:11.1f}s",
                          flush=True)  # fmt: skip
            for projection, seconds in results.items():
                if not seconds:
                    continue
                print(f"projection {'on' if projection else 'off'}: overshoot as seconds of "
                      f"the stream: mean {statistics.mean(seconds):.2f}, "
                      f"max {max(seconds):.2f} (interval {args.interval:g} s)")  # fmt: skip
    finally:
        spaces.close()


def daemon(code: Path | None) -> tuple[str, ...]:
    """The command that runs nmsquota: this checkout's, or the one in `code`."""
    if code is None:
        return (sys.executable, "-m", "nmsquota")
    # The editable install's finder would import this checkout's nmsquota first.
    wrapper = (
        "import runpy, sys; "
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]; "
        f"sys.path.insert(0, {str(code.resolve())!r}); "
        "runpy.run_module('nmsquota', run_name='__main__', alter_sys=True)"
    )
    return (sys.executable, "-c", wrapper)


if __name__ == "__main__":
    main()
