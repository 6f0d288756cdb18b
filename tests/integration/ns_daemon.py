"""Runs the daemon's cycle inside the access server's namespace, one cycle per "cycle" line
on stdin, each answered with a JSON line; "advance SECONDS" moves its clock forward;
"reload PATH" takes a new configuration, as SIGHUP does.

The clock is the wall clock plus an offset, so snmpd's sysUpTime keeps agreeing with it
between cycles; an advance looks to the poller like a long gap (no charge for it), and
to the ledger like time passing: windows roll.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from nmsquota.config import load_config
from nmsquota.daemon.core import Daemon
from nmsquota.ledger import Ledger


class ShiftedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def main(config_path: str, ledger_path: str) -> None:
    config = load_config(config_path)
    clock = ShiftedClock()
    loop = asyncio.get_running_loop()
    with Ledger.open_writer(ledger_path, config.tallies()) as ledger:
        daemon = Daemon(config, clock, ledger)
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).split():
            if line[0] == "advance":
                clock.offset += float(line[1])
                print(json.dumps({"ok": True}), flush=True)
                continue
            if line[0] == "reload":  # what SIGHUP does in `nmsquota run`
                daemon.configure(load_config(line[1]))
                print(json.dumps({"ok": True}), flush=True)
                continue
            report = await daemon.cycle()
            print(json.dumps({"limited": report.limited, "changed": report.changed,
                              "failed": report.devices_failed, "drivers": report.drivers,
                              "not_effective": report.not_effective,
                              "checks": {n: c.measured_bps for n, c in daemon.checks.items()}}),
                  flush=True)  # fmt: skip


asyncio.run(main(sys.argv[1], sys.argv[2]))
