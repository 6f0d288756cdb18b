"""One polling cycle over every access server: SNMP in, charges per subscriber out.

What `poll --once` shows and what the daemon commits each interval. A device that does not
answer is reported in its result and keeps every baseline; it never holds up the others,
because each walk is bounded by its agent's deadline and the devices are polled concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nmsquota.attribution import (
    Attribution,
    Direction,
    InterfaceMap,
    Rule,
    SessionKey,
    attribute,
    baselines_from_state,
    baselines_to_state,
)
from nmsquota.config import AccessServer, Config
from nmsquota.counters import Reading
from nmsquota.ledger import Ledger
from nmsquota.ledger.model import Sample
from nmsquota.snmp.poller import Memory, Poll, poll
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

    @classmethod
    def from_config(cls, config: Config, name: str, server: AccessServer) -> Device:
        agent = Agent(
            name,
            server.host,
            server.port,
            server.version,
            config.secret(server.community) or "public",
            server.timeout,
            server.retries,
            server.deadline,
            user=server.user or "",
            auth_protocol=server.auth,
            auth_key=config.secret(server.auth_key),
            priv_protocol=server.priv,
            priv_key=config.secret(server.priv_key),
        )
        mapping = InterfaceMap(
            rules=[Rule.compile(m.field, m.pattern) for m in server.match],
            static=server.interfaces,
        )
        return cls(
            name,
            agent,
            mapping,
            source=server.source,
            download=server.download,
            speed_override_bps=server.speed_override,
            identity_refresh=server.identity_refresh,
            learn_addresses=server.learn_addresses,
        )


@dataclass
class DeviceResult:
    """What one cycle saw on one device: its poll and charges, or why it could not be read."""

    device: str
    poll: Poll | None = None
    attribution: Attribution | None = None
    error: str | None = None
    seconds: float = 0.0


def devices_from(config: Config, names: Iterable[str] | None = None) -> list[Device]:
    servers = config.settings.access_servers
    return [Device.from_config(config, n, servers[n]) for n in (names or servers)]


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
        )
    except SnmpError as error:
        # Names may have changed while it was away: walk them again when it answers.
        device.memory = None
        result.error = str(error)
        result.seconds = time.perf_counter() - started
        return result
    device.memory = seen.memory
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


def commit(ledger: Ledger, results: Sequence[DeviceResult], now: float) -> int:
    """Record one cycle in the ledger as one commit: the samples of every device that
    answered, and its new baselines, together; so a crash loses both or neither, and a
    restart resumes from the baselines without charging anything twice. A device that did
    not answer keeps its old baselines, so its next answer covers the whole gap once."""
    totals: dict[str, list[int]] = {}
    with ledger.batch():
        for result in results:
            if result.attribution is None:
                continue
            ledger.set_counter_state(
                result.device, baselines_to_state(result.attribution.baselines)
            )
            for sample in result.attribution.samples:
                total = totals.setdefault(sample.subscriber, [0, 0])
                total[0] += sample.bytes_in
                total[1] += sample.bytes_out
        samples = [Sample(name, int(now), down, up) for name, (down, up) in sorted(totals.items())]
        return ledger.commit(now, samples)


def stored_baselines(ledger: Ledger | None) -> Callable[[str], Mapping[SessionKey, Reading]]:
    """Baselines per device as the ledger holds them (none without a ledger)."""

    def baselines(device: str) -> Mapping[SessionKey, Reading]:
        return baselines_from_state(ledger.counter_state(device)) if ledger else {}

    return baselines
