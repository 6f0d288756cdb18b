"""Benchmark: how far past the cap a fast subscriber gets before the limit lands, with the
fixed 5-minute poll and with projected looks (nmsquota.projection), through the real
pipeline: the daemon, SNMP over loopback to the in-process agent, the ledger, the policy.

Simulated time (a ManualClock): the subscriber downloads at the line rate with the rate
changing at random every 30 s (seeded, +-40%), starting at a random moment within the
poll interval, already close to the cap. Overshoot = bytes downloaded when the limit
lands minus the cap. SNMP traffic = request PDUs the agent answered over the same cycles.
Target: overshoot under 1% of the cap at 100 Mbit/s with a 100 GB cap, at no more than
2x the SNMP traffic of the fixed policy.

    .venv/bin/python bench/bench_overshoot.py
    .venv/bin/python bench/bench_overshoot.py --runs 3     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pysnmp.proto.rfc1902 import (  # noqa: E402
    Counter32,
    Counter64,
    Gauge32,
    Integer32,
    OctetString,
    TimeTicks,
)

from nmsquota.clock import ManualClock  # noqa: E402
from nmsquota.config import load_config  # noqa: E402
from nmsquota.daemon.core import Daemon  # noqa: E402
from nmsquota.enforcement.driver import make_driver  # noqa: E402
from nmsquota.ledger import Ledger  # noqa: E402
from nmsquota.sim.agent import start_agent  # noqa: E402
from nmsquota.snmp import tables as p  # noqa: E402
from nmsquota.usage import Sample  # noqa: E402

T0 = 1_800_000_000.0
INTERVAL = 300
GB = 10**9


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


class Line:
    """Bytes sent to the subscriber by time t: piecewise-constant rate, seeded."""

    def __init__(self, rate_bps: int, start: float, seed: int) -> None:
        self.start = start
        rng = random.Random(seed)
        self.rates = [rate_bps / 8 * rng.uniform(0.6, 1.4) for _ in range(10_000)]

    def sent(self, t: float) -> int:
        if t <= self.start:
            return 0
        elapsed, total, step = t - self.start, 0.0, 30.0
        whole = int(elapsed // step)
        total = sum(self.rates[:whole]) * step
        total += self.rates[whole] * (elapsed - whole * step)
        return int(total)


def objects(now: float, sent: int) -> dict:
    uptime = int((now - T0 + 10_000) * 100)
    index = 7
    return {
        oid(p.SYS_UPTIME): TimeTicks(uptime % 2**32),
        oid(p.IF_NUMBER): Integer32(1),
        oid(p.IF_TABLE_LAST_CHANGE): TimeTicks(0),
        (*oid(p.IF_NAME), index): OctetString("<pppoe-fast>"),
        (*oid(p.IF_DESCR), index): OctetString("<pppoe-fast>"),
        (*oid(p.IF_OPER_STATUS), index): Integer32(1),
        (*oid(p.IF_HIGH_SPEED), index): Gauge32(10_000),
        (*oid(p.IF_IN_OCTETS), index): Counter32(0),
        (*oid(p.IF_OUT_OCTETS), index): Counter32(sent % 2**32),
        (*oid(p.IF_HC_IN_OCTETS), index): Counter64(0),
        (*oid(p.IF_HC_OUT_OCTETS), index): Counter64(sent),
    }


async def one_run(
    rate_bps: int, cap: int, projection: bool, seed: int, workdir: Path
) -> tuple[float, int]:
    """(overshoot as a fraction of the cap, SNMP requests) for one simulated crossing."""
    rng = random.Random(seed)
    agent, port = await start_agent()
    clock = ManualClock(T0)
    # Already 3 intervals of line rate short of the cap, starting at a random phase.
    start = T0 + rng.uniform(0, INTERVAL)
    line = Line(rate_bps, start, seed)
    prior = max(0, cap - int(3 * INTERVAL * rate_bps / 8))
    agent.before_reply = lambda: agent.set(objects(clock.now(), line.sent(clock.now())))
    tag = f"{rate_bps}-{cap}-{seed}-{projection}"
    config_path = workdir / f"{tag}.toml"
    config_path.write_text(f"""
interval = "{INTERVAL}s"
projection = {"true" if projection else "false"}
[plans.big]
cap = "{cap}"
window = "30d"
[subscribers.fast]
plan = "big"
[access_servers.bras]
host = "127.0.0.1"
port = {port}
match = [{{ field = "ifName", pattern = "<pppoe-(?P<user>.+)>" }}]
""")
    config = load_config(config_path)
    with Ledger.open_writer(workdir / f"ledger-{tag}", config.tallies()) as ledger:
        ledger.commit(T0 - 1, [Sample("fast", int(T0 - 1), prior, 0)])
        daemon = Daemon(config, clock, ledger, drivers=[make_driver("sim", "log", {})])
        await daemon.run(asyncio.Event(), cycles=6)
        limits = ledger.limits()
    agent.transport.close() if agent.transport else None
    if not limits:
        raise SystemExit(f"run {seed}: never limited")
    overshoot = prior + line.sent(limits[0].since) - cap
    return overshoot / cap, agent.requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="seeded runs per case")
    args = parser.parse_args()
    import logging

    logging.getLogger("nmsquota").setLevel(logging.WARNING)
    cases = [(10_000_000, 10 * GB), (100_000_000, 10 * GB), (100_000_000, 100 * GB),
             (1_000_000_000, 100 * GB)]  # fmt: skip
    print(f"interval {INTERVAL}s; {args.runs} seeded runs per case; rate varies +-40% every 30s")
    print(f"{'line':>10} {'cap':>7}  {'policy':<10}{'mean':>9}{'max':>9}{'SNMP req':>10}")
    with tempfile.TemporaryDirectory(prefix="nmsquota-overshoot-") as tmp:
        for rate, cap in cases:
            requests = {}
            for projection in (False, True):
                results = [asyncio.run(one_run(rate, cap, projection, seed, Path(tmp)))
                           for seed in range(args.runs)]  # fmt: skip
                overshoots = [o for o, _ in results]
                requests[projection] = statistics.mean(r for _, r in results)
                name = "projected" if projection else "fixed"
                print(f"{rate // 10**6:>6}Mbit {cap // GB:>5}GB  {name:<10}"
                      f"{statistics.mean(overshoots) * 100:>8.3f}%"
                      f"{max(overshoots) * 100:>8.3f}%{requests[projection]:>10.1f}",
                      flush=True)  # fmt: skip
            print(f"{'':>20}SNMP traffic projected / fixed: "
                  f"{requests[True] / requests[False]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
