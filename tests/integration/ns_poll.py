"""Runs inside the access server's namespace: polls its snmpd whenever told to on stdin.

Each line on stdin ("poll") makes one poll; each poll prints one JSON line with the samples
charged since the previous poll and the verdicts, so the test outside can compare them with
the kernel's counters.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from nmsquota.attribution import InterfaceMap, Rule, attribute
from nmsquota.snmp.poller import poll
from nmsquota.snmp.walk import Agent, Session


async def main(port: int) -> None:
    session = await Session.open(SnmpEngine(), Agent("bras", "127.0.0.1", port))
    mapping = InterfaceMap(rules=[Rule.compile("ifName", r"sub-(?P<user>.+)")])
    baselines: dict = {}
    loop = asyncio.get_running_loop()
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "poll":
        seen = await poll(session, mapping, time.time())
        result = attribute(baselines, seen.readings, int(time.time()))
        baselines = result.baselines
        print(
            json.dumps(
                {
                    "samples": {s.subscriber: [s.bytes_in, s.bytes_out] for s in result.samples},
                    "verdicts": {k.subscriber: c.verdict.value for k, c in result.charges},
                }
            ),
            flush=True,
        )


asyncio.run(main(int(sys.argv[1])))
