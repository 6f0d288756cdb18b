"""What an access server's walked tables mean: IF-MIB rows (with Cisco's csubSessionTable and
IP-FORWARD-MIB host routes) and accel-ppp's sessionTable turned into counter readings keyed by
session, and what the poller remembers of them between cycles. Pure: no SNMP is spoken here
(poller.py decides what to walk and when).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nmsquota.attribution import Assignment, Interface, InterfaceMap, SessionKey
from nmsquota.counters import Reading
from nmsquota.names import display_string
from nmsquota.snmp.profile import NameTable, SessionTable
from nmsquota.snmp.walk import Column, Index, parse_oid

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_TABLE_LAST_CHANGE = "1.3.6.1.2.1.31.1.5.0"
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
IF_COUNTER_DISCONTINUITY = "1.3.6.1.2.1.31.1.1.1.19"

# Who an interface is and how fast it may go: walked on the first poll and again only when
# the interface set may have changed. Counters are walked every cycle.
IDENTITY_COLUMNS = (IF_DESCR, IF_SPEED, IF_NAME, IF_HIGH_SPEED, IF_ALIAS)
HC_COLUMNS = (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS)
COUNTER_COLUMNS_32 = (IF_IN_OCTETS, IF_OUT_OCTETS)
STATE_COLUMNS = (IF_OPER_STATUS, IF_COUNTER_DISCONTINUITY)
COLUMNS = (*IDENTITY_COLUMNS, *HC_COLUMNS, *COUNTER_COLUMNS_32, *STATE_COLUMNS)

# SNMPv1 cannot carry Counter64: the 64-bit counters are not asked for at all.
V1_COLUMNS = tuple(c for c in COLUMNS if c not in HC_COLUMNS)

# CISCO-SUBSCRIBER-SESSION-MIB csubSessionTable, indexed by the session's ifIndex. The user
# name and accounting session id are valid only where their bit is set in
# csubSessionAvailableIdentities (BITS, CISCO-SUBSCRIBER-IDENTITY-TC-MIB: username is bit 12,
# acctSessionId bit 13). Its rows carry no octet counters: those are IF-MIB's at that ifIndex.
CSUB_SESSION_ENTRY = "1.3.6.1.4.1.9.9.786.1.1.1.1"
CSUB_IDENTITIES = f"{CSUB_SESSION_ENTRY}.8"
CSUB_USERNAME = f"{CSUB_SESSION_ENTRY}.24"
CSUB_ACCT_SESSION_ID = f"{CSUB_SESSION_ENTRY}.25"
CSUB_COLUMNS = (CSUB_IDENTITIES, CSUB_USERNAME, CSUB_ACCT_SESSION_ID)
CSUB_BIT_USERNAME, CSUB_BIT_ACCT_SESSION_ID = 12, 13
CSUB_NAMES = NameTable(
    entry=CSUB_SESSION_ENTRY, subscriber=CSUB_USERNAME, available=CSUB_IDENTITIES,
    subscriber_bit=CSUB_BIT_USERNAME, session_id=CSUB_ACCT_SESSION_ID,
    session_id_bit=CSUB_BIT_ACCT_SESSION_ID, session_id_format="hex8",
)  # fmt: skip
"""The built-in cisco-csub profile's names table (data/profiles/cisco-csub.toml), spelled
here for readings_from's callers that name no profile."""

# IP-FORWARD-MIB: a host route to a session's interface is that subscriber's address.
# inetCidrRouteIfIndex, indexed by (destType, dest as length+octets, pfxLen, policy as
# length+subids, nextHopType, nextHop as length+octets); ipCidrRouteIfIndex (IPv4 only),
# indexed by (dest, mask, tos, nextHop), each address four subids.
INET_CIDR_ROUTE_IF_INDEX = "1.3.6.1.2.1.4.24.7.1.7"
IP_CIDR_ROUTE_IF_INDEX = "1.3.6.1.2.1.4.24.4.1.5"
ROUTE_COLUMNS = {
    "inet-cidr-route": INET_CIDR_ROUTE_IF_INDEX,
    "ip-cidr-route": IP_CIDR_ROUTE_IF_INDEX,
}


@dataclass
class Poll:
    """What one poll of one access server saw."""

    readings: list[tuple[SessionKey, Reading]] = field(default_factory=list)
    unmapped: list[Interface] = field(default_factory=list)
    uptime: int | None = None
    origins: dict[SessionKey, Reading] = field(default_factory=dict)
    """Where a session's counters started (zero at session start), for session tables."""
    addresses: dict[str, list[str]] = field(default_factory=dict)
    """Subscriber -> the addresses the device routes to their sessions."""
    memory: Memory | None = None
    """What the next poll of this device may reuse."""
    identity_walked: bool = True
    """False when only the counters were walked and names came from the last poll."""
    identity_rows: int | None = None
    """When sessions came and went: how many rows' identity was read by GET (None: the
    columns were walked whole, or not at all)."""
    assignment: Assignment = field(default_factory=Assignment)
    """Whose each interface is, by which rule; the map's problems; the ifindex pins."""

    def add_address(self, subscriber: str, address: str) -> None:
        known = self.addresses.setdefault(subscriber, [])
        if address not in known:
            known.append(address)


@dataclass(frozen=True)
class Memory:
    """What the poller keeps about one device between cycles, so that most cycles walk the
    counters and the names that say whose they are, not every identity column (BER decoding
    is the poller's main cost: a first walk reads nine columns, a usual cycle four)."""

    uptime: int | None
    if_number: int | None
    last_change: int | None
    identity: dict[str, Column]
    counters: tuple[str, ...]
    watch: tuple[str, ...]
    """Identity columns walked every cycle: whatever names a session (ifName or ifDescr,
    the columns the patterns read, csubSessionTable) and the routes addresses are learned
    from. Agents rename an interface in place (accel-ppp's unit-cache) without touching
    ifTableLastChange, so these cannot be cached: Net-SNMP 5.9 moves it when a row is added,
    but not when an interface is renamed (checked with `ip link set NAME name NEW` in a
    namespace, issue 23), and a name read from a cache would charge the wrong subscriber."""
    indexes: frozenset[Index]
    walked_at: float

    def trusted(self, scalars: dict[str, Any], now: float, refresh: float) -> bool:
        """Whether this memory describes the rows the agent has still: it did not restart
        and the memory is younger than `refresh`."""
        uptime = scalars.get(SYS_UPTIME)
        return (
            isinstance(uptime, int)
            and self.uptime is not None
            and uptime >= self.uptime
            and now - self.walked_at < refresh
        )

    def still_valid(self, scalars: dict[str, Any], now: float, refresh: float) -> bool:
        """Whether the rest of the identity (descriptions, speeds, routes) can be reused as it
        is: trusted, and ifNumber and ifTableLastChange did not move."""
        return (
            self.trusted(scalars, now, refresh)
            and scalars.get(IF_NUMBER) == self.if_number
            and scalars.get(IF_TABLE_LAST_CHANGE) == self.last_change
        )

    def changed_rows(self, fresh: dict[str, Column]) -> set[Index]:
        """Rows of a cycle's walk that are new, or renamed in a watched column."""
        rows = indexes_of(fresh, self.counters)
        changed = set(rows - self.indexes)
        for column in self.watch:
            old, new = self.identity.get(column, {}), fresh.get(column, {})
            changed |= {index for index, value in new.items() if old.get(index) != value}
        return changed & rows

    def same_sessions(self, fresh: dict[str, Column]) -> bool:
        """Whether a cycle's walk shows the same rows under the same names as the memory."""
        return indexes_of(fresh, self.counters) == self.indexes and all(
            fresh.get(column, {}) == self.identity.get(column, {}) for column in self.watch
        )


@dataclass(frozen=True)
class Partial:
    """What a device's first walk read before it failed (the deadline, an agent gone
    silent), kept so that the next try goes on from there instead of starting over.

    Only the identity columns that do not say whose a row is (descriptions, speeds, an
    ifAlias no rule reads): the counters must all be read in the cycle that charges them,
    and the names are read again whole, as every cycle with a Memory does, because agents
    rename a row in place (accel-ppp) and a stale name would charge the wrong subscriber.
    Trusted on the terms a Memory's identity is (`Memory.still_valid`)."""

    uptime: int | None
    if_number: int | None
    last_change: int | None
    rows: dict[str, Column]
    finished: frozenset[str]
    """The kept columns read to their end: not walked again."""
    read_at: float
    """When its oldest rows were read: it is dropped once older than the identity refresh."""

    def usable(self, scalars: dict[str, Any], now: float, refresh: float) -> bool:
        """Whether the agent still has the rows this describes: it did not restart, neither
        ifNumber nor ifTableLastChange moved, and the rows are younger than `refresh`."""
        uptime = scalars.get(SYS_UPTIME)
        return (
            isinstance(uptime, int)
            and self.uptime is not None
            and uptime >= self.uptime
            and scalars.get(IF_NUMBER) == self.if_number
            and scalars.get(IF_TABLE_LAST_CHANGE) == self.last_change
            and now - self.read_at < refresh
        )

    def resume_at(self, column: str) -> Index | None:
        """The OID after which to go on walking `column`: its last row read, if any."""
        rows = self.rows.get(column)
        return (*parse_oid(column), *max(rows)) if rows else None


def indexes_of(table: dict[str, Column], columns: tuple[str, ...]) -> frozenset[Index]:
    return frozenset(index for column in columns for index in table.get(column, {}))


def readings_from(
    server: str,
    table: dict[str, Column],
    mapping: InterfaceMap,
    now: float,
    uptime: int | None,
    pins: dict[int, str] | None = None,
    names: NameTable | None = CSUB_NAMES,
) -> Poll:
    """Pure: walked columns to readings. Rows are joined on ifIndex.

    A `names` table row at an ifIndex (csubSessionTable's, by default: its columns are in
    the table only where they were walked) names its subscriber and session before any
    pattern does; a host route to an interface gives its subscriber's address. `pins` are
    the names the map's ifindex entries were first mapped with (InterfaceMap.assign)."""
    result = Poll(uptime=uptime)
    interfaces = interfaces_of(table)
    sessions = _named_sessions(table, names, interfaces) if names is not None else {}
    routed = _routes(table)
    result.assignment = mapping.assign([i for i in interfaces if i.index not in sessions], pins)
    counters = _Counters.of(table)
    for interface in interfaces:
        user, session_id, address = sessions.get(interface.index, ("", "", ""))
        mapped = result.assignment.subscribers.get(interface.index)
        subscriber = user or (mapped[0] if mapped else None)
        if subscriber is None:
            result.unmapped.append(interface)
            continue
        key = SessionKey(
            server, interface.index, interface.name or interface.descr, subscriber, session_id
        )
        result.readings.append((key, counters.reading((interface.index,), now, uptime)))
        if address:
            result.add_address(subscriber, address)
        for routed_to in routed.get(interface.index, ()):
            result.add_address(subscriber, routed_to)
    return result


def interfaces_of(table: dict[str, Column]) -> list[Interface]:
    """The walked rows' identities, by ifIndex."""
    names, descrs = table.get(IF_NAME, {}), table.get(IF_DESCR, {})
    aliases = table.get(IF_ALIAS, {})
    indexes = sorted(set(descrs) | set(names))
    return [
        Interface(
            index=index[0],
            name=_text_of(names.get(index)),
            descr=_text_of(descrs.get(index)),
            alias=_text_of(aliases.get(index)),
        )
        for index in indexes
    ]


def _named_sessions(
    table: dict[str, Column], names: NameTable, interfaces: list[Interface]
) -> dict[int, tuple[str, str, str]]:
    """ifIndex -> (user name, session id, address) from a names table's rows, each only where
    its bit in the `available` column (if it has one) is set. A row is on the interface at
    its own index, or on the one its interface column names."""
    sessions: dict[int, tuple[str, str, str]] = {}
    rows = table.get(names.available or names.subscriber, {})
    where = _interface_finder(table, names, interfaces)
    for index, bits in rows.items():
        if_index = where(index)
        if if_index is None:
            continue
        if names.state is not None and _count(table, names.state, index) != names.state_active:
            continue
        user = _text(table, names.subscriber, index) if _holds(bits, names.subscriber_bit) else ""
        if not user:
            continue
        sid = ""
        if names.session_id is not None and _holds(bits, names.session_id_bit):
            sid = _session_id(table, names, index)
        address = _text(table, names.address, index) if names.address else ""
        sessions[if_index] = (user, sid, "" if address in names.address_ignore else address)
    return sessions


def _interface_finder(
    table: dict[str, Column], names: NameTable, interfaces: list[Interface]
) -> Callable[[Index], int | None]:
    """How a names table's row finds its interface's ifIndex (None: on no interface walked)."""
    column = names.interface
    if column is None:
        return lambda index: index[0] if len(index) == 1 else None
    values = table.get(column, {})
    if names.interface_match == "ifIndex":
        return lambda index: _number(values.get(index))
    spelt = {
        (i.name if names.interface_match == "ifName" else i.descr): i.index for i in interfaces
    }
    spelt.pop("", None)  # an interface with no such name is named by no row
    return lambda index: spelt.get(_text_of(values.get(index)))


def _holds(bits: Any, number: int | None) -> bool:
    return number is None or _bit(bits, number)


def _session_id(table: dict[str, Column], names: NameTable, index: Index) -> str:
    assert names.session_id is not None
    if names.session_id_format == "hex8":
        sid = _count(table, names.session_id, index)
        return f"{sid:08x}" if sid else ""
    return _text(table, names.session_id, index)


def _bit(bits: Any, number: int) -> bool:
    """SNMP BITS: bit 0 is the most significant bit of the first octet."""
    if isinstance(bits, str):
        bits = bits.encode("utf-8")
    if not isinstance(bits, bytes) or number // 8 >= len(bits):
        return False
    return bool(bits[number // 8] & (0x80 >> number % 8))


def _routes(table: dict[str, Column]) -> dict[int, list[str]]:
    """ifIndex -> host addresses routed to it (IPv4 /32, IPv6 /128 or a delegated prefix)."""
    routed: dict[int, list[str]] = {}
    for index, if_index in table.get(INET_CIDR_ROUTE_IF_INDEX, {}).items():
        address = _inet_route_destination(index)
        if address and isinstance(if_index, int):
            routed.setdefault(if_index, []).append(address)
    for index, if_index in table.get(IP_CIDR_ROUTE_IF_INDEX, {}).items():
        if len(index) == 13 and index[4:8] == (255, 255, 255, 255) and isinstance(if_index, int):
            routed.setdefault(if_index, []).append(str(ipaddress.IPv4Address(bytes(index[:4]))))
    return routed


def _inet_route_destination(index: Index) -> str | None:
    # destType 1 = ipv4, 2 = ipv6 (InetAddressType); the dest is length-prefixed.
    if len(index) < 3 or index[0] not in (1, 2) or index[1] not in (4, 16):
        return None
    size = index[1]
    octets, rest = index[2 : 2 + size], index[2 + size :]
    if len(octets) != size or not rest or any(not 0 <= o <= 255 for o in octets):
        return None
    length = rest[0]
    address = ipaddress.ip_address(bytes(octets))
    if length == address.max_prefixlen:
        return str(address)
    if address.version == 6 and 48 <= length < 128 and not address.is_link_local:
        return str(ipaddress.ip_network(f"{address}/{length}", strict=False))
    return None


IF_SPEED_SATURATED = 2**32 - 1
"""What ifSpeed reads on a link faster than it can count (RFC 2863): then ifHighSpeed says."""


def _speed(if_speed: int | None, high_speed: int | None) -> int | None:
    """The line rate in bit/s, or None when the agent does not know (radio and PPP ports say 0).

    ifSpeed is exact below its ceiling, while ifHighSpeed is rounded to whole Mbit/s: a 1.5
    Mbit/s port can read as 1 Mbit/s there, and the spike guard (counters.py) would then refuse
    honest traffic at full rate. So ifSpeed wins unless it is saturated or missing."""
    if if_speed and if_speed < IF_SPEED_SATURATED:
        return if_speed
    if high_speed:
        return high_speed * 10**6
    return if_speed or None


def reading_of(
    table: dict[str, Column], index: tuple[int, ...], now: float, uptime: int | None
) -> Reading:
    return _Counters.of(table).reading(index, now, uptime)


@dataclass(frozen=True, slots=True)
class _Counters:
    """The columns a reading is made of, each found once per poll rather than once per row
    and column (a usual cycle reads every row: this was a third of turning one into
    readings)."""

    hc_in: Column
    hc_out: Column
    in_32: Column
    out_32: Column
    speed: Column
    high_speed: Column
    oper_status: Column
    discontinuity: Column

    @classmethod
    def of(cls, table: dict[str, Column]) -> _Counters:
        columns = (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS, IF_IN_OCTETS, IF_OUT_OCTETS, IF_SPEED,
                   IF_HIGH_SPEED, IF_OPER_STATUS, IF_COUNTER_DISCONTINUITY)  # fmt: skip
        return cls(*(table.get(column, {}) for column in columns))

    def reading(self, index: Index, now: float, uptime: int | None) -> Reading:
        hc_in, hc_out = _number(self.hc_in.get(index)), _number(self.hc_out.get(index))
        if hc_in is not None and hc_out is not None:
            octets_in, octets_out, width = hc_in, hc_out, 64
        else:
            octets_in, octets_out = _number(self.in_32.get(index)), _number(self.out_32.get(index))
            width = 32
        speed = _speed(_number(self.speed.get(index)), _number(self.high_speed.get(index)))
        return Reading(
            time=now,
            octets_in=octets_in,
            octets_out=octets_out,
            width=width,
            uptime=uptime,
            speed_bps=speed,
            oper_status=_number(self.oper_status.get(index)),
            discontinuity=_number(self.discontinuity.get(index)),
        )


def _number(value: Any) -> int | None:
    # A missing, empty or non-numeric value is None: never a zero reading.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(table: dict[str, Column], column: str, index: tuple[int, ...]) -> int | None:
    return _number(table.get(column, {}).get(index))


def _text(table: dict[str, Column], column: str, index: tuple[int, ...]) -> str:
    return _text_of(table.get(column, {}).get(index))


def _text_of(value: Any) -> str:
    return display_string(value) if isinstance(value, str | bytes) else ""


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
ACCEL_SESSIONS = SessionTable(
    entry=ACCEL_SESSION_ENTRY, subscriber=ACCEL_USERNAME, octets_in=ACCEL_RX_BYTES,
    octets_out=ACCEL_TX_BYTES, index="string", session_id=ACCEL_SID, interface=ACCEL_IFNAME,
    address=ACCEL_IP, state=ACCEL_STATE, state_active=ACCEL_ACTIVE, uptime=ACCEL_UPTIME,
)  # fmt: skip
"""The built-in accel-ppp profile's table (data/profiles/accel-ppp.toml), spelled here for
the simulator and the tests that build its rows."""


def sessions_from_accel(
    server: str, table: dict[str, Column], now: float, uptime: int | None
) -> Poll:
    """Pure: accel-ppp session rows to readings (sessions_from with its table)."""
    return sessions_from(ACCEL_SESSIONS, server, table, now, uptime)


def sessions_from(
    sessions: SessionTable, server: str, table: dict[str, Column], now: float, uptime: int | None
) -> Poll:
    """Pure: a session table's rows to readings keyed by (interface, user, session id).

    octets_in is what the server received from the subscriber (upload), octets_out what it
    sent them (download), matching IF-MIB's in and out on the subscriber's interface. A row
    with no subscriber is unmapped; a session's uptime says when its counters were 0.
    """
    result = Poll(uptime=uptime)
    # Checked when the profile was read; re's own cache makes this a lookup.
    pattern = re.compile(sessions.subscriber_pattern) if sessions.subscriber_pattern else None
    for index in sorted(table.get(sessions.subscriber, {})):
        user = _text(table, sessions.subscriber, index)
        interface = _text(table, sessions.interface, index) if sessions.interface else ""
        if pattern is not None:
            matched = pattern.fullmatch(user)
            interface = interface or user
            user = matched.group("user") if matched else ""
        if not user:
            result.unmapped.append(Interface(0, interface))
            continue
        sid = _text(table, sessions.session_id, index) if sessions.session_id else ""
        key = SessionKey(server, 0, interface, user, sid or _index_text(sessions, index))
        state = _count(table, sessions.state, index) if sessions.state else None
        reading = Reading(
            time=now,
            octets_in=_count(table, sessions.octets_in, index),
            octets_out=_count(table, sessions.octets_out, index),
            width=sessions.counter_bits,
            oper_status=1 if state is not None and state == sessions.state_active else state,
        )
        result.readings.append((key, reading))
        address = _text(table, sessions.address, index) if sessions.address else ""
        if address and address not in sessions.address_ignore:
            result.add_address(user, address)
        session_uptime = _count(table, sessions.uptime, index) if sessions.uptime else None
        if session_uptime is not None:
            seconds = session_uptime
            if sessions.uptime_unit == "centiseconds":
                seconds = session_uptime / 100
            result.origins[key] = Reading(now - seconds, 0, 0, width=sessions.counter_bits)
    return result


def _index_text(sessions: SessionTable, index: Index) -> str:
    """A session id spelled by the row's index, where no column gives it."""
    if sessions.index == "integer":
        return ".".join(map(str, index))
    chars = index[1:] if sessions.index == "string" else index
    return "".join(map(chr, chars))
