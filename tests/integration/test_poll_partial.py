"""Work that survives a failure (issue 27): a walk cut short keeps what it read, so the next
cycle walks less, and a device that keeps failing is retried with backoff without holding
up the others. Against the in-process agent, which can fall silent after so many requests;
every charge is checked against the counters the test set. Through each transport."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, Rule, SessionKey
from nmsquota.counters import Reading
from nmsquota.sim.agent import TableAgent, start_agent
from nmsquota.snmp import tables as t
from nmsquota.snmp.connect import Transports
from nmsquota.snmp.cycle import Device, DeviceResult, poll_devices
from nmsquota.snmp.walk import Agent

pytestmark = pytest.mark.timeout(60)

MAPPING = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])
T0 = 1_000_000.0
INTERVAL = 300


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def octets(index: int, cycle: int) -> tuple[int, int]:
    """What row `index` has counted by `cycle`: in, out."""
    return 1_000 * index * (cycle + 1), 100_000 * index * (cycle + 1)


def interfaces(cycle: int, count: int) -> dict:
    """IF-MIB for `count` subscribers as at `cycle`, each row's ifSpeed its own (so a speed
    taken from the wrong row shows), sysUpTime moving with the 300 s cycles."""
    objects = {oid(t.SYS_UPTIME): TimeTicks(10_000_000 + cycle * INTERVAL * 100)}
    for n in range(1, count + 1):
        octets_in, octets_out = octets(n, cycle)
        objects[(*oid(t.IF_NAME), n)] = OctetString(f"<pppoe-user{n}>")
        objects[(*oid(t.IF_DESCR), n)] = OctetString(f"port {n}")
        objects[(*oid(t.IF_ALIAS), n)] = OctetString(f"customer {n}")
        objects[(*oid(t.IF_SPEED), n)] = Gauge32(100_000_000 + n)
        objects[(*oid(t.IF_HIGH_SPEED), n)] = Gauge32(100)
        objects[(*oid(t.IF_OPER_STATUS), n)] = Integer32(1)
        objects[(*oid(t.IF_IN_OCTETS), n)] = Counter32(octets_in % 2**32)
        objects[(*oid(t.IF_OUT_OCTETS), n)] = Counter32(octets_out % 2**32)
        objects[(*oid(t.IF_HC_IN_OCTETS), n)] = Counter64(octets_in)
        objects[(*oid(t.IF_HC_OUT_OCTETS), n)] = Counter64(octets_out)
    return objects


def device(name: str, port: int, transport: str, timeout: float = 0.2) -> Device:
    """A device that gives up on a silent request in `timeout`, read through `transport`
    (every test here runs through each: the `transport` fixture)."""
    agent = Agent(name, "127.0.0.1", port, timeout=timeout, retries=0, deadline=5,
                  transport=transport)  # fmt: skip
    return Device(name, agent, MAPPING)


def charged(result: DeviceResult) -> dict[str, tuple[int, int]]:
    assert result.attribution is not None, result.error
    return {s.subscriber: (s.bytes_in, s.bytes_out) for s in result.attribution.samples}


def gap(count: int, since: int, until: int) -> dict[str, tuple[int, int]]:
    """What each subscriber moved between two cycles, download (out) first."""
    moved = {}
    for n in range(1, count + 1):
        (in_0, out_0), (in_1, out_1) = octets(n, since), octets(n, until)
        moved[f"user{n}"] = (out_1 - out_0, in_1 - in_0)
    return moved


async def one_cycle(agent: TableAgent, devices: list[Device], cycle: int, count: int,
                    baselines: Mapping[str, Mapping[SessionKey, Reading]],
                    silent_after: int | None = None) -> tuple[list[DeviceResult], int]:  # fmt: skip
    """Poll at `cycle` (the agent answering only `silent_after` requests); the results and
    how many requests the agent received."""
    agent.set(interfaces(cycle, count))
    agent.requests, agent.answer_limit = 0, silent_after
    results = await poll_devices(
        Transports(), devices, T0 + cycle * INTERVAL, lambda name: baselines.get(name, {})
    )
    return results, agent.requests


def test_a_first_walk_cut_short_is_gone_on_from_and_the_next_cycle_walks_less(
    transport: str,
) -> None:
    count = 150

    async def run() -> None:
        agent, port = await start_agent()
        # Cycle 0, an earlier run of the daemon: the baselines it left in the ledger.
        (before,), _ = await one_cycle(agent, [device("bras1", port, transport)], 0, count, {})
        assert before.attribution is not None
        baselines = {"bras1": before.attribution.baselines}
        # The daemon starts again (no memory); its first walk falls silent part-way.
        bras1 = device("bras1", port, transport)
        (cut,), _ = await one_cycle(agent, [bras1], 1, count, baselines, silent_after=15)
        assert cut.error is not None and cut.attribution is None
        assert bras1.partial is not None
        kept = bras1.partial.rows[t.IF_DESCR]
        assert 0 < len(kept) < count
        # The next cycle goes on from there ...
        (resumed,), walked = await one_cycle(agent, [bras1], 2, count, baselines)
        # ... where a walk from nothing (another restarted daemon) asks for more.
        fresh_device = device("bras1", port, transport)
        (fresh,), walked_fresh = await one_cycle(agent, [fresh_device], 2, count, baselines)
        assert walked < walked_fresh
        assert bras1.partial is None and bras1.memory is not None
        # Nothing of the gap is lost, and the kept rows' speeds are their own rows'.
        assert charged(resumed) == charged(fresh) == gap(count, 0, 2)
        assert resumed.poll is not None
        speeds = {key.index: r.speed_bps for key, r in resumed.poll.readings}
        assert speeds == {n: 100_000_000 + n for n in range(1, count + 1)}

    asyncio.run(run())


def test_a_device_that_fails_keeps_its_memory_and_walks_only_counters_and_names_next(
    transport: str,
) -> None:
    count = 200

    async def run() -> None:
        agent, port = await start_agent()
        bras1 = device("bras1", port, transport)
        (first,), walked_whole = await one_cycle(agent, [bras1], 0, count, {})
        assert first.attribution is not None
        baselines = {"bras1": first.attribution.baselines}
        (failed,), _ = await one_cycle(agent, [bras1], 1, count, baselines, silent_after=5)
        assert failed.error is not None
        (back,), walked = await one_cycle(agent, [bras1], 2, count, baselines)
        assert back.poll is not None and not back.poll.identity_walked
        assert walked < walked_whole * 2 / 3
        assert charged(back) == gap(count, 0, 2)

    asyncio.run(run())


def test_a_device_in_backoff_is_not_asked_does_not_delay_the_others_and_loses_no_bytes(
    transport: str,
) -> None:
    count = 20

    async def run() -> None:
        live_agent, live_port = await start_agent()
        flaky_agent, flaky_port = await start_agent()
        # One walk at a time: a device that holds its slot until it times out delays the
        # other by that much.
        flaky, live = (
            device("flaky", flaky_port, transport, timeout=1.0),
            device("live", live_port, transport),
        )
        devices = [flaky, live]
        baselines: dict[str, Mapping[SessionKey, Reading]] = {}

        async def cycle(n: int, flaky_answers: bool) -> tuple[dict[str, DeviceResult], float]:
            flaky_agent.set(interfaces(n, count))
            flaky_agent.requests, flaky_agent.answer_limit = 0, None if flaky_answers else 0
            live_agent.set(interfaces(n, count))
            started = time.perf_counter()
            results = await poll_devices(
                Transports(), devices, T0 + n * INTERVAL, lambda d: baselines.get(d, {}),
                in_flight=1,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            for result in results:
                if result.attribution is not None:
                    baselines[result.device] = result.attribution.baselines
            return {r.device: r for r in results}, seconds

        await cycle(0, flaky_answers=True)
        for n in (1, 2, 3):  # fails three cycles in a row: the third starts the backoff
            results, seconds = await cycle(n, flaky_answers=False)
            assert results["flaky"].error and not results["flaky"].backing_off
            assert seconds >= 1.0  # the silent device's timeout, waited for by the other
        results, seconds = await cycle(4, flaky_answers=False)
        assert results["flaky"].backing_off and flaky_agent.requests == 0
        error = results["flaky"].error
        assert error is not None and error.startswith("flaky: backing off after 3 failed")
        assert charged(results["live"]) == gap(count, 3, 4)
        assert seconds < 1.0
        # It answers at its next turn, charged the whole gap since its last answer.
        results, _ = await cycle(5, flaky_answers=True)
        assert charged(results["flaky"]) == gap(count, 0, 5)
        assert flaky.backoff.failures == 0

    asyncio.run(run())
