"""A whole poll against a real snmpd: traffic on lo is charged to the subscriber mapped to it."""

from __future__ import annotations

import asyncio
import socket
import time

from conftest import kernel_counters, wait_for_counters

from nmsquota.attribution import InterfaceMap, attribute
from nmsquota.snmp.connect import open_transport
from nmsquota.snmp.poller import poll
from nmsquota.snmp.walk import Agent

PAYLOAD = 2_000_000


def send_over_loopback(total: int) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    chunk = b"x" * 10_000
    try:
        for _ in range(total // len(chunk)):
            sender.sendto(chunk, receiver.getsockname())
    finally:
        sender.close()
        receiver.close()


def test_bytes_through_an_interface_are_charged_to_its_subscriber(
    snmpd_loopback: int, transport: str
) -> None:
    agent = Agent("lo-server", "127.0.0.1", snmpd_loopback, transport=transport)
    mapping = InterfaceMap(static={"lo": "alice"})

    async def two_polls() -> tuple:
        session = await open_transport(agent)
        # The kernel's count before the first poll's, and after the second's: whatever lo
        # carried in between (ours and everyone else's) bounds what can be charged.
        before = kernel_counters(["lo"])["lo"]
        wait_for_counters(snmpd_loopback, ["lo"])  # snmpd's cache: up to 5 s behind
        first = await poll(session, mapping, time.time())
        baseline = attribute({}, first.readings, 0)
        send_over_loopback(PAYLOAD)
        wait_for_counters(snmpd_loopback, ["lo"])
        second = await poll(session, mapping, time.time())
        after = kernel_counters(["lo"])["lo"]
        moved = (after[0] - before[0], after[1] - before[1])
        return first, attribute(baseline.baselines, second.readings, 1), moved

    first, result, (moved_in, moved_out) = asyncio.run(two_polls())
    assert [k.interface for k, _ in first.readings] == ["lo"]
    assert all(i.name != "lo" for i in first.unmapped)
    (sample,) = result.samples
    assert sample.subscriber == "alice"
    # lo counts each datagram (plus 28 bytes of headers) once out and once in. SNMP's own
    # packets ride on lo too, and so does anything else on this machine (lo is the root
    # namespace's), so allow more, never less, and never more than the kernel counted over
    # a span that holds both polls: counted twice would be about double that.
    sent = PAYLOAD + PAYLOAD // 10_000 * 28
    assert sent <= sample.bytes_in <= moved_in
    assert sent <= sample.bytes_out <= moved_out
