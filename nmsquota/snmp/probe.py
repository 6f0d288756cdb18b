"""What one walk of an access server says about mapping it: every interface with its names,
speed, counter width and status, whom it maps to and by which rule, and what will go wrong
(`nmsquota probe`, `config check --live`).

The judgement is pure (probe_table: walked columns in, a Probe out); `probe` adds the walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nmsquota.attribution import Interface, InterfaceMap
from nmsquota.counters import DEFAULT_CEILING_BPS
from nmsquota.snmp.profile import NameTable, Profile
from nmsquota.snmp.profiles import profile_of
from nmsquota.snmp.tables import (
    COLUMNS,
    CSUB_NAMES,
    SYS_UPTIME,
    V1_COLUMNS,
    interfaces_of,
    reading_of,
    readings_from,
)
from nmsquota.snmp.transport import Transport
from nmsquota.snmp.walk import Column, get, walk

OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
               7: "lowerLayerDown"}  # fmt: skip
"""IF-MIB ifOperStatus."""
SHOWN = 5
"""A warning about many interfaces names this many of their ifIndexes."""


@dataclass(frozen=True, slots=True)
class Port:
    """One interface as the walk found it."""

    interface: Interface
    speed_bps: int | None
    width: int | None
    """64 (ifHC* counters), 32, or None: no counters at all."""
    status: str
    octets_in: int | None
    octets_out: int | None
    subscriber: str | None
    rule: str | None
    """Which rule mapped it: interfaces."KEY", match.N, session, or the profile whose names
    table named it (cisco-csub, juniper-subscribers)."""

    @property
    def traffic(self) -> bool:
        """Whether its counters have counted anything (since the agent started)."""
        return bool(self.octets_in or self.octets_out)


@dataclass
class Probe:
    device: str
    ports: list[Port] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def probe_table(device: str, table: dict[str, Column], mapping: InterfaceMap, *,
                interval: int, version: str = "2c", now: float = 0.0,
                speed_override_bps: int | None = None,
                names: NameTable | None = CSUB_NAMES, named_by: str = "cisco-csub",
                ) -> Probe:  # fmt: skip
    """Pure: one walk's columns judged for mapping and charging (`names`: as readings_from;
    `named_by`: the rule shown for an interface it names, its profile's name)."""
    seen = readings_from(device, table, mapping, now, None, names=names)
    charged = {key.index: key.subscriber for key, _ in seen.readings}
    found = Probe(device)
    for interface in interfaces_of(table):
        reading = reading_of(table, (interface.index,), now, None)
        has_counters = reading.octets_in is not None or reading.octets_out is not None
        rule = seen.assignment.subscribers.get(interface.index, (None, named_by))[1]
        subscriber = charged.get(interface.index)
        found.ports.append(Port(
            interface, reading.speed_bps, reading.width if has_counters else None,
            OPER_STATUS.get(reading.oper_status or 0, str(reading.oper_status or "?")),
            reading.octets_in, reading.octets_out, subscriber,
            rule if subscriber is not None else None,
        ))  # fmt: skip
    found.warnings += [p.text for p in seen.assignment.problems]
    found.warnings += _idle_patterns(mapping, [p.interface for p in found.ports])
    found.warnings += _shared_names(found.ports)
    for port in found.ports:
        found.warnings += _port_warnings(port, interval, version, speed_override_bps)
    return found


async def probe(session: Transport, mapping: InterfaceMap, *, interval: int,
                source: str | Profile, now: float,
                speed_override_bps: int | None = None) -> Probe:  # fmt: skip
    """Walk the interface table once (with the profile's names table where the device
    names its sessions so: Cisco's csubSessionTable, Juniper's jnxSubscriberTable) and judge
    it."""
    profile = profile_of(source)
    columns = COLUMNS if session.agent.version != "1" else V1_COLUMNS
    await get(session, [SYS_UPTIME])  # an agent that does not answer fails here, quickly
    table = await walk(session, (*columns, *profile.name_columns))
    found = probe_table(session.agent.name, table, mapping, interval=interval,
                        version=session.agent.version, now=now,
                        speed_override_bps=speed_override_bps, names=profile.names,
                        named_by=profile.name)  # fmt: skip
    if profile.kind == "sessions":
        found.warnings.insert(0, f"source is {profile.name}: its sessions are named by "
                              f"{profile.name}'s session table, not by this interface "
                              "map")  # fmt: skip
    return found


def _where(port: Port) -> str:
    name = port.interface.name or port.interface.descr
    return f"ifIndex {port.interface.index} ({name!r})"


def _indexes(indexes: Sequence[int]) -> str:
    shown = ", ".join(map(str, indexes[:SHOWN]))
    return shown + (f" and {len(indexes) - SHOWN} more" if len(indexes) > SHOWN else "")


def _shared_names(ports: Sequence[Port]) -> list[str]:
    """Names (ifName or ifDescr) several interfaces share: no name entry can map them."""
    holders: dict[str, list[int]] = {}
    for port in ports:
        for name in dict.fromkeys((port.interface.name, port.interface.descr)):
            if name:
                holders.setdefault(name, []).append(port.interface.index)
    return [
        f"{name!r} is the ifName or ifDescr of {len(indexes)} interfaces (ifIndex "
        f"{_indexes(indexes)}): an entry by that name charges nobody; map them by "
        "ifindex: or alias:"
        for name, indexes in holders.items()
        if len(indexes) > 1
    ]


def _idle_patterns(mapping: InterfaceMap, interfaces: Sequence[Interface]) -> list[str]:
    return [
        f"match.{number} ({rule.field} {rule.pattern.pattern!r}) matches no interface"
        for number, rule in enumerate(mapping.rules)
        if not any(rule.pattern.fullmatch(i.field(rule.field)) for i in interfaces)
    ]


def _port_warnings(port: Port, interval: int, version: str,
                   speed_override_bps: int | None) -> list[str]:  # fmt: skip
    """What will go wrong charging this port (only ports that map, or carry traffic)."""
    warnings = []
    if port.subscriber is None:
        if port.traffic:
            warnings.append(f"{_where(port)} has counted traffic but maps to no subscriber")
        return warnings
    speed = speed_override_bps or port.speed_bps
    if port.width == 32 and speed:
        wrap = 2**32 * 8 / speed
        if wrap < interval:
            fix = (
                'set version = "2c" (SNMPv1 cannot carry 64-bit counters)'
                if version == "1"
                else f"the agent has no 64-bit counters for it: set interval below {wrap:.0f} s"
            )
            warnings.append(
                f"{_where(port)}: a 32-bit counter at {_rate(speed)} wraps every {wrap:.0f} s, "
                f"more than once per {interval} s interval: its charge is unknowable; {fix}"
            )
    if not speed:
        warnings.append(
            f"{_where(port)}: speed 0 (unknown): the spike guard falls back to its ceiling "
            f"({_rate(DEFAULT_CEILING_BPS)}); set speed_override to bound it"
        )
    return warnings


def _rate(bps: int) -> str:
    for unit, size in (("Gbit/s", 10**9), ("Mbit/s", 10**6), ("kbit/s", 10**3)):
        if bps >= size:
            return f"{bps / size:g} {unit}"
    return f"{bps} bit/s"
