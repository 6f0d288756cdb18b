"""One poll of one access server: IF-MIB over SNMP in, readings keyed by session out.

The SNMP side only: which columns to walk, when a device's remembered identity can be trusted,
and reading just one subscriber's rows (a targeted look); a first walk cut short hands what
it read to the next try (PollCut, tables.Partial). What the rows mean is tables.py; what the
readings cost whom is attribution.py.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

from nmsquota.attribution import InterfaceMap, SessionKey
from nmsquota.snmp.profile import Profile
from nmsquota.snmp.profiles import profile_of
from nmsquota.snmp.tables import (
    COLUMNS,
    COUNTER_COLUMNS_32,
    HC_COLUMNS,
    IDENTITY_COLUMNS,
    IF_ALIAS,
    IF_DESCR,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_HIGH_SPEED,
    IF_IN_OCTETS,
    IF_NAME,
    IF_NUMBER,
    IF_OPER_STATUS,
    IF_OUT_OCTETS,
    IF_SPEED,
    IF_TABLE_LAST_CHANGE,
    ROUTE_COLUMNS,
    STATE_COLUMNS,
    SYS_UPTIME,
    V1_COLUMNS,
    Memory,
    Partial,
    Poll,
    indexes_of,
    reading_of,
    readings_from,
    sessions_from,
)
from nmsquota.snmp.transport import Transport
from nmsquota.snmp.walk import Column, Index, SnmpError, WalkCut, get
from nmsquota.snmp.walk import walk as walk_columns

# Objects per GET when reading the identity of new rows: well under any agent's PDU size.
GET_BATCH = 40

COUNTERS = {
    IF_IN_OCTETS: "ifInOctets",
    IF_OUT_OCTETS: "ifOutOctets",
    IF_HC_IN_OCTETS: "ifHCInOctets",
    IF_HC_OUT_OCTETS: "ifHCOutOctets",
}
"""The columns that must hold counters, by name: the walk warns of any that do not (a
session table's are named in its profile)."""


class PollCut(SnmpError):
    """A poll whose first walk failed part-way: `partial` is what the next poll of this
    device may go on from (pass it back as poll's `partial`). Its cause and rows read are
    those of the walk `cut`: by default the WalkCut being handled where it is raised."""

    def __init__(self, message: str, partial: Partial | None, cut: WalkCut | None = None) -> None:
        if cut is None:
            handled = sys.exception()
            cut = handled if isinstance(handled, WalkCut) else None
        super().__init__(message, cut.cause if cut is not None else "error")
        self.partial = partial
        self._rows_read = cut.rows_read if cut is not None else 0

    @property
    def rows_read(self) -> int:
        return self._rows_read


async def walk(
    session: Transport,
    columns: Sequence[str],
    start: dict[str, Index] | None = None,
    counters: dict[str, str] | None = None,
) -> dict[str, Column]:
    return await walk_columns(session, columns, counters=counters or COUNTERS, start=start)


async def poll(
    session: Transport,
    mapping: InterfaceMap,
    now: float,
    source: str | Profile = "if-mib",
    *,
    memory: Memory | None = None,
    refresh: float = 3600.0,
    routes: str = "off",
    pins: dict[int, str] | None = None,
    partial: Partial | None = None,
) -> Poll:
    """Read every subscriber's counters once: from the interface table (IF-MIB, its rows
    named by the profile's names table if it has one), or from a sessions profile's table,
    whose rows name the user themselves (accel-ppp's). `source` is a profile or the name of
    a built-in one.

    With the `memory` of the last poll, a cycle walks the counters and the watched names.
    Where that walk shows new or renamed rows (or ifNumber, ifTableLastChange moved), the
    other identity columns are read for just those rows, by GET, in the same cycle; they
    are walked whole on the first poll, after the agent restarts, every `refresh`, and
    when more than half the rows changed. `pins` are the names the mapping's ifindex
    entries were first mapped with (the last poll's assignment.pins).

    Without a memory, the whole walk goes on from `partial` (what an earlier one cut short
    read) where that still holds; if it is cut short too, PollCut carries what it read.
    """
    profile = profile_of(source)
    if profile.sessions is not None:
        sessions = profile.sessions
        uptime = (await get(session, [SYS_UPTIME]))[SYS_UPTIME]
        read = await walk(session, sessions.columns, counters=sessions.counter_names)
        return sessions_from(sessions, session.agent.name, read, now, uptime)
    scalars = await get(session, [SYS_UPTIME, IF_NUMBER, IF_TABLE_LAST_CHANGE])
    uptime = scalars[SYS_UPTIME]
    extra = (*profile.name_columns, *_route_columns(routes))
    rows_read: int | None = None
    identity = _identity_columns(mapping)
    if memory is not None and IF_ALIAS in identity and IF_ALIAS not in memory.identity:
        memory = None  # a reload brought an alias: entry: the memory never read ifAlias
    if memory is not None and memory.trusted(scalars, now, refresh):
        fresh = await walk(session, (*memory.counters, *memory.watch))
        if memory.still_valid(scalars, now, refresh) and memory.same_sessions(fresh):
            table = {**memory.identity, **fresh}
            result = readings_from(
                session.agent.name, table, mapping, now, uptime, pins, profile.names
            )
            result.memory, result.identity_walked = replace(memory, uptime=uptime), False
            return result
        rest = [c for c in (*identity, *extra) if c not in memory.watch]
        changed = memory.changed_rows(fresh)
        rows = indexes_of(fresh, memory.counters)
        if len(changed) <= len(rows) // 2:
            # Sessions came and went (on a busy BRAS, every cycle): read the identity of
            # just the new or renamed rows, so a cycle costs what changed, not the table.
            table = {**_identity_of(memory, rest, rows), **fresh}
            table.update(await _rows_of(session, [c for c in rest if c in IDENTITY_COLUMNS],
                                        sorted(changed), table))  # fmt: skip
            others = [c for c in rest if c not in IDENTITY_COLUMNS]
            table.update(await walk(session, others) if others else {})
            rows_read = len(changed)
        else:
            table = {**fresh, **await walk(session, [c for c in rest if c != IF_SPEED])}
            if IF_SPEED in rest:
                table.update(await _speeds(session, table))
        walked = memory.counters
    else:
        walked = COLUMNS if session.agent.version != "1" else V1_COLUMNS
        walked = tuple(c for c in walked if c not in IDENTITY_COLUMNS or c in identity)
        kept = partial if partial and partial.usable(scalars, now, refresh) else None
        # 32-bit counters only where a row has no 64-bit ones, and ifSpeed only where
        # ifHighSpeed cannot tell the rate, asked for after the rest: on most agents that is
        # no row (or few), and with ifAlias unread the first walk reads four columns of
        # eleven fewer (pyasn1 decoding them was ~80% of the poll's CPU).
        later = {*COUNTER_COLUMNS_32} if IF_HC_IN_OCTETS in walked else set()
        later |= {IF_SPEED} if IF_HIGH_SPEED in walked else set()
        first = [c for c in walked if c not in later]
        table = await _walk_on(session, (*first, *extra), kept, scalars, now, mapping, profile)
        if later:
            try:
                if IF_SPEED in later:
                    table.update(await _speeds(session, table))
                if later & {*COUNTER_COLUMNS_32}:
                    table.update(await _counters_32(session, table))
            except SnmpError as error:
                # Every other column was read to its end: the walk counts as cut after rows.
                cut = WalkCut(str(error), table, frozenset(table), error.cause)
                partial = _partial_after(kept, cut, scalars, now, mapping, profile)
                raise PollCut(str(error), partial, cut) from None
    result = readings_from(session.agent.name, table, mapping, now, uptime, pins, profile.names)
    counter_columns = _counter_columns(table, walked)
    result.memory = Memory(
        uptime=uptime,
        if_number=scalars[IF_NUMBER],
        last_change=scalars[IF_TABLE_LAST_CHANGE],
        # Counters are never identity, even those not walked again (32-bit ones where every
        # row has 64-bit ones): a 64-bit value missing in a later cycle must read as missing,
        # not as the 32-bit count of the first walk.
        identity={c: v for c, v in table.items() if c not in (*counter_columns, *COUNTERS)},
        counters=counter_columns,
        watch=_watch_columns(table, mapping, profile),
        indexes=indexes_of(table, counter_columns),
        walked_at=now if rows_read is None else memory.walked_at,  # type: ignore[union-attr]
    )
    result.identity_walked = rows_read is None or rows_read > 0
    result.identity_rows = rows_read
    return result


async def _walk_on(
    session: Transport,
    columns: Sequence[str],
    kept: Partial | None,
    scalars: dict[str, object],
    now: float,
    mapping: InterfaceMap,
    source: str | Profile,
) -> dict[str, Column]:
    """Walk every column, skipping the kept columns read to their end and going on from
    the last kept row in the others."""
    finished = kept.finished if kept else frozenset()
    todo = [c for c in columns if c not in finished]
    start = {c: at for c in todo if kept and (at := kept.resume_at(c)) is not None}
    try:
        fresh = await walk(session, todo, start)
    except WalkCut as cut:
        partial = _partial_after(kept, cut, scalars, now, mapping, source)
        raise PollCut(str(cut), partial) from None
    old = kept.rows if kept else {}
    return {c: {**old.get(c, {}), **fresh.get(c, {})} for c in columns}


def _partial_after(
    kept: Partial | None,
    cut: WalkCut,
    scalars: dict[str, object],
    now: float,
    mapping: InterfaceMap,
    source: str | Profile,
) -> Partial | None:
    """What a cut walk leaves for the next try: the kept rows and the new ones, of the
    identity columns that do not name a session (see tables.Partial)."""
    old = kept.rows if kept else {}
    read = {c: {**old.get(c, {}), **cut.rows.get(c, {})} for c in {*old, *cut.rows}}
    if not any(cut.rows.values()) and not cut.finished:
        return kept  # it read nothing (the agent was silent): what was kept still holds
    # ifDescr names a row where the agent has no ifName: it is kept only once ifName rows
    # were seen (in this walk, or in the one whose kept rows have it).
    has_if_name = bool(cut.rows.get(IF_NAME)) or (kept is not None and IF_DESCR in kept.rows)
    names = _watch_columns({IF_NAME: {(0,): ""}} if has_if_name else {}, mapping, source)
    keep = [c for c in IDENTITY_COLUMNS if c not in names and c in read]
    done = (kept.finished if kept else frozenset()) | cut.finished
    return Partial(
        uptime=_number(scalars, SYS_UPTIME),
        if_number=_number(scalars, IF_NUMBER),
        last_change=_number(scalars, IF_TABLE_LAST_CHANGE),
        rows={c: read[c] for c in keep},
        finished=frozenset(c for c in keep if c in done),
        read_at=kept.read_at if kept else now,
    )


async def _counters_32(session: Transport, table: dict[str, Column]) -> dict[str, Column]:
    """The 32-bit counters of the rows (of ifTable) that lack a 64-bit one."""
    with_64 = set(table.get(IF_HC_IN_OCTETS, {})) & set(table.get(IF_HC_OUT_OCTETS, {}))
    return await _where_lacking(session, table, COUNTER_COLUMNS_32, with_64)


HIGH_SPEED_ONLY = 4296
"""ifHighSpeed (Mbit/s) from which ifSpeed (bit/s) can only read saturated, 2^32-1: below
it, ifSpeed is the exact rate (ifHighSpeed is rounded to whole Mbit/s; tables._speed)."""


async def _speeds(session: Transport, table: dict[str, Column]) -> dict[str, Column]:
    """ifSpeed of the rows whose ifHighSpeed does not make it needless."""
    fast = {
        index
        for index, value in table.get(IF_HIGH_SPEED, {}).items()
        if isinstance(value, int) and value >= HIGH_SPEED_ONLY
    }
    return await _where_lacking(session, table, (IF_SPEED,), fast)


async def _where_lacking(
    session: Transport, table: dict[str, Column], columns: Sequence[str], having: set[Index]
) -> dict[str, Column]:
    """`columns` at the rows (of ifTable) not `having` what makes them needless: by GET
    when they are few, walked whole when they are most (an agent with no ifXTable)."""
    rows = indexes_of(table, (IF_DESCR, IF_OPER_STATUS))
    lacking = rows - having
    if not lacking and having:
        return {}
    if having and len(lacking) <= len(rows) // 2:
        return await _rows_of(session, columns, sorted(lacking), {})
    return await walk(session, columns)


def _number(scalars: dict[str, object], oid: str) -> int | None:
    value = scalars.get(oid)
    return value if isinstance(value, int) else None


def _identity_of(memory: Memory, columns: Sequence[str], rows: frozenset[Index]
                 ) -> dict[str, Column]:  # fmt: skip
    """The memory's identity columns, for the rows the agent still has."""
    return {c: {i: v for i, v in memory.identity.get(c, {}).items() if i in rows} for c in columns}


async def _rows_of(session: Transport, columns: Sequence[str], rows: Sequence[Index],
                   table: dict[str, Column]) -> dict[str, Column]:  # fmt: skip
    """These columns at these rows, by GET (a PDU a time that no agent finds too big)."""
    wanted = [(column, index) for index in rows for column in columns]
    found: dict[str, Column] = {column: dict(table.get(column, {})) for column in columns}
    for start in range(0, len(wanted), GET_BATCH):
        chunk = wanted[start : start + GET_BATCH]
        oids = [f"{column}.{'.'.join(map(str, index))}" for column, index in chunk]
        values = await get(session, oids)
        for (column, index), oid in zip(chunk, oids, strict=True):
            if values[oid] is not None:
                found[column][index] = values[oid]
    return found


FIELD_COLUMNS = {"ifName": IF_NAME, "ifDescr": IF_DESCR, "ifAlias": IF_ALIAS}


def _identity_columns(mapping: InterfaceMap) -> tuple[str, ...]:
    """The identity columns this mapping needs: ifAlias only for alias: entries or rules on
    it (nothing else reads it; probe walks its own), a column of nine fewer on each walk."""
    reads_alias = any(rule.field == "ifAlias" for rule in mapping.rules) or any(
        entry.kind == "alias" for entry in mapping.entries()
    )
    return tuple(c for c in IDENTITY_COLUMNS if c != IF_ALIAS or reads_alias)


def _watch_columns(table: dict[str, Column], mapping: InterfaceMap, source: str | Profile
                   ) -> tuple[str, ...]:  # fmt: skip
    watched = [IF_NAME if table.get(IF_NAME) else IF_DESCR]
    watched += [FIELD_COLUMNS[rule.field] for rule in mapping.rules]
    # An operator edits an ifAlias in place: alias: entries read it every cycle.
    if any(entry.kind == "alias" for entry in mapping.entries()):
        watched.append(IF_ALIAS)
    # A names table renames an interface in place when its next session starts; one that
    # names its interfaces is joined on the column it names them by.
    profile = profile_of(source)
    watched += profile.name_columns
    names = profile.names
    if names is not None and names.interface is not None and names.interface_match != "ifIndex":
        watched.append(FIELD_COLUMNS[names.interface_match])
    # Routes too: a session's host route lands a moment after its interface, and an agent
    # caches its route table apart from its interface table, so it shows up a cycle later.
    watched += [column for column in ROUTE_COLUMNS.values() if column in table]
    return tuple(dict.fromkeys(watched))


async def poll_keys(
    session: Transport, keys: Sequence[SessionKey], now: float, memory: Memory | None
) -> Poll:
    """Read only these sessions' counters, with GETs (a projected crossing's targeted look).

    The counter columns are the ones the last full poll chose for this device; speeds come
    from its memory. Sessions profiles' tables (accel-ppp's) are not read this way.
    """
    columns = memory.counters if memory else (*HC_COLUMNS, IF_OPER_STATUS)
    indexes = sorted({key.index for key in keys if key.index > 0})
    oids = [SYS_UPTIME, *(f"{column}.{index}" for index in indexes for column in columns)]
    values = await get(session, oids)
    uptime = values[SYS_UPTIME]
    table: dict[str, Column] = {c: dict(v) for c, v in (memory.identity if memory else {}).items()}
    for column in columns:
        table[column] = {(index,): values[f"{column}.{index}"] for index in indexes}
    result = Poll(uptime=uptime, identity_walked=False, memory=memory)
    for key in keys:
        if key.index > 0:
            result.readings.append((key, reading_of(table, (key.index,), now, uptime)))
    return result


def _route_columns(routes: str) -> tuple[str, ...]:
    return (ROUTE_COLUMNS[routes],) if routes in ROUTE_COLUMNS else ()


def _counter_columns(table: dict[str, Column], walked: tuple[str, ...]) -> tuple[str, ...]:
    """The columns worth walking every cycle on this device: 64-bit counters where it has
    them (32-bit ones too if some row lacks them), and the state columns it answers."""
    hc_rows = set(table.get(IF_HC_IN_OCTETS, {})) & set(table.get(IF_HC_OUT_OCTETS, {}))
    rows_32 = set(table.get(IF_IN_OCTETS, {})) | set(table.get(IF_OUT_OCTETS, {}))
    if IF_HC_IN_OCTETS not in walked:
        hc_rows = set()
    wanted: list[str] = []
    if hc_rows:
        wanted += HC_COLUMNS
    if not hc_rows or rows_32 - hc_rows:
        wanted += COUNTER_COLUMNS_32
    wanted += [c for c in STATE_COLUMNS if table.get(c)] or [IF_OPER_STATUS]
    return tuple(c for c in walked if c in wanted)
