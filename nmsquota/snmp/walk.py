"""Walking table columns over SNMP with pysnmp 7's asyncio API, bounded in time.

One GETBULK carries every column still being walked; a column ends at the first varbind
outside it (or endOfMibView), as RFC 3416 says a manager must. v1 has no GETBULK and is
walked with GETNEXT. The whole walk is bounded by a deadline, because pysnmp retries a
silent agent on its own for as long as its timeout and retry budget allow, per request.

Real agents misbehave, each in its own way, and the walk copes per device (quirks.py keeps
what it learned): a GETBULK refused or unanswered is asked again with half the repetitions,
then as GETNEXT; an OID that does not increase stops the walk with an error instead of
looping; an exception value in a row is a missing value; a gauge in a counter column is
used, with a warning.

A walk that fails part-way (the deadline, an agent that falls silent) is not all lost: the
error (WalkCut) carries the rows it did read and the columns it read to their end, and a
walk can start each column after a given OID, so the next cycle goes on where this one
stopped for the columns worth keeping (poller.py decides which).

Over 400 lines, on purpose: every agent quirk above changes how the next request is made
(its size, GETBULK or GETNEXT, where a column resumes), so the walk loop, the requests and
the quirk handling are read together; issue 23's transport seam is where this splits.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_AUTH_NONE,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES,
    USM_PRIV_CFB256_AES,
    USM_PRIV_NONE,
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905

from nmsquota.snmp.transport import Agent as Agent
from nmsquota.snmp.transport import Cause as Cause
from nmsquota.snmp.transport import Column as Column
from nmsquota.snmp.transport import Index as Index
from nmsquota.snmp.transport import LocalTable as LocalTable
from nmsquota.snmp.transport import SnmpError as SnmpError
from nmsquota.snmp.transport import WalkCut as WalkCut
from nmsquota.snmp.transport import parse_oid as parse_oid


class _EndOfView(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


@dataclass
class Session:
    """What one event loop needs to talk to one agent (the engine is shared by all)."""

    engine: SnmpEngine
    agent: Agent
    transport: UdpTransportTarget | None
    auth: CommunityData | UsmUserData | None
    answered: bool = False
    """The agent has answered something in this session: silence now is not a dead agent
    but a request it will not answer (a GETBULK too large for it)."""
    fewer: int | None = None
    """The most GETBULK repetitions asked for in the rest of this session (one poll), after
    a larger GETBULK went unanswered in it (quirks.py: not remembered beyond it at once)."""

    @property
    def where(self) -> str:
        """How errors name this agent: "bras1 (192.0.2.1:161)"."""
        return f"{self.agent.name} ({self.agent.host}:{self.agent.port})"

    @classmethod
    async def open(cls, engine: SnmpEngine, agent: Agent) -> Session:
        if agent.local is not None:
            return cls(engine, agent, None, None)
        try:
            transport = await UdpTransportTarget.create(
                (agent.host, agent.port), timeout=agent.timeout, retries=agent.retries
            )
        except PySnmpError as error:
            # The resolver's failure (a name that does not resolve, DNS down): this device
            # fails this cycle like one that does not answer, the others are still polled.
            raise SnmpError(
                f"{agent.name}: cannot resolve host {agent.host!r}: {_resolver_reason(error)}"
            ) from None
        if agent.version == "3":
            return cls(engine, agent, transport, _usm(agent))
        model = 0 if agent.version == "1" else 1
        return cls(engine, agent, transport, CommunityData(agent.community, mpModel=model))


def _resolver_reason(error: PySnmpError) -> str:
    # pysnmp's text repeats the address and the exception class; the cause says it plainly.
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(error)


AUTH_PROTOCOLS = {
    "none": USM_AUTH_NONE,
    "md5": USM_AUTH_HMAC96_MD5,
    "sha": USM_AUTH_HMAC96_SHA,
    "sha224": USM_AUTH_HMAC128_SHA224,
    "sha256": USM_AUTH_HMAC192_SHA256,
    "sha384": USM_AUTH_HMAC256_SHA384,
    "sha512": USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "none": USM_PRIV_NONE,
    "des": USM_PRIV_CBC56_DES,  # old gear only
    "aes": USM_PRIV_CFB128_AES,
    "aes192": USM_PRIV_CFB192_AES,
    "aes256": USM_PRIV_CFB256_AES,
}


def _usm(agent: Agent) -> UsmUserData:
    return UsmUserData(
        agent.user,
        authKey=agent.auth_key,
        privKey=agent.priv_key,
        authProtocol=AUTH_PROTOCOLS[agent.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[agent.priv_protocol],
    )


def _value(value: Any) -> Any:
    """A varbind value as plain Python: int, str, bytes, or None for the "no such" exceptions."""
    if value is None:
        return None
    if isinstance(value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return str(ipaddress.IPv4Address(bytes(value)))
    if isinstance(value, rfc1902.OctetString):
        # Bytes that are not UTF-8 (BITS, MAC addresses) stay bytes, for the caller to read.
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value)
    if isinstance(value, rfc1902.ObjectIdentifier):
        return str(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


async def walk(
    session: Session,
    columns: Sequence[str],
    max_repetitions: int | None = None,
    *,
    counters: Mapping[str, str] | None = None,
    start: Mapping[str, Index] | None = None,
) -> dict[str, Column]:
    """Every row of each column (numeric OIDs), keyed by the index after the column's OID.

    `max_repetitions` asks for fewer rows than the agent's setting allows (never more; and
    no more than the agent was found to answer); `counters` names the columns whose values
    must be counters (column -> its name in warnings); `start` walks a column from after
    this OID (a column's own OID plus an index), not from its first row. A walk that fails
    raises WalkCut with the rows it read."""
    begin = {c: _start_of(c, (start or {}).get(c)) for c in columns}
    if session.agent.local is not None:
        return _walk_local(session.agent.local, columns, begin)
    most = min(max_repetitions or session.agent.max_repetitions, session.agent.max_repetitions)
    rows: dict[str, Column] = {column: {} for column in columns}
    finished: set[str] = set()
    try:
        await asyncio.wait_for(
            _walk(session, columns, most, counters or {}, begin, rows, finished),
            timeout=session.agent.deadline,
        )
    except TimeoutError:
        # The rows read so far are whole: each is stored with its value in one step, and
        # the walk is cancelled only while it awaits an answer.
        raise WalkCut(
            f"{session.where}: walk not finished within {session.agent.deadline:g}s",
            rows,
            frozenset(finished),
            "deadline",
        ) from None
    except WalkCut:
        raise
    except SnmpError as error:
        raise WalkCut(str(error), rows, frozenset(finished), error.cause) from None
    return rows


def _start_of(column: str, after: Index | None) -> Index:
    """Where a column's walk starts: after `after` if that is in the column, else its top."""
    prefix = parse_oid(column)
    if after is not None and len(after) > len(prefix) and after[: len(prefix)] == prefix:
        return after
    return prefix


async def _walk(
    session: Session,
    columns: Sequence[str],
    most: int,
    counters: Mapping[str, str],
    begin: Mapping[str, Index],
    results: dict[str, Column],
    finished: set[str],
) -> None:
    """Fill `results` column by column as the rows arrive, and `finished` with the columns
    read to their end: what the caller keeps if the walk is cut short."""
    prefixes = {column: parse_oid(column) for column in columns}
    position = dict(begin)
    active = list(columns)
    while active:
        try:
            varbinds = await _next_rows(session, [position[c] for c in active], most)
        except _EndOfView as end:
            if not 1 <= end.index <= len(active):
                break
            finished.add(active.pop(end.index - 1))
            continue
        if not varbinds:
            break
        done: set[str] = set()
        for i, (name, value) in enumerate(varbinds):
            column = active[i % len(active)]
            if column in done:
                continue
            if isinstance(value, rfc1905.EndOfMibView):
                done.add(column)  # its name is the OID asked for: not a step back
                continue
            oid = tuple(name)
            if oid <= position[column]:
                # An agent that loops (Net-SNMP's snmpwalk refuses these too, unless -Cc):
                # asking on from here would walk the same rows forever, or until the deadline.
                raise SnmpError(
                    f"{session.where}: agent returned {_dotted(oid)} after "
                    f"{_dotted(position[column])}: OIDs not increasing, walk stopped"
                )
            prefix = prefixes[column]
            if oid[: len(prefix)] != prefix:
                done.add(column)
                continue
            if column in counters:
                _check_counter(session, column, counters[column], value)
            results[column][oid[len(prefix) :]] = _value(value)
            position[column] = oid
        finished |= done
        active = [c for c in active if c not in done]
    finished.update(active)  # an empty answer ended them all


def _dotted(oid: Index) -> str:
    return ".".join(map(str, oid))


COUNTER_TYPES = (rfc1902.Counter32, rfc1902.Counter64)


def _check_counter(session: Session, column: str, name: str, value: Any) -> None:
    """Warn (once per device and column) of an integer that is not a counter where one
    belongs. Some agents serve octet counts as Gauge32 or Integer32: the value is still the
    count, so it is used. A gauge sticks at its top instead of wrapping, which the counter
    arithmetic would read as a wrap; the spike guard refuses what that would make up."""
    if isinstance(value, univ.Integer) and not isinstance(value, COUNTER_TYPES):
        kind = type(value).__name__  # Integer32 arrives as Integer: they share a tag
        session.agent.learned.warn_once(
            f"type {column}",
            f"{session.where}: {name} ({column}) is sent as {kind}, not as a counter: its "
            "values are used as counts",
        )


def _walk_local(
    table: LocalTable, columns: Sequence[str], begin: Mapping[str, Index]
) -> dict[str, Column]:
    results: dict[str, Column] = {}
    for column in columns:
        prefix = parse_oid(column)
        rows: Column = results.setdefault(column, {})
        position: Index = begin[column]
        while (found := table.following(position)) is not None:
            oid, value = found
            if oid[: len(prefix)] != prefix:
                break
            rows[oid[len(prefix) :]] = _value(value)
            position = oid
    return results


class _Refused(Exception):
    """A GETBULK the agent refused or left unanswered, and whether fewer rows may pass.
    `cause` is "timeout" for one left unanswered (which may be the poller's own load, not
    the agent's limit), "error" for one the agent refused."""

    def __init__(self, why: str, fewer_may_pass: bool, cause: Cause = "error") -> None:
        self.why = why
        self.fewer_may_pass = fewer_may_pass
        self.cause = cause


async def _next_rows(
    session: Session, oids: Sequence[Index], most: int
) -> Sequence[tuple[Any, Any]]:
    """The objects after `oids`: by GETBULK of up to `most` rows, or by GETNEXT where the
    version has no GETBULK, the configuration says not to, or the agent's GETBULK failed."""
    agent, learned = session.agent, session.agent.learned
    if agent.version == "1" or not agent.bulk or learned.getnext_only:
        return await _getnext(session, oids)
    repetitions = min(most, learned.max_repetitions or most, session.fewer or most)
    unanswered: int | None = None  # the last size refused or left unanswered
    refused_outright = False  # tooBig, not silence
    while True:
        try:
            varbinds = await _getbulk(session, oids, repetitions)
        except _Refused as refused:
            if refused.fewer_may_pass and repetitions > 1:
                # tooBig, or a reply too large to arrive (lost in IP fragments, or an agent
                # that chokes on it): RFC 3416 lets the manager ask again for fewer.
                unanswered, repetitions = repetitions, repetitions // 2
                refused_outright = refused_outright or refused.cause != "timeout"
                continue
            failure = refused.why
        else:
            if varbinds:
                _learn_repetitions(session, repetitions, unanswered, refused_outright)
                return varbinds
            # An empty answer to a GETBULK is no answer: it would end the walk as if every
            # column were done.
            failure = "an empty answer"
        return await _getnext_instead(session, oids, failure)


def _learn_repetitions(
    session: Session, repetitions: int, unanswered: int | None, refused: bool
) -> None:
    """Note that this agent answered `repetitions` rows after `unanswered` (None: at the
    first try) were refused (tooBig: `refused`) or not answered, only once it has: an agent
    that died mid-walk teaches nothing. The rest of this poll asks for no more; the agent
    is asked for no more from now on once quirks.Learned says so (at once after a tooBig,
    after a silence only when it came back in another poll)."""
    learned = session.agent.learned
    if unanswered is None:
        learned.answered_at(repetitions)
        return
    again, session.fewer = session.fewer is not None, repetitions
    if learned.answered_fewer(repetitions, unanswered, refused=refused, again=again):
        learned.warn_once(
            f"repetitions {repetitions}",
            f"{session.where}: a GETBULK of more than {repetitions} rows was refused or not "
            f"answered; asking for {repetitions} from now on (max_repetitions = "
            f"{repetitions} in its configuration starts there)",
        )


async def _getnext_instead(
    session: Session, oids: Sequence[Index], failure: str
) -> Sequence[tuple[Any, Any]]:
    """GETNEXT where GETBULK failed: if it works, this agent's GETBULK is broken (or
    missing, as on v1-era agents that speak v2c) and is not tried again."""
    varbinds = await _getnext(session, oids)
    learned = session.agent.learned
    learned.getnext_only = True
    learned.warn_once(
        "getnext",
        f"{session.where}: GETBULK failed ({failure}) where GETNEXT works: walking it with "
        "GETNEXT from now on (bulk = false in its configuration says so from the start)",
    )
    return varbinds


async def _getbulk(
    session: Session, oids: Sequence[Index], repetitions: int
) -> Sequence[tuple[Any, Any]]:
    error, status, index, table = await _request(
        session, cmdgen.BulkCommandGenerator(), oids, 0, repetitions
    )
    if isinstance(error, errind.RequestTimedOut) and session.answered:
        raise _Refused(f"no answer to {repetitions} rows", fewer_may_pass=True, cause="timeout")
    if isinstance(error, errind.EmptyResponse):
        # No varbinds at all would end the walk as if every column were done.
        raise _Refused("an empty answer", fewer_may_pass=False)
    if not error and status:
        too_big = str(status) == "tooBig"
        raise _Refused(f"{status} for {repetitions} rows", fewer_may_pass=too_big)
    _check(session, error, status, index)
    return table


async def _getnext(session: Session, oids: Sequence[Index]) -> Sequence[tuple[Any, Any]]:
    error, status, index, table = await _request(session, cmdgen.NextCommandGenerator(), oids)
    if status and session.agent.version == "1" and str(status) == "noSuchName" and not error:
        # v1's way of saying that varbind ran off the end of the MIB; the whole PDU fails
        # with it, so the caller drops that column and asks again for the rest.
        raise _EndOfView(int(index))
    _check(session, error, status, index)
    return table


async def _request(
    session: Session, generator: Any, oids: Sequence[Index], *bulk: int
) -> tuple[Any, Any, Any, Sequence[tuple[Any, Any]]]:
    """One request through pysnmp's command generator itself, under the hlapi's bulk_cmd,
    next_cmd and get_cmd: those resolve every requested OID against the MIB tree first,
    even with lookupMib=False, which cost ~11% of a walk's CPU for labels nobody reads.
    The generator takes plain OIDs and answers with (ObjectName, value) pairs; `bulk` is
    GETBULK's non-repeaters and max-repetitions."""
    target, _ = LCD.configure(session.engine, session.auth, session.transport, b"")
    answer: asyncio.Future[tuple[Any, Any, Any, Sequence[tuple[Any, Any]]]]
    answer = asyncio.get_running_loop().create_future()

    def done(
        engine: Any, handle: Any, error: Any, status: Any, index: Any, table: Any, context: Any
    ) -> None:
        # Returning None tells the generator not to walk on by itself.
        if not answer.done():
            answer.set_result((error, status, index, [(vb[0], vb[1]) for vb in table]))

    generator.send_varbinds(
        session.engine, target, None, b"", *bulk, [(oid, None) for oid in oids], done, None
    )
    return await answer


def _check(session: Session, error: Any, status: Any, index: Any) -> None:
    """Raise for a request that failed (no answer, bad credentials) or that the agent refused."""
    if error:
        # pysnmp gave up on it after every retry: the agent is silent (or its answers lost).
        silent = isinstance(error, errind.RequestTimedOut)
        raise SnmpError(f"{session.where}: {error}", "timeout" if silent else "error")
    if status:
        raise SnmpError(f"{session.where}: agent error {status} at varbind {index}")
    session.answered = True


async def get(session: Session, oids: Sequence[str]) -> dict[str, Any]:
    """Scalar values (e.g. sysUpTime.0); None where the agent has no such object."""
    if session.agent.local is not None:
        local = session.agent.local
        return {oid: _value(local.lookup(parse_oid(oid))) for oid in oids}

    async def request(wanted: Sequence[str]) -> dict[str, Any]:
        error, status, index, table = await _request(
            session, cmdgen.GetCommandGenerator(), [parse_oid(oid) for oid in wanted]
        )
        if status and not error and str(status) == "noSuchName" and session.agent.version == "1":
            # v1 fails the whole PDU for one missing object: ask again without it.
            missing = int(index) - 1
            if 0 <= missing < len(wanted):
                rest = [oid for i, oid in enumerate(wanted) if i != missing]
                return {wanted[missing]: None, **(await request(rest) if rest else {})}
        _check(session, error, status, index)
        return {oid: _value(vb[1]) for oid, vb in zip(wanted, table, strict=True)}

    try:
        values = await asyncio.wait_for(request(oids), timeout=session.agent.deadline)
    except TimeoutError:
        raise SnmpError(
            f"{session.where}: no answer within {session.agent.deadline:g}s", "deadline"
        ) from None
    return {oid: values[oid] for oid in oids}
