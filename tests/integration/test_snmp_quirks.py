"""Agent quirks, each against an in-process agent that misbehaves that way: no GETBULK,
tooBig or silence on a large GETBULK, a walk that loops, exception values in a row, and a
gauge where a counter belongs; each through every transport (the `transport` fixture), whose
walk must cope alike. Every agent here answers in milliseconds, so timeouts are
short and every test is over in a few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from fixtures.quirky_agent import (
    END_OF_MIB_VIEW,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    QuirkyAgent,
    start_quirky_agent,
)
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, Rule, attribute
from nmsquota.counters import Verdict
from nmsquota.snmp import poller
from nmsquota.snmp import tables as t
from nmsquota.snmp.connect import Transports, open_transport
from nmsquota.snmp.cycle import Device, poll_devices
from nmsquota.snmp.walk import Agent, SnmpError, get, walk

pytestmark = pytest.mark.timeout(30)

MAPPING = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])
ROWS = 40  # more rows than one GETBULK of 25 repetitions carries


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def interfaces(uptime: int, rows: dict[int, tuple[str, int, int]], counter: Any = Counter64
               ) -> dict:  # fmt: skip
    """ifIndex -> (ifName, octets in, octets out) as IF-MIB objects, the 64-bit counters of
    type `counter` (what a well-behaved agent sends: Counter64). `uptime` in centiseconds:
    it must move with the polls' 300 s, or the agent looks restarted."""
    objects = {oid(t.SYS_UPTIME): TimeTicks(uptime)}
    for index, (name, octets_in, octets_out) in rows.items():
        objects[(*oid(t.IF_NAME), index)] = OctetString(name)
        objects[(*oid(t.IF_DESCR), index)] = OctetString(name)
        objects[(*oid(t.IF_OPER_STATUS), index)] = Integer32(1)
        objects[(*oid(t.IF_HIGH_SPEED), index)] = Gauge32(1000)
        objects[(*oid(t.IF_IN_OCTETS), index)] = Counter32(octets_in % 2**32)
        objects[(*oid(t.IF_OUT_OCTETS), index)] = Counter32(octets_out % 2**32)
        objects[(*oid(t.IF_HC_IN_OCTETS), index)] = counter(octets_in)
        objects[(*oid(t.IF_HC_OUT_OCTETS), index)] = counter(octets_out)
    return objects


def many(count: int = ROWS) -> dict:
    return interfaces(100, {n: (f"<pppoe-user{n}>", 10 * n, 1000 * n) for n in range(1, count + 1)})


R = TypeVar("R")


def with_agent(test: Callable[[QuirkyAgent, int], Awaitable[R]]) -> R:
    """Run `test(agent, port)` against a fresh QuirkyAgent, closing its socket afterwards."""

    async def run() -> R:
        agent, port = await start_quirky_agent()
        try:
            return await test(agent, port)
        finally:
            assert agent.transport is not None
            agent.transport.close()

    return asyncio.run(run())


def quick(transport, port: int, **settings: Any) -> Agent:
    """An agent setting that gives up on a silent request in a fifth of a second."""
    return Agent("quirky", "127.0.0.1", port, **{"timeout": 0.2, "retries": 0, **settings})


async def walk_names(agent: Agent, times: int = 1) -> list[dict]:
    """Walk ifName and ifHCOutOctets `times` with one Session each (one per cycle, as the
    poller does), after a GET of sysUpTime (as the poller does first)."""
    transports = Transports()
    walks = []
    for _ in range(times):
        session = await transports.open(agent)
        await get(session, [t.SYS_UPTIME])
        walks.append(await walk(session, [t.IF_NAME, t.IF_HC_OUT_OCTETS]))
    return walks


def complete(result: dict) -> bool:
    names, counts = result[t.IF_NAME], result[t.IF_HC_OUT_OCTETS]
    return names == {(n,): f"<pppoe-user{n}>" for n in range(1, ROWS + 1)} and counts == {
        (n,): 1000 * n for n in range(1, ROWS + 1)
    }


# -- no GETBULK -------------------------------------------------------------------------------


def test_v1_walks_with_getnext_only(transport: str) -> None:
    async def test(agent: QuirkyAgent, port: int) -> list[dict]:
        agent.set(interfaces(100, {1: ("<pppoe-a>", 1, 2), 2: ("<pppoe-b>", 3, 4)}))
        return await walk_names(quick(transport, port, version="1"))

    (result,) = with_agent(test)
    assert result[t.IF_NAME] == {(1,): "<pppoe-a>", (2,): "<pppoe-b>"}
    assert result[t.IF_HC_OUT_OCTETS] == {}  # v1 cannot carry Counter64


@pytest.mark.parametrize("refusal", ["error", "silent", "empty"])
def test_a_v2c_agent_whose_getbulk_fails_is_walked_with_getnext_and_remembered(
    transport: str, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def test(agent: QuirkyAgent, port: int) -> tuple[list[dict], list[int], int]:
        agent.set(many())
        agent.bulk = refusal  # type: ignore[assignment]
        walks = await walk_names(quick(transport, port), times=3)
        return walks, agent.bulk_repetitions, agent.getnext_requests

    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        walks, bulks, getnexts = with_agent(test)
    assert all(complete(result) for result in walks)
    # Only the first walk tried GETBULK (silence: at ever fewer repetitions, down to one).
    assert bulks == ([25, 12, 6, 3, 1] if refusal == "silent" else [25])
    assert getnexts == 3 * (ROWS + 1)
    (warning,) = [r.getMessage() for r in caplog.records if "GETNEXT" in r.getMessage()]
    assert warning.startswith("quirky (127.0.0.1:")
    assert "walking it with GETNEXT from now on" in warning


def test_bulk_false_walks_a_v2c_agent_with_getnext_from_the_start(transport: str) -> None:
    async def test(agent: QuirkyAgent, port: int) -> tuple[list[dict], list[int]]:
        agent.set(many())
        return await walk_names(quick(transport, port, bulk=False)), agent.bulk_repetitions

    (result,), bulks = with_agent(test)
    assert complete(result) and bulks == []


# -- tooBig and silence on a large GETBULK ----------------------------------------------------


def test_a_large_getbulk_refused_with_too_big_is_retried_with_half_and_remembered_at_once(
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def test(agent: QuirkyAgent, port: int) -> tuple[list[dict], list[int]]:
        agent.set(many())
        agent.too_big_above = 4
        return await walk_names(quick(transport, port), times=2), agent.bulk_repetitions

    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        walks, bulks = with_agent(test)
    assert all(complete(result) for result in walks)
    first = bulks[: bulks.index(3) + 1]
    assert first == [25, 12, 6, 3]
    assert set(bulks[len(first) :]) == {3}  # the rest of the walk, and the next walk
    warnings = [r.getMessage() for r in caplog.records]
    assert any("max_repetitions = 3" in w for w in warnings)


async def polls_of_names(
    transport: str, agent: QuirkyAgent, port: int, silent: list[bool]
) -> list[list[int]]:
    """Walk as walk_names does, one poll per entry of `silent`; in those True, the agent
    leaves a GETBULK of more than 4 repetitions unanswered. Each poll's GETBULK sizes."""
    agent.set(many())
    settings, polls = quick(transport, port), []
    for quiet in silent:
        agent.silent_above = 4 if quiet else None
        agent.bulk_repetitions = []
        (result,) = await walk_names(settings)
        assert complete(result)
        polls.append(agent.bulk_repetitions)
    return polls


def test_a_large_getbulk_left_unanswered_asks_for_fewer_for_the_rest_of_the_poll_only(
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Silence may be the poller's own load (issue 27), not the agent's limit: the next poll
    # asks for as many as before, and nothing is remembered or told. A poll that answers
    # them starts the count over: the third poll's silence is the first in a row again.
    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        first, second, third = with_agent(
            lambda agent, port: polls_of_names(transport, agent, port, [True, False, True])
        )
    assert first[:4] == [25, 12, 6, 3] and set(first[4:]) == {3}
    assert set(second) == {25}
    assert third == first
    assert not any("max_repetitions" in r.getMessage() for r in caplog.records)


def test_a_large_getbulk_left_unanswered_in_two_polls_in_a_row_is_remembered(
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        first, second, third = with_agent(
            lambda agent, port: polls_of_names(transport, agent, port, [True, True, False])
        )
    assert first == second and first[:4] == [25, 12, 6, 3] and set(first[4:]) == {3}
    assert set(third) == {3}  # from now on, though this agent would answer more again
    (warning,) = [r.getMessage() for r in caplog.records if "max_repetitions" in r.getMessage()]
    assert warning.startswith("quirky (127.0.0.1:") and "max_repetitions = 3" in warning


def test_max_repetitions_caps_every_getbulk_from_the_start(transport: str) -> None:
    async def test(agent: QuirkyAgent, port: int) -> tuple[list[dict], list[int]]:
        agent.set(many())
        return await walk_names(quick(transport, port, max_repetitions=4)), agent.bulk_repetitions

    (result,), bulks = with_agent(test)
    assert complete(result) and set(bulks) == {4}


def test_an_agent_that_never_answered_fails_at_once_not_after_every_halving(
    transport: str,
    silent_agent: int,
) -> None:
    async def read() -> None:
        session = await open_transport(quick(transport, silent_agent, deadline=10))
        await walk(session, [t.IF_NAME])

    loop_started = asyncio.run(_timed(read))
    assert loop_started < 1.0  # one timeout of 0.2 s, not five (or the 10 s deadline)


async def _timed(read: Callable[[], Awaitable[None]]) -> float:
    started = asyncio.get_running_loop().time()
    with pytest.raises(SnmpError, match="No SNMP response") as silent:
        await read()
    assert silent.value.cause == "timeout"
    return asyncio.get_running_loop().time() - started


# -- an agent that loops -----------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"version": "1"}, {"bulk": False}])
def test_a_walk_that_goes_back_stops_with_an_error_naming_the_oid(
    transport: str, settings: dict
) -> None:
    back_from, back_to = (*oid(t.IF_NAME), 3), (*oid(t.IF_NAME), 2)

    async def test(agent: QuirkyAgent, port: int) -> None:
        agent.set(many(5))
        agent.loop[back_from] = back_to
        await walk_names(quick(transport, port, **settings))

    with pytest.raises(SnmpError) as error:
        with_agent(test)
    assert str(error.value).startswith("quirky (127.0.0.1:")
    assert f"returned {t.IF_NAME}.2 after {t.IF_NAME}.3" in str(error.value)


@pytest.mark.parametrize("version", ["2c", "1"])
def test_a_walk_sent_back_outside_its_column_is_stopped_too(transport: str, version: str) -> None:
    # Back to ifIndex.1, before the column: not the end of ifName (a short table), a loop.
    back_from, back_to = (*oid(t.IF_NAME), 3), oid("1.3.6.1.2.1.2.2.1.1.1")

    async def test(agent: QuirkyAgent, port: int) -> None:
        agent.set({**many(5), back_to: Integer32(1)})
        agent.loop[back_from] = back_to
        await walk_names(quick(transport, port, version=version))

    with pytest.raises(SnmpError, match=r"returned 1\.3\.6\.1\.2\.1\.2\.2\.1\.1\.1 after"):
        with_agent(test)


def test_a_looping_agent_fails_its_own_device_and_no_other(transport: str) -> None:
    async def test(looping: QuirkyAgent, port: int) -> list:
        good, good_port = await start_quirky_agent()
        try:
            rows = {1: ("<pppoe-davidn>", 0, 5_000)}
            good.set(interfaces(100, rows))
            looping.set(interfaces(100, {1: ("<pppoe-crowther>", 0, 1)}))
            looping.loop[(*oid(t.IF_NAME), 1)] = (*oid(t.IF_NAME), 1)
            devices = [
                Device("loops", quick(transport, port), MAPPING),
                Device("good", quick(transport, good_port), MAPPING),
            ]
            return await poll_devices(Transports(), devices, 1_000.0, lambda _: {})
        finally:
            assert good.transport is not None
            good.transport.close()

    loops, good = with_agent(test)
    assert loops.error is not None and "OIDs not increasing" in loops.error
    assert good.error is None and [k.subscriber for k, _ in good.poll.readings] == ["davidn"]


# -- exception values in a row ---------------------------------------------------------------


@pytest.mark.parametrize("exception", [NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW])
def test_an_exception_value_in_a_row_is_a_missing_reading_not_a_zero(
    transport: str, exception: bytes
) -> None:
    async def test(agent: QuirkyAgent, port: int) -> list:
        session = await open_transport(quick(transport, port))
        baselines: dict = {}
        memory = None
        results = []
        for n, octets_out in enumerate([1_000, 2_000, 5_000]):
            row = {7: ("<pppoe-davidn>", 0, octets_out)}
            agent.set(interfaces(100_000 + 30_000 * n, row))
            agent.exceptions = {(*oid(t.IF_HC_OUT_OCTETS), 7): exception} if n == 1 else {}
            seen = await poller.poll(session, MAPPING, 1_000.0 + 300 * n, memory=memory)
            memory = seen.memory
            result = attribute(baselines, seen.readings, 1_000 + 300 * n)
            baselines = {**baselines, **result.baselines}
            results.append(result)
        return results

    _, broken, after = with_agent(test)
    ((_, charge),) = broken.charges
    assert charge.verdict == Verdict.MISSING and broken.samples == []
    # The baseline was kept: the next cycle charges both intervals' bytes.
    assert [(s.subscriber, s.bytes_in) for s in after.samples] == [("davidn", 4_000)]


@pytest.mark.parametrize("exception", [NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW])
def test_an_exception_value_read_by_get_is_none(transport: str, exception: bytes) -> None:
    async def test(agent: QuirkyAgent, port: int) -> dict:
        agent.set(interfaces(100, {7: ("<pppoe-davidn>", 0, 1)}))
        agent.exceptions = {(*oid(t.IF_HC_OUT_OCTETS), 7): exception}
        session = await open_transport(quick(transport, port))
        return await get(session, [f"{t.IF_HC_OUT_OCTETS}.7", f"{t.IF_HC_IN_OCTETS}.7"])

    values = with_agent(test)
    assert values == {f"{t.IF_HC_OUT_OCTETS}.7": None, f"{t.IF_HC_IN_OCTETS}.7": 0}


# -- a gauge where a counter belongs ----------------------------------------------------------


# Integer32 and INTEGER share a tag: what arrives is an Integer.
@pytest.mark.parametrize(("kind", "name"), [(Gauge32, "Gauge32"), (Integer32, "Integer")])
def test_a_gauge_where_a_counter_belongs_is_used_with_one_warning(
    transport: str, kind: Any, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def test(agent: QuirkyAgent, port: int) -> list:
        session = await open_transport(quick(transport, port))
        baselines: dict = {}
        results = []
        for n, octets_out in enumerate([1_000, 3_000, 6_000]):
            row = {7: ("<pppoe-davidn>", 5 * n, octets_out)}
            agent.set(interfaces(100_000 + 30_000 * n, row, kind))
            # No memory: every cycle walks every column, and still warns only once.
            seen = await poller.poll(session, MAPPING, 1_000.0 + 300 * n)
            result = attribute(baselines, seen.readings, 1_000 + 300 * n)
            baselines = result.baselines
            results.append(result)
        return results

    with caplog.at_level(logging.WARNING, logger="nmsquota.snmp"):
        results = with_agent(test)
    assert [[(s.bytes_in, s.bytes_out) for s in r.samples] for r in results] == [
        [], [(2_000, 5)], [(3_000, 5)]
    ]  # fmt: skip
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert len(warnings) == 2  # one per column: ifHCInOctets and ifHCOutOctets
    assert f"ifHCInOctets ({t.IF_HC_IN_OCTETS}) is sent as {name}, not as a" in warnings[0]
    assert f"ifHCOutOctets ({t.IF_HC_OUT_OCTETS}) is sent as {name}, not as a" in warnings[1]
    assert all(w.startswith("quirky (127.0.0.1:") for w in warnings)
