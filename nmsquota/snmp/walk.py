"""Walking table columns over any SNMP library's requests, bounded in time.

One GETBULK carries every column still being walked; a column ends at the first varbind
outside it (or endOfMibView), as RFC 3416 says a manager must. v1 has no GETBULK and is
walked with GETNEXT. The whole walk is bounded by a deadline, because a library retries a
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

Over 300 lines, on purpose: every agent quirk above changes how the next request is made
(its size, GETBULK or GETNEXT, where a column resumes), so the walk loop and the quirk
handling are read together. The requests themselves are a library's (transport.py's
Requests: pysnmp_transport.py), so all of this holds whichever library sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from nmsquota.snmp.transport import (
    COUNTER32,
    COUNTER64,
    END_OF_MIB_VIEW,
    GAUGE32,
    INTEGER,
    NO_SUCH_NAME,
    TIME_TICKS,
    TOO_BIG,
    Answer,
    Closing,
    NoAnswer,
    RequestFailed,
    Requests,
    Transport,
    Varbind,
    status_name,
)

# Re-exported: what the poller and its tests have always imported from here.
from nmsquota.snmp.transport import Agent as Agent
from nmsquota.snmp.transport import Cause as Cause
from nmsquota.snmp.transport import Column as Column
from nmsquota.snmp.transport import Index as Index
from nmsquota.snmp.transport import LocalTable as LocalTable
from nmsquota.snmp.transport import SnmpError as SnmpError
from nmsquota.snmp.transport import WalkCut as WalkCut
from nmsquota.snmp.transport import parse_oid as parse_oid

# The integer types a counter column may arrive as instead, by tag, with the name the
# warning gives them (Integer32 arrives as Integer: they share a tag; Unsigned32 as Gauge32).
NOT_COUNTERS = {INTEGER: "Integer", GAUGE32: "Gauge32", TIME_TICKS: "TimeTicks"}
COUNTER_TAGS = (COUNTER32, COUNTER64)
EMPTY = "Empty SNMP response message"


class _EndOfView(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class _Refused(Exception):
    """A GETBULK the agent refused or left unanswered, and whether fewer rows may pass.
    `cause` is "timeout" for one left unanswered (which may be the poller's own load, not
    the agent's limit), "error" for one the agent refused."""

    def __init__(self, why: str, fewer_may_pass: bool, cause: Cause = "error") -> None:
        self.why = why
        self.fewer_may_pass = fewer_may_pass
        self.cause = cause


class Walker(Closing):
    """A Transport over one library's Requests to one agent, for one poll: the walk logic,
    written once for every library."""

    def __init__(self, agent: Agent, requests: Requests) -> None:
        self.agent = agent
        self.requests = requests
        self.answered = False
        """The agent has answered something in this session: silence now is not a dead
        agent but a request it will not answer (a GETBULK too large for it)."""
        self.fewer: int | None = None
        """The most GETBULK repetitions asked for in the rest of this session (one poll),
        after a larger GETBULK went unanswered in it (quirks.py: not remembered beyond it
        at once)."""

    @property
    def where(self) -> str:
        """How errors name this agent: "bras1 (192.0.2.1:161)"."""
        return self.agent.where

    async def aclose(self) -> None:
        await self.requests.aclose()

    async def walk(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        *,
        counters: Mapping[str, str] | None = None,
        start: Mapping[str, Index] | None = None,
    ) -> dict[str, Column]:
        """Every row of each column (numeric OIDs), keyed by the index after the column's OID.

        `max_repetitions` asks for fewer rows than the agent's setting allows (never more;
        and no more than the agent was found to answer); `counters` names the columns whose
        values must be counters (column -> its name in warnings); `start` walks a column
        from after this OID (a column's own OID plus an index), not from its first row. A
        walk that fails raises WalkCut with the rows it read."""
        begin = {c: start_of(c, (start or {}).get(c)) for c in columns}
        most = min(max_repetitions or self.agent.max_repetitions, self.agent.max_repetitions)
        rows: dict[str, Column] = {column: {} for column in columns}
        finished: set[str] = set()
        try:
            await asyncio.wait_for(
                self._walk(columns, most, counters or {}, begin, rows, finished),
                timeout=self.agent.deadline,
            )
        except TimeoutError:
            # The rows read so far are whole: each is stored with its value in one step, and
            # the walk is cancelled only while it awaits an answer.
            raise WalkCut(
                f"{self.where}: walk not finished within {self.agent.deadline:g}s",
                rows,
                frozenset(finished),
                "deadline",
            ) from None
        except WalkCut:
            raise
        except SnmpError as error:
            raise WalkCut(str(error), rows, frozenset(finished), error.cause) from None
        return rows

    async def _walk(
        self,
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
                varbinds = await self._next_rows([position[c] for c in active], most)
            except _EndOfView as end:
                if not 1 <= end.index <= len(active):
                    break
                finished.add(active.pop(end.index - 1))
                continue
            if not varbinds:
                break
            done: set[str] = set()
            for i, (oid, tag, value) in enumerate(varbinds):
                column = active[i % len(active)]
                if column in done:
                    continue
                if tag == END_OF_MIB_VIEW:
                    done.add(column)  # its name is the OID asked for: not a step back
                    continue
                if oid <= position[column]:
                    # An agent that loops (Net-SNMP's snmpwalk refuses these too, unless -Cc):
                    # asking on from here would walk the same rows forever, or until the
                    # deadline.
                    raise SnmpError(
                        f"{self.where}: agent returned {_dotted(oid)} after "
                        f"{_dotted(position[column])}: OIDs not increasing, walk stopped"
                    )
                prefix = prefixes[column]
                if oid[: len(prefix)] != prefix:
                    done.add(column)
                    continue
                if column in counters:
                    self._check_counter(column, counters[column], tag)
                results[column][oid[len(prefix) :]] = value
                position[column] = oid
            finished |= done
            active = [c for c in active if c not in done]
        finished.update(active)  # an empty answer ended them all

    def _check_counter(self, column: str, name: str, tag: int) -> None:
        """Warn (once per device and column) of an integer that is not a counter where one
        belongs. Some agents serve octet counts as Gauge32 or Integer32: the value is still
        the count, so it is used. A gauge sticks at its top instead of wrapping, which the
        counter arithmetic would read as a wrap; the spike guard refuses what that would
        make up."""
        kind = NOT_COUNTERS.get(tag)
        if kind is not None:
            self.agent.learned.warn_once(
                f"type {column}",
                f"{self.where}: {name} ({column}) is sent as {kind}, not as a counter: its "
                "values are used as counts",
            )

    async def _next_rows(self, oids: Sequence[Index], most: int) -> Sequence[Varbind]:
        """The objects after `oids`: by GETBULK of up to `most` rows, or by GETNEXT where the
        version has no GETBULK, the configuration says not to, or the agent's GETBULK
        failed."""
        agent, learned = self.agent, self.agent.learned
        if agent.version == "1" or not agent.bulk or learned.getnext_only:
            return await self._getnext(oids)
        repetitions = min(most, learned.max_repetitions or most, self.fewer or most)
        unanswered: int | None = None  # the last size refused or left unanswered
        refused_outright = False  # tooBig, not silence
        while True:
            try:
                varbinds = await self._getbulk(oids, repetitions)
            except _Refused as refused:
                if refused.fewer_may_pass and repetitions > 1:
                    # tooBig, or a reply too large to arrive (lost in IP fragments, or an
                    # agent that chokes on it): RFC 3416 lets the manager ask again for fewer.
                    unanswered, repetitions = repetitions, repetitions // 2
                    refused_outright = refused_outright or refused.cause != "timeout"
                    continue
                failure = refused.why
            else:
                if varbinds:
                    self._learn_repetitions(repetitions, unanswered, refused_outright)
                    return varbinds
                # An empty answer to a GETBULK is no answer: it would end the walk as if every
                # column were done.
                failure = "an empty answer"
            return await self._getnext_instead(oids, failure)

    def _learn_repetitions(self, repetitions: int, unanswered: int | None, refused: bool) -> None:
        """Note that this agent answered `repetitions` rows after `unanswered` (None: at the
        first try) were refused (tooBig: `refused`) or not answered, only once it has: an
        agent that died mid-walk teaches nothing. The rest of this poll asks for no more;
        the agent is asked for no more from now on once quirks.Learned says so (at once
        after a tooBig, after a silence only when it came back in another poll)."""
        learned = self.agent.learned
        if unanswered is None:
            learned.answered_at(repetitions)
            return
        again, self.fewer = self.fewer is not None, repetitions
        if learned.answered_fewer(repetitions, unanswered, refused=refused, again=again):
            learned.warn_once(
                f"repetitions {repetitions}",
                f"{self.where}: a GETBULK of more than {repetitions} rows was refused or not "
                f"answered; asking for {repetitions} from now on (max_repetitions = "
                f"{repetitions} in its configuration starts there)",
            )

    async def _getnext_instead(self, oids: Sequence[Index], failure: str) -> Sequence[Varbind]:
        """GETNEXT where GETBULK failed: if it works, this agent's GETBULK is broken (or
        missing, as on v1-era agents that speak v2c) and is not tried again."""
        varbinds = await self._getnext(oids)
        learned = self.agent.learned
        learned.getnext_only = True
        learned.warn_once(
            "getnext",
            f"{self.where}: GETBULK failed ({failure}) where GETNEXT works: walking it with "
            "GETNEXT from now on (bulk = false in its configuration says so from the start)",
        )
        return varbinds

    async def _getbulk(self, oids: Sequence[Index], repetitions: int) -> Sequence[Varbind]:
        try:
            answer = await self.requests.getbulk(oids, repetitions)
        except NoAnswer as silence:
            if self.answered:
                raise _Refused(
                    f"no answer to {repetitions} rows", fewer_may_pass=True, cause="timeout"
                ) from None
            raise SnmpError(f"{self.where}: {silence}", "timeout") from None
        except RequestFailed as failure:
            raise SnmpError(f"{self.where}: {failure}") from None
        if answer.status:
            too_big = answer.status == TOO_BIG
            raise _Refused(
                f"{status_name(answer.status)} for {repetitions} rows", fewer_may_pass=too_big
            )
        if not answer.varbinds:
            # No varbinds at all would end the walk as if every column were done.
            raise _Refused("an empty answer", fewer_may_pass=False)
        self.answered = True
        return answer.varbinds

    async def _getnext(self, oids: Sequence[Index]) -> Sequence[Varbind]:
        answer = await self._ask(self.requests.getnext(oids))
        if answer.status == NO_SUCH_NAME and self.agent.version == "1":
            # v1's way of saying that varbind ran off the end of the MIB; the whole PDU fails
            # with it, so the caller drops that column and asks again for the rest.
            raise _EndOfView(answer.index)
        if not answer.varbinds and not answer.status:
            raise SnmpError(f"{self.where}: {EMPTY}")
        self._check(answer)
        return answer.varbinds

    async def _ask(self, request: Any) -> Answer:
        """A request's answer; SnmpError for one that failed (no answer, bad credentials)."""
        try:
            answer: Answer = await request
        except NoAnswer as silence:
            # The library gave up on it after every retry: the agent is silent (or its
            # answers lost).
            raise SnmpError(f"{self.where}: {silence}", "timeout") from None
        except RequestFailed as failure:
            raise SnmpError(f"{self.where}: {failure}") from None
        return answer

    def _check(self, answer: Answer) -> None:
        """Raise for a request that the agent refused."""
        if answer.status:
            raise SnmpError(
                f"{self.where}: agent error {status_name(answer.status)} at varbind {answer.index}"
            )
        self.answered = True

    async def get(self, oids: Sequence[str]) -> dict[str, Any]:
        """Scalar values (e.g. sysUpTime.0); None where the agent has no such object."""

        async def request(wanted: Sequence[str]) -> dict[str, Any]:
            asked = [parse_oid(oid) for oid in wanted]
            answer = await self._ask(self.requests.get(asked))
            if answer.status == NO_SUCH_NAME and self.agent.version == "1":
                # v1 fails the whole PDU for one missing object: ask again without it.
                missing = answer.index - 1
                if 0 <= missing < len(wanted):
                    rest = [oid for i, oid in enumerate(wanted) if i != missing]
                    return {wanted[missing]: None, **(await request(rest) if rest else {})}
            self._check(answer)
            if [vb[0] for vb in answer.varbinds] != asked:
                # A GET is answered object for object: a value under another name (or a
                # short answer) would be read as the object asked for.
                raise SnmpError(
                    f"{self.where}: answered a GET of {len(asked)} objects with "
                    f"{len(answer.varbinds)} that are not the ones asked for"
                )
            return {oid: vb[2] for oid, vb in zip(wanted, answer.varbinds, strict=True)}

        try:
            values = await asyncio.wait_for(request(oids), timeout=self.agent.deadline)
        except TimeoutError:
            raise SnmpError(
                f"{self.where}: no answer within {self.agent.deadline:g}s", "deadline"
            ) from None
        return {oid: values[oid] for oid in oids}


def start_of(column: str, after: Index | None) -> Index:
    """Where a column's walk starts: after `after` if that is in the column, else its top."""
    prefix = parse_oid(column)
    if after is not None and len(after) > len(prefix) and after[: len(prefix)] == prefix:
        return after
    return prefix


def _dotted(oid: Index) -> str:
    return ".".join(map(str, oid))


async def walk(
    transport: Transport,
    columns: Sequence[str],
    max_repetitions: int | None = None,
    *,
    counters: Mapping[str, str] | None = None,
    start: Mapping[str, Index] | None = None,
) -> dict[str, Column]:
    """`transport.walk(...)`, as a function (what callers have always called)."""
    return await transport.walk(columns, max_repetitions, counters=counters, start=start)


async def get(transport: Transport, oids: Sequence[str]) -> dict[str, Any]:
    """`transport.get(oids)`, as a function."""
    return await transport.get(oids)
