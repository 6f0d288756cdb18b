"""Benchmark: time to apply and to remove limits for 1, 100 and 5,000 subscribers at once,
with the nftables and tc drivers, in a network namespace made for the purpose.

Also the cost of a reconciliation cycle with nothing to change (list what is installed and
compare), which the daemon pays every cycle. Target: 5,000 adds in one cycle within 1 s with
nftables. Run as root from the repository root (needs nft and tc; about a minute):

    .venv/bin/python bench/bench_enforce.py
    .venv/bin/python bench/bench_enforce.py --counts 1 100 --repeats 1   # a quick look

Only the namespace it creates (nq-<random>-bench) is touched; it is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nmsquota.enforcement.driver import Driver, Limit, make_driver  # noqa: E402
from nmsquota.enforcement.reconcile import Enforcer  # noqa: E402


def limits(count: int) -> list[Limit]:
    # Two addresses per subscriber would be fairer to IPv6 users; one keeps "subscribers"
    # and "addresses" the same number, as in the target.
    return [
        Limit(f"sub{n}", (f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}",))
        for n in range(count)
    ]


def timed(action, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def measure(driver: Driver, count: int, repeats: int) -> dict[str, float]:
    wanted = limits(count)
    add, remove, idle = [], [], []
    for _ in range(repeats):
        driver.clear()
        add.append(timed(driver.add, wanted))
        enforcer = Enforcer(driver)
        enforcer.cycle(wanted)  # believes what is there
        idle.append(timed(enforcer.cycle, wanted))
        remove.append(timed(driver.remove, wanted))
    installed_after = len(driver.installed())
    assert installed_after == 0, installed_after
    return {
        "add": statistics.median(add),
        "remove": statistics.median(remove),
        "idle": statistics.median(idle),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 100, 5000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_enforce: needs root (it creates a network namespace)")
    namespace = f"nq-{secrets.token_hex(3)}-bench"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        inside = ["ip", "netns", "exec", namespace]
        subprocess.run([*inside, "ip", "link", "add", "down0", "type", "veth", "peer", "name",
                        "up0"], check=True)  # fmt: skip
        subprocess.run([*inside, "ip", "link", "set", "down0", "up"], check=True)
        drivers = {
            "nftables": make_driver("nft", "nftables", {"namespace": namespace}),
            "tc": make_driver("tc", "tc", {"namespace": namespace, "interfaces": ["down0"]}),
        }
        print(f"medians of {args.repeats} runs; one address per subscriber\n")
        print(f"{'driver':<10}{'subscribers':>12}{'add':>12}{'remove':>12}{'idle cycle':>14}")
        for name, driver in drivers.items():
            for count in args.counts:
                result = measure(driver, count, args.repeats)
                print(f"{name:<10}{count:>12}{result['add'] * 1000:>10.0f}ms"
                      f"{result['remove'] * 1000:>10.0f}ms{result['idle'] * 1000:>12.0f}ms",
                      flush=True)  # fmt: skip
            driver.clear()
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
