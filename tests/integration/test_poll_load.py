"""The poller under load (issue 27): more in-process agents than a short deadline and budget
can hold. Every device either answers or is reported skipped for load, never failed; at
least as many answer as fit in the budget at the measured cost, never none; those skipped
go first next cycle; and a skipped device's bytes are charged in full by its next poll."""

from __future__ import annotations

import asyncio
import re
import time

from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.daemon.record import commit_poll, stored_baselines
from nmsquota.ledger import Ledger
from nmsquota.sim.agent import TableAgent, start_agent
from nmsquota.snmp import tables as p
from nmsquota.snmp.connect import Transports
from nmsquota.snmp.cycle import Device, DeviceResult, Pool, poll_devices
from nmsquota.snmp.walk import Agent

MAPPING = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def interfaces(uptime: int, rows: dict[int, tuple[str, int]]) -> dict:
    """ifIndex -> (ifName, octets out), as IF-MIB objects on a 1 Gbit/s port."""
    objects = {oid(p.SYS_UPTIME): TimeTicks(uptime)}
    for index, (name, octets_out) in rows.items():
        objects[(*oid(p.IF_NAME), index)] = OctetString(name)
        objects[(*oid(p.IF_DESCR), index)] = OctetString(name)
        objects[(*oid(p.IF_OPER_STATUS), index)] = Integer32(1)
        objects[(*oid(p.IF_HIGH_SPEED), index)] = Gauge32(1000)
        objects[(*oid(p.IF_IN_OCTETS), index)] = Counter32(0)
        objects[(*oid(p.IF_OUT_OCTETS), index)] = Counter32(octets_out % 2**32)
        objects[(*oid(p.IF_HC_IN_OCTETS), index)] = Counter64(0)
        objects[(*oid(p.IF_HC_OUT_OCTETS), index)] = Counter64(octets_out)
    return objects


def table(rows: int, octets: int = 1_000) -> dict:
    return interfaces(100_000, {i: (f"<pppoe-user{i}>", octets) for i in range(1, rows + 1)})


async def agents(n: int, rows: int) -> list[tuple[TableAgent, int]]:
    started = [await start_agent() for _ in range(n)]
    for agent, _ in started:
        agent.set(table(rows))
    return started


def device(name: str, port: int, deadline: float = 30.0) -> Device:
    return Device(name, Agent(name, "127.0.0.1", port, timeout=1.0, retries=0,
                              deadline=deadline), MAPPING)  # fmt: skip


def test_a_saturated_cycle_polls_what_fits_and_skips_the_rest_never_failing_for_load() -> None:
    """40 agents of 120 interfaces: some 5,000 varbinds each on the first walk, together far
    more than one core decodes within a 1.5 s deadline or a 4 s budget."""

    async def run() -> tuple[list[list[DeviceResult]], Pool, list[float]]:
        started = await agents(40, rows=120)
        devices = [device(f"bras{n:02}", port, deadline=1.5) for n, (_, port) in
                   enumerate(started)]  # fmt: skip
        pool, transports, cycles, took = Pool(), Transports(), [], []
        for cycle in range(2):
            began = time.monotonic()
            cycles.append(await poll_devices(transports, devices, 1_000.0 + 300 * cycle,
                                             lambda _: {}, pool=pool, budget=4.0))  # fmt: skip
            took.append(time.monotonic() - began)
        return cycles, pool, took

    cycles, pool, took = asyncio.run(run())
    for results in cycles:
        answered = [r.device for r in results if r.poll is not None]
        skipped = [r.device for r in results if r.skipped]
        assert answered, "a cycle polled nothing"
        # Load is never a device's failure. A walk that other work on the machine slowed
        # past its deadline after rows came back is `slowed`: reported as slow, not held
        # against the device, and polled first next cycle (it happened in CI beside a
        # benchmark on the two cores; never on a quiet machine).
        slowed = [r.device for r in results if r.slowed]
        assert [r for r in results if r.error and not r.slowed] == []
        assert len(answered) + len(skipped) + len(slowed) == 40
    first, second = cycles
    assert any(r.skipped for r in first), "40 devices were expected not to fit in 4 s"
    # The skipped ones went first in the next cycle.
    skipped_first = [r.device for r in first if r.skipped]
    answered_second = {r.device for r in second if r.poll is not None}
    assert skipped_first[0] in answered_second
    # As many as fit: the budget, at the pace the machine gave the poll, over what a
    # device cost in this cycle (less the one that would run past it). On a machine that
    # other processes keep busy the pace is below 1, and fewer fit.
    load = pool.last
    assert load is not None and load.answered == len(answered_second)
    fit = int(4.0 * load.pace / (load.cpu / load.answered)) - 1
    # Never more than there are: a second cycle that answered all 40 at a quick pace can
    # work out room for more (a fast moment once failed this with 40 answered). And not to
    # the device: the pace and each device's cost are measured while the walks run, and a
    # neighbour on the machine moves them (39 answered against a fit of 41 on 2026-12-07,
    # with two other test runs on the two cores); a tenth's slack keeps this about the
    # poller filling its budget, not about the machine's steadiness.
    assert len(answered_second) >= int(0.9 * min(fit, len(first)))
    assert all(seconds < 4.0 + 2 * 1.5 for seconds in took)  # the budget, and a last walk


def test_a_skipped_device_s_bytes_are_charged_in_full_by_its_next_poll(tmp_path) -> None:
    async def run() -> dict:
        (a, port_a), (b, port_b) = await agents(2, rows=1)
        devices = [device("first", port_a), device("late", port_b)]
        transports, t = Transports(), 1_000_000.0
        with Ledger.open_writer(tmp_path / "ledger") as ledger:

            async def cycle(now: float, pool: Pool, budget: float | None) -> list[DeviceResult]:
                results = await poll_devices(transports, devices, now, stored_baselines(ledger),
                                             pool=pool, budget=budget)  # fmt: skip
                commit_poll(ledger, [r for r in results if not r.skipped], now)
                return results

            await cycle(t, Pool(), None)  # both baselined
            # Ten minutes later, "late" has sent 100 GB: more than a 1 Gbit/s port carries
            # in one 5-minute interval, well within what it carries in the ten minutes
            # since its baseline (the spike guard of issue 19: line rate x elapsed).
            a.set(interfaces(130_000, {1: ("<pppoe-user1>", 2_000)}))
            busy = Pool()
            busy.costs.sized("late", 10**9)  # costs more than any budget: skipped
            skipped = await cycle(t + 300, busy, 1.0)
            assert [r.skipped for r in skipped] == [False, True]
            b.set(interfaces(160_000, {1: ("<pppoe-user1>", 1_000 + 70_000_000_000)}))
            a.set(interfaces(160_000, {1: ("<pppoe-user1>", 3_000)}))
            await cycle(t + 600, Pool(), None)
            return {s.time: s.bytes_in for s in ledger.samples(["user1"])}

    # "first" charged 1,000 bytes each cycle; "late" its whole gap at once, at its next poll.
    assert asyncio.run(run()) == {1_000_300: 1_000, 1_000_600: 1_000 + 70_000_000_000}


def test_the_daemon_logs_and_keeps_what_each_cycle_cost_and_status_shows_it(
    tmp_path, caplog, capsys
) -> None:
    from integration.test_daemon_cycle import rig, status

    from nmsquota.cli import main

    async def run():  # type: ignore[no-untyped-def]
        async with rig(tmp_path) as r:
            r.bras.show(r.clock.now(), 0, 0)
            with caplog.at_level("INFO", logger="nmsquota.daemon"):
                await r.daemon.cycle()
            return r, r.ledger.records.health()

    r, health = asyncio.run(run())
    assert health is not None and health.cpu > 0 and health.device_cost > 0
    # The sim agent's one interface, first walk: ifDescr, ifName and the counter columns.
    assert health.varbinds >= 5
    assert health.capacity is not None and health.capacity >= 1
    assert health.devices_skipped == () and health.causes == {} and health.queued == 0
    line = next(m for m in caplog.messages if m.startswith("cycle 1:"))
    assert "1/1 devices answered (0 skipped for load, 0 failed; " in line
    assert re.search(r"; polled in \d+\.\ds, \d+\.\ds CPU, 0 walks queued\)", line), line
    assert main(status(r), clock=r.clock) == 0
    out = capsys.readouterr().out
    assert f"this machine polls about {health.capacity} devices of this size per 300s" in out
