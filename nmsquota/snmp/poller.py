"""One poll of one access server: IF-MIB over SNMP in, readings keyed by session out.

The SNMP side only: which columns to walk and how to turn their rows into counter readings
of the interfaces that belong to subscribers. What the readings cost whom is attribution.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nmsquota.attribution import Interface, InterfaceMap, SessionKey
from nmsquota.counters import Reading
from nmsquota.snmp.walk import Column, Session, get, walk

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"

COLUMNS = (
    IF_DESCR,
    IF_SPEED,
    IF_OPER_STATUS,
    IF_IN_OCTETS,
    IF_OUT_OCTETS,
    IF_NAME,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_HIGH_SPEED,
    IF_ALIAS,
)

# SNMPv1 cannot carry Counter64: the 64-bit counters are not asked for at all.
V1_COLUMNS = tuple(c for c in COLUMNS if c not in (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS))


@dataclass
class Poll:
    """What one poll of one access server saw."""

    readings: list[tuple[SessionKey, Reading]] = field(default_factory=list)
    unmapped: list[Interface] = field(default_factory=list)
    uptime: int | None = None
    origins: dict[SessionKey, Reading] = field(default_factory=dict)
    """Where a session's counters started (zero at session start), for session tables."""


async def poll(session: Session, mapping: InterfaceMap, now: float, source: str = "if-mib") -> Poll:
    """Read every subscriber's counters once: from the interface table (IF-MIB), or from
    accel-ppp's session table, whose rows name the user themselves."""
    uptime = (await get(session, [SYS_UPTIME]))[SYS_UPTIME]
    if source == "accel-ppp":
        return sessions_from_accel(
            session.agent.name, await walk(session, ACCEL_COLUMNS), now, uptime
        )
    columns = COLUMNS if session.agent.version != "1" else V1_COLUMNS
    table = await walk(session, columns)
    return readings_from(session.agent.name, table, mapping, now, uptime)


def readings_from(
    server: str, table: dict[str, Column], mapping: InterfaceMap, now: float, uptime: int | None
) -> Poll:
    """Pure: walked columns to readings. Rows are joined on ifIndex."""
    result = Poll(uptime=uptime)
    indexes = sorted(set(table.get(IF_DESCR, {})) | set(table.get(IF_NAME, {})))
    for index in indexes:
        interface = Interface(
            index=index[0],
            name=_text(table, IF_NAME, index),
            descr=_text(table, IF_DESCR, index),
            alias=_text(table, IF_ALIAS, index),
        )
        subscriber = mapping.subscriber(interface)
        if subscriber is None:
            result.unmapped.append(interface)
            continue
        key = SessionKey(server, interface.index, interface.name or interface.descr, subscriber)
        result.readings.append((key, _reading(table, index, now, uptime)))
    return result


def _reading(
    table: dict[str, Column], index: tuple[int, ...], now: float, uptime: int | None
) -> Reading:
    hc_in, hc_out = _count(table, IF_HC_IN_OCTETS, index), _count(table, IF_HC_OUT_OCTETS, index)
    if hc_in is not None and hc_out is not None:
        octets_in, octets_out, width = hc_in, hc_out, 64
    else:
        octets_in, octets_out = (
            _count(table, IF_IN_OCTETS, index),
            _count(table, IF_OUT_OCTETS, index),
        )
        width = 32
    high_speed = _count(table, IF_HIGH_SPEED, index)
    speed = high_speed * 10**6 if high_speed else _count(table, IF_SPEED, index)
    return Reading(
        time=now,
        octets_in=octets_in,
        octets_out=octets_out,
        width=width,
        uptime=uptime,
        speed_bps=speed or None,
        oper_status=_count(table, IF_OPER_STATUS, index),
    )


def _count(table: dict[str, Column], column: str, index: tuple[int, ...]) -> int | None:
    # A missing, empty or non-numeric value is None: never a zero reading.
    value: Any = table.get(column, {}).get(index)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(table: dict[str, Column], column: str, index: tuple[int, ...]) -> str:
    value = table.get(column, {}).get(index)
    return value if isinstance(value, str) else ""


# accel-ppp's ACCEL-PPP-MIB sessionTable (an AgentX subagent of snmpd): one row per session,
# indexed by its Acct-Session-Id, with 64-bit byte counters that start at 0 with the session.
ACCEL_SESSION_ENTRY = "1.3.6.1.4.1.8072.100.2.1.1"
ACCEL_SID, ACCEL_IFNAME, ACCEL_USERNAME, ACCEL_IP = (
    f"{ACCEL_SESSION_ENTRY}.{n}" for n in (1, 2, 3, 4)
)
ACCEL_STATE, ACCEL_UPTIME = f"{ACCEL_SESSION_ENTRY}.6", f"{ACCEL_SESSION_ENTRY}.7"
ACCEL_RX_BYTES, ACCEL_TX_BYTES = f"{ACCEL_SESSION_ENTRY}.10", f"{ACCEL_SESSION_ENTRY}.12"
ACCEL_COLUMNS = (
    ACCEL_SID, ACCEL_IFNAME, ACCEL_USERNAME, ACCEL_IP, ACCEL_STATE, ACCEL_UPTIME,
    ACCEL_RX_BYTES, ACCEL_TX_BYTES,
)  # fmt: skip
ACCEL_ACTIVE = 2


def sessions_from_accel(
    server: str, table: dict[str, Column], now: float, uptime: int | None
) -> Poll:
    """Pure: accel-ppp session rows to readings keyed by (interface, user, session id).

    rx is what the server received from the subscriber (upload), tx what it sent them
    (download), matching IF-MIB's in and out on the subscriber's interface.
    """
    result = Poll(uptime=uptime)
    for index in sorted(table.get(ACCEL_USERNAME, {})):
        user = _text(table, ACCEL_USERNAME, index)
        sid = _text(table, ACCEL_SID, index) or "".join(map(chr, index[1:]))
        if not user:
            result.unmapped.append(Interface(0, _text(table, ACCEL_IFNAME, index)))
            continue
        key = SessionKey(server, 0, _text(table, ACCEL_IFNAME, index), user, sid)
        state = _count(table, ACCEL_STATE, index)
        reading = Reading(
            time=now,
            octets_in=_count(table, ACCEL_RX_BYTES, index),
            octets_out=_count(table, ACCEL_TX_BYTES, index),
            width=64,
            oper_status=1 if state == ACCEL_ACTIVE else state,
        )
        result.readings.append((key, reading))
        session_uptime = _count(table, ACCEL_UPTIME, index)
        if session_uptime is not None:
            result.origins[key] = Reading(now - session_uptime, 0, 0, width=64)
    return result
