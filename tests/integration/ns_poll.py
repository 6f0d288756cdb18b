"""Runs inside the access server's namespace: polls its snmpd whenever told to on stdin.

Its arguments: the agent's port and the transport that sends the requests. Each line on
stdin ("poll") makes one poll through the cycle the daemon runs (so with the
memory of the last poll); each poll prints one JSON line with the samples charged since the
previous poll, the verdicts, the addresses learned from host routes and whether the identity
columns were walked, so the test outside can compare them with the kernel's counters.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.snmp.connect import Transports
from nmsquota.snmp.cycle import Device, poll_devices
from nmsquota.snmp.walk import Agent


async def main(port: int, transport: str) -> None:
    transports = Transports()
    device = Device(
        "bras",
        Agent("bras", "127.0.0.1", port, transport=transport),
        InterfaceMap(rules=[Rule.compile("ifName", r"sub-(?P<user>.+)")]),
        learn_addresses="inet-cidr-route",
    )
    stored: dict[str, dict] = {}
    loop = asyncio.get_running_loop()
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "poll":
        (result,) = await poll_devices(
            transports, [device], time.time(), lambda n: stored.get(n, {})
        )
        assert result.attribution is not None and result.poll is not None, result.error
        stored["bras"] = result.attribution.baselines
        print(
            json.dumps(
                {
                    "samples": {
                        s.subscriber: [s.bytes_in, s.bytes_out] for s in result.attribution.samples
                    },
                    "verdicts": {
                        k.subscriber: c.verdict.value for k, c in result.attribution.charges
                    },
                    "addresses": result.poll.addresses,
                    "identity_walked": result.poll.identity_walked,
                }
            ),
            flush=True,
        )


asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
