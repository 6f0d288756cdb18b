"""NMSQUOTA-MIB's notifications reach an SNMP manager: Net-SNMP's snmptrapd on a loopback port
receives nqLimitApplied when the daemon limits a subscriber and nqLimitLifted when it releases
them, and decodes them with mibs/NMSQUOTA-MIB.txt (so the traps and the MIB agree)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from conftest import REPO, free_udp_port, require
from integration.test_daemon_cycle import rig

HOME = {"cap": "1MB", "window": "1h", "limit": {"rate": "64kbit"}}


def received(log: Path, count: int, timeout: float = 10.0) -> list[str]:
    """The traps snmptrapd logged, one line each, once there are `count`."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log.read_text().splitlines() if "nqLimit" in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_a_limit_applied_and_lifted_reach_a_trap_receiver_as_the_mib_names_them(
    tmp_path: Path,
) -> None:
    snmptrapd = require("snmptrapd")
    port = free_udp_port()
    conf = tmp_path / "snmptrapd.conf"
    conf.write_text("disableAuthorization yes\n")
    log = tmp_path / "traps.log"
    log.touch()
    receiver = subprocess.Popen(
        [snmptrapd, "-f", "-C", "-c", str(conf), "-Lf", str(log), "-M", f"+{REPO / 'mibs'}",
         "-m", "+NMSQUOTA-MIB", "-F", "%V\u241f%v\n", f"udp:127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.5)  # snmptrapd binds its port

        async def run() -> None:
            notify = {"traps": [f"127.0.0.1:{port}"], "trap_community": "watchers"}
            async with rig(tmp_path, plans={"home": HOME}, notify=notify) as r:
                for alice in (0, 1_200_000, 1_200_000):
                    r.bras.show(r.clock.now(), alice, 0)
                    await r.daemon.cycle()
                    r.clock.advance(300 if alice == 0 else 3600)
                await r.daemon.traps.drain()

        asyncio.run(run())
        traps = received(log, 2)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    assert len(traps) == 2, log.read_text()
    applied, lifted = traps
    assert "SNMPv2-MIB::snmpTrapOID.0 = OID: NMSQUOTA-MIB::nqLimitApplied" in applied
    assert 'NMSQUOTA-MIB::nqSubscriberState."alice" = INTEGER: limited(5)' in applied
    assert 'NMSQUOTA-MIB::nqSubscriberLimitRate."alice" = Gauge32: 64000 bits per second' in applied
    assert 'NMSQUOTA-MIB::nqSubscriberReason."alice" = STRING: over cap: 1200000 of' in applied
    assert "SNMPv2-MIB::snmpTrapOID.0 = OID: NMSQUOTA-MIB::nqLimitLifted" in lifted
    assert 'NMSQUOTA-MIB::nqSubscriberState."alice" = INTEGER: ok(1)' in lifted
