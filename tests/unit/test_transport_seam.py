"""The transport seam (issue 23): the walk logic runs over any library's Requests.

A fake Requests, written here and knowing no SNMP library, answers from a table the way an
agent would, with the quirks the walk copes with: tooBig above a size, silence above a
size, a GETBULK refused, an OID that goes back, endOfMibView, v1's noSuchName. The walk
above it does what tests/integration/test_snmp_quirks.py shows it doing over pysnmp against
a real socket, which is what lets a second library's Requests reuse it whole.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Sequence
from typing import Any

import pytest
from fixtures.local_table import Table

from nmsquota.snmp.connect import Transports
from nmsquota.snmp.local import LocalTransport
from nmsquota.snmp.transport import (
    COUNTER64,
    END_OF_MIB_VIEW,
    GAUGE32,
    NO_SUCH_NAME,
    OCTET_STRING,
    TOO_BIG,
    Agent,
    Answer,
    Index,
    NoAnswer,
    RequestFailed,
    SnmpError,
    Varbind,
    WalkCut,
)
from nmsquota.snmp.walk import Walker

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
ROWS = 40  # more than one GETBULK of 25 repetitions carries


def oid(text: str) -> Index:
    return tuple(int(part) for part in text.split("."))


def table(rows: int = ROWS, counter_tag: int = COUNTER64) -> dict[Index, tuple[int, Any]]:
    """ifName and ifHCOutOctets for `rows` interfaces, and sysUpTime: OID -> (tag, value)."""
    objects: dict[Index, tuple[int, Any]] = {oid(SYS_UPTIME): (0x43, 500)}
    for n in range(1, rows + 1):
        objects[(*oid(IF_NAME), n)] = (OCTET_STRING, f"<pppoe-user{n}>")
        objects[(*oid(IF_HC_OUT), n)] = (counter_tag, 1000 * n)
    return objects


class FakeRequests:
    """An agent's answers, from a table, with the misbehaviour each test asks for."""

    def __init__(self, objects: dict[Index, tuple[int, Any]], *, v1: bool = False) -> None:
        self.objects = objects
        self.order = sorted(objects)
        self.v1 = v1
        self.too_big_above: int | None = None
        self.silent_above: int | None = None
        self.bulk_refused = False  # genErr to every GETBULK
        self.back_after: Index | None = None  # the object after this one is an earlier one
        self.dead_after: int | None = None  # requests answered before it falls silent
        self.bulks: list[int] = []
        self.getnexts = 0
        self.closed = False

    def _next(self, after: Index) -> Varbind:
        if after == self.back_after:
            earlier = self.order[0]
            return (earlier, *self.objects[earlier])
        position = bisect.bisect_right(self.order, after)
        if position >= len(self.order):
            return (after, END_OF_MIB_VIEW, None)
        found = self.order[position]
        return (found, *self.objects[found])

    def _alive(self) -> None:
        if self.dead_after is not None:
            if self.dead_after <= 0:
                raise NoAnswer("No SNMP response received before timeout")
            self.dead_after -= 1

    async def get(self, oids: Sequence[Index]) -> Answer:
        self._alive()
        found = [(o, *self.objects.get(o, (0x81, None))) for o in oids]
        return Answer(0, 0, found)

    async def getnext(self, oids: Sequence[Index]) -> Answer:
        self._alive()
        self.getnexts += 1
        varbinds = [self._next(o) for o in oids]
        for i, (_, tag, _) in enumerate(varbinds):
            if self.v1 and tag == END_OF_MIB_VIEW:
                return Answer(NO_SUCH_NAME, i + 1, ())
        return Answer(0, 0, varbinds)

    async def getbulk(self, oids: Sequence[Index], max_repetitions: int) -> Answer:
        self._alive()
        self.bulks.append(max_repetitions)
        if self.silent_above is not None and max_repetitions > self.silent_above:
            raise NoAnswer("No SNMP response received before timeout")
        if self.too_big_above is not None and max_repetitions > self.too_big_above:
            return Answer(TOO_BIG, 0, ())
        if self.bulk_refused:
            return Answer(5, 0, ())  # genErr
        varbinds: list[Varbind] = []
        position = list(oids)
        for _ in range(max_repetitions):
            row = [self._next(o) for o in position]
            varbinds.extend(row)
            position = [o for o, _, _ in row]
        return Answer(0, 0, varbinds)

    async def aclose(self) -> None:
        self.closed = True


def agent(**settings: Any) -> Agent:
    return Agent("fake", "192.0.2.1", **settings)


def run_walk(requests: FakeRequests, columns: Sequence[str] = (IF_NAME, IF_HC_OUT),
             **settings: Any) -> dict[str, dict[Index, Any]]:  # fmt: skip
    return asyncio.run(Walker(agent(**settings), requests).walk(columns))


def complete(result: dict[str, dict[Index, Any]], rows: int = ROWS) -> bool:
    return result == {
        IF_NAME: {(n,): f"<pppoe-user{n}>" for n in range(1, rows + 1)},
        IF_HC_OUT: {(n,): 1000 * n for n in range(1, rows + 1)},
    }


def test_a_walk_over_any_requests_reads_every_row_of_each_column() -> None:
    requests = FakeRequests(table())
    assert complete(run_walk(requests))
    assert requests.bulks == [25, 25]  # 40 rows: one GETBULK of 25, then the rest


def test_the_walk_ends_a_column_at_end_of_mib_view_and_keeps_its_rows() -> None:
    # The last column in the MIB: its walk runs into endOfMibView, not into another column.
    requests = FakeRequests({k: v for k, v in table(3).items() if k[:-1] == oid(IF_HC_OUT)})
    result = run_walk(requests, [IF_HC_OUT])
    assert result == {IF_HC_OUT: {(1,): 1000, (2,): 2000, (3,): 3000}}
    assert requests.getnexts == 0


def test_too_big_is_asked_again_with_half_and_remembered_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    requests = FakeRequests(table())
    requests.too_big_above = 4
    settings = agent()
    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        walks = [asyncio.run(Walker(settings, requests).walk([IF_NAME, IF_HC_OUT]))
                 for _ in range(2)]  # fmt: skip
    assert all(complete(result) for result in walks)
    first = requests.bulks[: requests.bulks.index(3) + 1]
    assert first == [25, 12, 6, 3]
    assert set(requests.bulks[len(first) :]) == {3}  # the rest of the walk, and the next
    assert settings.learned.max_repetitions == 3
    assert any("max_repetitions = 3" in r.getMessage() for r in caplog.records)


def test_silence_to_a_large_getbulk_asks_for_fewer_for_the_rest_of_the_poll_only() -> None:
    requests = FakeRequests(table())
    settings = agent()
    walker = Walker(settings, requests)
    asyncio.run(walker.get([SYS_UPTIME]))  # it has answered: a silence now is the size
    requests.silent_above = 4
    assert complete(asyncio.run(walker.walk([IF_NAME, IF_HC_OUT])))
    assert requests.bulks[:4] == [25, 12, 6, 3]
    assert set(requests.bulks[4:]) == {3}
    assert settings.learned.max_repetitions is None  # one silent poll is not remembered


def test_an_agent_that_never_answered_fails_at_once_as_a_timeout() -> None:
    requests = FakeRequests(table())
    requests.silent_above = 0
    with pytest.raises(WalkCut, match="No SNMP response") as silent:
        run_walk(requests)
    assert silent.value.cause == "timeout" and requests.bulks == [25]


@pytest.mark.parametrize("refusal", ["genErr", "empty"])
def test_a_getbulk_that_fails_falls_back_to_getnext_for_good(
    refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    requests = FakeRequests(table())
    if refusal == "genErr":
        requests.bulk_refused = True
    else:

        async def empty(oids: Sequence[Index], max_repetitions: int) -> Answer:
            requests.bulks.append(max_repetitions)
            return Answer(0, 0, ())

        requests.getbulk = empty  # type: ignore[method-assign]
    settings = agent()
    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        walks = [asyncio.run(Walker(settings, requests).walk([IF_NAME, IF_HC_OUT]))
                 for _ in range(3)]  # fmt: skip
    assert all(complete(result) for result in walks)
    assert requests.bulks == [25]  # only the first walk tried GETBULK
    assert requests.getnexts == 3 * (ROWS + 1)
    (warning,) = [r.getMessage() for r in caplog.records if "GETNEXT" in r.getMessage()]
    assert warning.startswith("fake (192.0.2.1:161): GETBULK failed (")
    assert settings.learned.getnext_only


@pytest.mark.parametrize("version", ["1", "2c"])
def test_an_oid_that_does_not_increase_stops_the_walk_naming_it(version: str) -> None:
    requests = FakeRequests(table(), v1=version == "1")
    requests.back_after = (*oid(IF_NAME), 30)
    with pytest.raises(WalkCut, match="OIDs not increasing, walk stopped") as stopped:
        run_walk(requests, [IF_NAME], version=version)
    assert f"after {IF_NAME}.30" in str(stopped.value)
    assert stopped.value.rows[IF_NAME] == {(n,): f"<pppoe-user{n}>" for n in range(1, 31)}


def test_v1_walks_with_getnext_and_its_no_such_name_ends_a_column() -> None:
    requests = FakeRequests({k: v for k, v in table(2).items() if k[:-1] == oid(IF_HC_OUT)},
                            v1=True)  # fmt: skip
    result = run_walk(requests, [IF_HC_OUT], version="1")
    assert result == {IF_HC_OUT: {(1,): 1000, (2,): 2000}}
    assert requests.bulks == [] and requests.getnexts == 3


def test_a_walk_cut_keeps_whole_rows_and_resumes_where_it_stopped() -> None:
    requests = FakeRequests(table())
    requests.dead_after = 1  # the first GETBULK is answered, then nothing
    with pytest.raises(WalkCut) as cut:
        run_walk(requests, [IF_NAME])
    assert cut.value.rows[IF_NAME] == {(n,): f"<pppoe-user{n}>" for n in range(1, 26)}
    requests.dead_after = None
    after = {IF_NAME: (*oid(IF_NAME), 25)}  # the last row it read
    rest = asyncio.run(Walker(agent(), requests).walk([IF_NAME], start=after))
    assert rest[IF_NAME] == {(n,): f"<pppoe-user{n}>" for n in range(26, ROWS + 1)}


def test_a_gauge_in_a_counter_column_is_used_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    requests = FakeRequests(table(counter_tag=GAUGE32))
    walker = Walker(agent(), requests)
    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        for _ in range(2):
            result = asyncio.run(walker.walk([IF_HC_OUT], counters={IF_HC_OUT: "ifHCOutOctets"}))
    assert result[IF_HC_OUT][(7,)] == 7000
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"ifHCOutOctets ({IF_HC_OUT}) is sent as Gauge32, not as a counter" in warning


def test_a_request_that_fails_is_an_snmp_error_naming_the_agent() -> None:
    class Refusing(FakeRequests):
        async def get(self, oids: Sequence[Index]) -> Answer:
            raise RequestFailed("Unknown USM user")

    with pytest.raises(SnmpError, match=r"^fake \(192.0.2.1:161\): Unknown USM user$") as error:
        asyncio.run(Walker(agent(), Refusing(table())).get([SYS_UPTIME]))
    assert error.value.cause == "error"


def test_get_reads_scalars_and_none_where_the_agent_has_none() -> None:
    walker = Walker(agent(), FakeRequests(table()))
    assert asyncio.run(walker.get([SYS_UPTIME, "1.3.6.1.2.1.1.99.0"])) == {
        SYS_UPTIME: 500, "1.3.6.1.2.1.1.99.0": None
    }  # fmt: skip


@pytest.mark.parametrize("answer", ["short", "other objects"])
def test_a_get_answered_with_other_objects_than_asked_is_an_snmp_error(answer: str) -> None:
    class Wrong(FakeRequests):
        async def get(self, oids: Sequence[Index]) -> Answer:
            found = (await super().get(oids)).varbinds
            if answer == "short":
                return Answer(0, 0, found[:1])
            return Answer(0, 0, [((*o, 0), tag, value) for o, tag, value in found])

    walker = Walker(agent(), Wrong(table()))
    with pytest.raises(SnmpError, match=r"^fake \(192.0.2.1:161\): answered a GET of 2 objects "
                       r"with \d that are not the ones asked for$") as error:  # fmt: skip
        asyncio.run(walker.get([SYS_UPTIME, f"{IF_NAME}.1"]))
    assert error.value.cause == "error"


def test_a_v1_get_asks_again_without_the_object_the_agent_lacks() -> None:
    class V1(FakeRequests):
        async def get(self, oids: Sequence[Index]) -> Answer:
            for i, o in enumerate(oids):
                if o not in self.objects:
                    return Answer(NO_SUCH_NAME, i + 1, ())
            return await super().get(oids)

    walker = Walker(agent(version="1"), V1(table()))
    missing = f"{IF_NAME}.99"
    assert asyncio.run(walker.get([missing, SYS_UPTIME])) == {missing: None, SYS_UPTIME: 500}


def test_the_local_transport_reads_what_a_walk_over_requests_reads() -> None:
    from pysnmp.proto.rfc1902 import Counter64, OctetString, TimeTicks

    kinds = {OCTET_STRING: OctetString, COUNTER64: Counter64, 0x43: TimeTicks}
    objects = table()
    local = Table({o: kinds[tag](value) for o, (tag, value) in objects.items()})
    start = {IF_NAME: (*oid(IF_NAME), 10)}

    async def both() -> tuple[Any, Any]:
        async with await Transports().open(agent(local=local)) as transport:
            assert isinstance(transport, LocalTransport)
            read = (await transport.walk([IF_NAME, IF_HC_OUT], start=start),
                    await transport.get([SYS_UPTIME]))  # fmt: skip
        walker = Walker(agent(), FakeRequests(objects))
        return read, (await walker.walk([IF_NAME, IF_HC_OUT], start=start),
                      await walker.get([SYS_UPTIME]))  # fmt: skip

    through_local, through_requests = asyncio.run(both())
    assert through_local == through_requests
    assert through_local[1] == {SYS_UPTIME: 500}


def test_closing_a_walker_closes_its_requests() -> None:
    requests = FakeRequests(table())

    async def use() -> None:
        async with Walker(agent(), requests) as transport:
            await transport.get([SYS_UPTIME])

    asyncio.run(use())
    assert requests.closed


def test_an_unknown_transport_is_a_one_line_error_naming_the_choices() -> None:
    with pytest.raises(SnmpError, match=r"unknown transport 'snmpkit' \(one of: pysnmp, netsnmp\)"):
        asyncio.run(Transports().open(agent(transport="snmpkit")))
