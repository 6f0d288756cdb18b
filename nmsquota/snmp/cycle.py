"""One polling cycle over every access server: SNMP in, charges per subscriber out.

What `poll --once` shows and what the daemon commits each interval. It takes plain settings
(Device, built from the configuration by nmsquota.daemon.devices) and baselines from the
caller, and returns results; it knows neither the configuration file nor the ledger.

A device that does not answer is reported in its result and keeps every baseline; it never
holds up the others, because each walk is bounded by its agent's deadline and the devices are
polled concurrently. One that keeps failing is tried only now and then (snmp/backoff.py),
and reported "backing off" in the cycles it sits out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nmsquota.attribution import Attribution, Direction, InterfaceMap, SessionKey, attribute
from nmsquota.counters import Reading
from nmsquota.snmp.backoff import Backoff
from nmsquota.snmp.poller import Memory, Poll, PollCut, poll
from nmsquota.snmp.tables import Partial
from nmsquota.snmp.walk import Agent, Session, SnmpError

MAX_DEVICES_IN_FLIGHT = 64
"""Each device has one request in flight at a time, so this bounds the requests in flight:
1,000 at once overflowed the UDP receive buffer and lost replies (FIELD-NOTES)."""


@dataclass
class Device:
    """One access server as the poller sees it, with what it remembers between cycles."""

    name: str
    agent: Agent
    mapping: InterfaceMap
    source: str = "if-mib"
    download: Direction = "out"
    speed_override_bps: int | None = None
    identity_refresh: float = 3600.0
    learn_addresses: str = "off"
    memory: Memory | None = field(default=None, repr=False)
    pins: dict[int, str] = field(default_factory=dict)
    """ifIndex -> the name its ifindex mapping entry was first mapped with (kept by the
    caller across restarts: the daemon, in the device's ledger record)."""
    partial: Partial | None = field(default=None, repr=False)
    """What its last walk read before it failed, for the next to go on from."""
    backoff: Backoff = field(default_factory=Backoff, repr=False)


@dataclass
class DeviceResult:
    """What one cycle saw on one device: its poll and charges, or why it could not be read."""

    device: str
    poll: Poll | None = None
    attribution: Attribution | None = None
    error: str | None = None
    seconds: float = 0.0
    backing_off: bool = False
    """Not polled this cycle: it failed too often in a row (snmp/backoff.py); `error` says."""


async def poll_devices(
    engine: Any,
    devices: Sequence[Device],
    now: float,
    baselines: Callable[[str], Mapping[SessionKey, Reading]],
    *,
    in_flight: int = MAX_DEVICES_IN_FLIGHT,
) -> list[DeviceResult]:
    """Poll every device once, concurrently, and charge each against `baselines(device)`.

    Updates each device's memory; the caller stores the new baselines (`attribution.
    baselines`) of the devices that answered, and keeps the old ones of those that did not.
    """
    limit = asyncio.Semaphore(in_flight)

    async def bounded(device: Device) -> DeviceResult:
        if not device.backoff.take_turn():  # before the limit: it holds no slot
            return DeviceResult(device.name, error=device.backoff.skipped(device.name),
                                backing_off=True)  # fmt: skip
        async with limit:
            return await _poll_device(engine, device, now, baselines)

    return list(await asyncio.gather(*(bounded(d) for d in devices)))


async def _poll_device(
    engine: Any,
    device: Device,
    now: float,
    baselines: Callable[[str], Mapping[SessionKey, Reading]],
) -> DeviceResult:
    result = DeviceResult(device.name)
    started = time.perf_counter()
    try:
        seen = await poll(
            await Session.open(engine, device.agent),
            device.mapping,
            now,
            device.source,
            memory=device.memory,
            refresh=device.identity_refresh,
            routes=device.learn_addresses,
            pins=device.pins,
            partial=device.partial,
        )
    except SnmpError as error:
        # Its memory stays: the next poll checks it as every poll does (poller.py), and
        # what a cut first walk read is gone on from.
        if isinstance(error, PollCut):
            device.partial = error.partial
        device.backoff.failed(str(error))
        result.error = str(error)
        result.seconds = time.perf_counter() - started
        return result
    device.memory, device.partial = seen.memory, None
    device.backoff.answered()
    device.pins = seen.assignment.pins
    result.poll = seen
    result.attribution = attribute(
        baselines(device.name),
        seen.readings,
        int(now),
        download=device.download,
        speed_override_bps=device.speed_override_bps,
        origins=seen.origins,
    )
    result.seconds = time.perf_counter() - started
    return result
