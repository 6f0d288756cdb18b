"""One cycle's poll across worker processes (issue 23, item 4): the same devices polled
through two workers read, charge and remember exactly what the in-process poll does; a
worker killed mid-cycle fails its own devices, not the others', and the next cycle starts
a new one; workers stop by PID, reaped. The agents are the simulator's, over UDP on
loopback, served by this test's event loop while the workers poll them."""

from __future__ import annotations

import asyncio
import copy
import os
import signal
import time
from dataclasses import replace

import pytest
from fixtures.config_file import write_config
from integration.test_daemon_cycle import MB, rig, settings
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.config import load_config
from nmsquota.sim.agent import TableAgent, start_agent
from nmsquota.snmp import tables as p
from nmsquota.snmp import workers
from nmsquota.snmp.connect import Transports
from nmsquota.snmp.cycle import Device, DeviceResult, Pool, poll_devices
from nmsquota.snmp.walk import Agent
from nmsquota.snmp.workers import Spread

MAPPING = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def table(uptime: int, users: dict[str, int]) -> dict:
    """One interface per user, with its octets out, on a 1 Gbit/s port."""
    objects = {oid(p.SYS_UPTIME): TimeTicks(uptime)}
    for index, (user, octets) in enumerate(users.items(), start=1):
        objects[(*oid(p.IF_NAME), index)] = OctetString(f"<pppoe-{user}>")
        objects[(*oid(p.IF_DESCR), index)] = OctetString(f"<pppoe-{user}>")
        objects[(*oid(p.IF_OPER_STATUS), index)] = Integer32(1)
        objects[(*oid(p.IF_HIGH_SPEED), index)] = Gauge32(1000)
        objects[(*oid(p.IF_IN_OCTETS), index)] = Counter32(0)
        objects[(*oid(p.IF_OUT_OCTETS), index)] = Counter32(octets % 2**32)
        objects[(*oid(p.IF_HC_IN_OCTETS), index)] = Counter64(0)
        objects[(*oid(p.IF_HC_OUT_OCTETS), index)] = Counter64(octets)
    return objects


def users(agent: int, octets: int) -> dict[str, int]:
    return {f"a{agent}u{n}": octets * (n + 1) for n in range(5)}


def device(name: str, port: int, timeout: float = 1.0) -> Device:
    return Device(name, Agent(name, "127.0.0.1", port, timeout=timeout, retries=0,
                              deadline=10.0), MAPPING)  # fmt: skip


def same(results: list[DeviceResult]) -> list[tuple]:
    """What a cycle gave, less how long it took (seconds)."""
    return [(r.device, r.poll, r.attribution, r.error, r.cause, r.backing_off, r.slowed)
            for r in results]  # fmt: skip


def test_two_workers_read_charge_and_remember_what_the_in_process_poll_does() -> None:
    async def run() -> None:
        started: list[tuple[TableAgent, int]] = [await start_agent() for _ in range(4)]
        here = [device(f"bras{n}", port) for n, (_, port) in enumerate(started)]
        there = copy.deepcopy(here)
        spread, transports = Spread(workers=2), Transports()
        baselines_here: dict = {}
        baselines_there: dict = {}
        try:
            for cycle, octets in enumerate((1_000, 5_000_000)):
                for n, (agent, _) in enumerate(started):
                    agent.set(table(100_000 + 30_000 * cycle, users(n, octets)))
                now = 1_000_000.0 + 300 * cycle
                inline = await poll_devices(transports, here, now,
                                            lambda d: baselines_here.get(d, {}),
                                            pool=Pool())  # fmt: skip
                spread_pool = Pool()
                apart = await spread.poll(transports, there, now,
                                          lambda d: baselines_there.get(d, {}),
                                          pool=spread_pool)  # fmt: skip
                assert len(spread.pids()) == 2 and os.getpid() not in spread.pids()
                assert same(apart) == same(inline)
                assert all(r.poll is not None for r in apart)
                for mine, theirs in zip(here, there, strict=True):
                    assert (theirs.memory, theirs.partial, theirs.pins, theirs.backoff) == (
                        mine.memory, mine.partial, mine.pins, mine.backoff)  # fmt: skip
                assert spread_pool.last is not None and spread_pool.last.answered == 4
                for r in inline:
                    baselines_here[r.device] = r.attribution.baselines
                for r in apart:
                    baselines_there[r.device] = r.attribution.baselines
            # The second cycle charged bytes: the comparison above was not of empty charges.
            assert any(sample.bytes_in for r in apart for sample in r.attribution.samples)
        finally:
            spread.close()

    asyncio.run(run())


def test_a_worker_killed_mid_cycle_fails_its_own_devices_and_the_next_cycle_recovers(
    silent_agent: int,
) -> None:
    async def run() -> None:
        started = [await start_agent() for _ in range(3)]
        for n, (agent, _) in enumerate(started):
            agent.set(table(100_000, users(n, 1_000)))
        # "silent" holds its worker in its cycle while that worker is killed.
        devices = [device("silent", silent_agent, timeout=1.0),
                   *(device(f"bras{n}", port) for n, (_, port) in enumerate(started))]  # fmt: skip
        spread, transports, pool = Spread(workers=2), Transports(), Pool()
        try:
            await spread.poll(transports, devices, 1_000.0, lambda _: {}, pool=pool)
            kept = {d.name: (d.memory, d.backoff.failures) for d in devices}
            cycle = asyncio.ensure_future(
                spread.poll(transports, devices, 1_300.0, lambda _: {}, pool=pool)
            )
            await asyncio.sleep(0.3)  # the worker of "silent" waits on it
            slot = spread.assigned["silent"]
            victim = spread.running[slot].pid
            assert victim is not None
            os.kill(victim, signal.SIGKILL)
            results = {r.device: r for r in await cycle}
            killed = [d for d in devices if spread.assigned[d.name] == slot]
            others = [d.name for d in devices if spread.assigned[d.name] != slot]
            assert others, "both workers were expected to poll"
            for device_ in killed:
                result = results[device_.name]
                assert result.error == (
                    f"{device_.name}: poll worker {slot + 1} died (killed by SIGKILL)"
                )
                assert result.poll is None
                # Not the device's fault: its memory stays, and it does not back off.
                assert (device_.memory, device_.backoff.failures) == kept[device_.name]
            for name in others:
                assert results[name].poll is not None, results[name].error
            # The next cycle starts a new worker for the dead one, and every agent answers.
            third = await spread.poll(transports, devices, 1_600.0, lambda _: {}, pool=pool)
            results = {r.device: r for r in third}
            assert spread.running[slot].pid != victim
            assert [n for n, r in results.items() if r.poll is None] == ["silent"]
            assert results["silent"].cause == "timeout"
            with pytest.raises(ProcessLookupError):  # reaped: not even a zombie
                os.kill(victim, 0)
        finally:
            pids = spread.pids()
            spread.close()
            for pid in pids:
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)

    asyncio.run(run())


def test_the_daemon_polls_through_its_workers_and_stops_them_on_reload_and_close(
    tmp_path,
) -> None:
    """poll_workers = 2: the cycle limits as the in-process one does; a reload to 1 stops
    the workers by PID, and close() (the daemon's stop) leaves none behind."""

    async def run() -> None:
        async with rig(tmp_path, poll_workers=2) as r:
            daemon, clock = r.daemon, r.clock
            try:
                r.bras.show(clock.now(), 5_000, 5_000)
                assert (await daemon.cycle()).devices_ok == ["bras"]
                (pid,) = daemon.spread.pids()  # one device: one worker has a share
                assert pid != os.getpid()
                clock.advance(300)
                r.bras.show(clock.now(), 5_000 + 2 * MB, 5_000 + 100_000)
                assert (await daemon.cycle()).limited == ["alice"]
                assert daemon.spread.pids() == [pid]
                write_config(tmp_path, **settings(r.config.settings.access_servers["bras"].port,
                                                  poll_workers=1))  # fmt: skip
                daemon.configure(load_config(r.path))
                assert daemon.spread.pids() == []
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)
                clock.advance(300)
                assert (await daemon.cycle()).devices_ok == ["bras"]  # in-process again
                daemon.configure(r.config)
                clock.advance(300)
                await daemon.cycle()
                (pid,) = daemon.spread.pids()
            finally:
                daemon.close()
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)

    asyncio.run(run())


def test_a_worker_that_stops_answering_is_killed_at_the_cycle_s_bound(monkeypatch) -> None:
    """A hung worker (stopped here with SIGSTOP) holds no cycle past its budget, its
    longest deadline and STARTUP: it is killed by PID, its devices are reported, and the
    next cycle starts a new one."""
    monkeypatch.setattr(workers, "STARTUP", 0.2)

    async def run() -> None:
        started = [await start_agent() for _ in range(2)]
        for n, (agent, _) in enumerate(started):
            agent.set(table(100_000, users(n, 1_000)))
        devices = [device(f"bras{n}", port) for n, (_, port) in enumerate(started)]
        for d in devices:
            d.agent = replace(d.agent, deadline=0.5)
        spread, transports, pool = Spread(workers=2), Transports(), Pool()
        try:
            await spread.poll(transports, devices, 1_000.0, lambda _: {}, pool=pool, budget=0.3)
            hung = spread.running[spread.assigned["bras0"]]
            pid = hung.pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            began = time.monotonic()
            results = await spread.poll(transports, devices, 1_300.0, lambda _: {}, pool=pool,
                                        budget=0.3)  # fmt: skip
            assert time.monotonic() - began < 3.0
            assert results[0].error == f"bras0: poll worker {hung.number} did not answer within 1s"
            assert results[1].poll is not None
            assert pool.last is not None and pool.last.failed == {"bras0": "error"}
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
            results = await spread.poll(transports, devices, 1_600.0, lambda _: {}, pool=pool,
                                        budget=0.3)  # fmt: skip
            assert [r.poll is not None for r in results] == [True, True]
        finally:
            spread.close()

    asyncio.run(run())
