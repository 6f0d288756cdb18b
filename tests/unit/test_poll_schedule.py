"""Which walks a cycle starts, queues or skips for load: fake walks on a fake machine, whose
clock and CPU move by each walk's cost (nmsquota.snmp.cycle.admit and schedule)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import cast

import pytest

from nmsquota.attribution import InterfaceMap
from nmsquota.snmp import cycle
from nmsquota.snmp.capacity import Costs
from nmsquota.snmp.connect import Transports
from nmsquota.snmp.cycle import Device, DeviceResult, Pool, admit, poll_devices, schedule
from nmsquota.snmp.tables import Poll
from nmsquota.snmp.transport import Transport
from nmsquota.snmp.walk import Agent, LocalTable, SnmpError, WalkCut


def test_the_first_walk_always_starts_so_no_cycle_polls_nothing() -> None:
    assert admit(500.0, [], 0.0, deadline=30, elapsed=0, budget=10, started=0) == "start"


def test_a_walk_waits_while_the_walks_in_flight_would_slow_it_past_its_deadline() -> None:
    # Half of a 30 s deadline is 15 s of CPU in flight at most.
    assert admit(5.0, [5.0, 5.0], 10.0, deadline=30, elapsed=0, budget=None, started=2) == "start"
    assert admit(5.0, [5.0, 6.0], 11.0, deadline=30, elapsed=0, budget=None, started=2) == "wait"


def test_a_walk_that_would_end_after_the_budget_waits_for_the_running_then_is_skipped() -> None:
    # The running walks' CPU is an estimate: what they really take decides.
    assert admit(2.0, [1.0], 1.0, deadline=30, elapsed=7.5, budget=10, started=5) == "wait"
    assert admit(2.0, [], 0.0, deadline=30, elapsed=8.5, budget=10, started=5) == "skip"
    assert admit(2.0, [], 0.0, deadline=30, elapsed=7.5, budget=10, started=5) == "start"


def test_without_a_budget_nothing_is_skipped() -> None:
    assert admit(2.0, [], 0.0, deadline=30, elapsed=1e6, budget=None, started=9) == "start"


class Machine:
    """Runs fake walks: each takes its cost in CPU and in time, and says who ran together."""

    def __init__(self, cost: float) -> None:
        self.cost = cost
        self.time = 0.0
        self.cpu = 0.0
        self.running = 0
        self.most = 0
        self.started: list[str] = []

    async def walk(self, device: Device) -> DeviceResult:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append(device.name)
        await asyncio.sleep(0)
        self.time += self.cost
        self.cpu += self.cost
        self.running -= 1
        return DeviceResult(device.name, poll=Poll(uptime=1))

    def cycle(self, devices: list[Device], pool: Pool, budget: float | None) -> list[DeviceResult]:
        return asyncio.run(schedule(devices, self.walk, pool, budget=budget,
                                    clock=lambda: self.time, cpu=lambda: self.cpu))  # fmt: skip


def devices(n: int, deadline: float = 30.0) -> list[Device]:
    return [Device(f"bras{i:02}", Agent(f"bras{i:02}", "192.0.2.1", deadline=deadline),
                   InterfaceMap()) for i in range(n)]  # fmt: skip


def pool_at(cost: float, names: list[str]) -> Pool:
    """A pool that has learned each device costs `cost` CPU seconds."""
    costs = Costs(per_device=cost, per_varbind=1e-9)
    for name in names:
        costs.sized(name, 0, full=0)
    return Pool(costs)


def test_only_as_many_walks_start_as_can_finish_within_their_deadline_the_rest_queue() -> None:
    machine = Machine(cost=3.0)
    polled = devices(10, deadline=30.0)
    pool = pool_at(3.0, [d.name for d in polled])
    results = machine.cycle(polled, pool, budget=None)
    assert [r.device for r in results] == [d.name for d in polled]
    assert all(r.poll is not None for r in results)
    assert machine.most == 5  # 5 x 3 s of CPU is half the 30 s deadline
    assert pool.last is not None and pool.last.queued == 5 and pool.last.answered == 10


def test_what_the_interval_cannot_hold_is_skipped_for_load_and_goes_first_next_cycle() -> None:
    machine = Machine(cost=3.0)
    polled = devices(10)
    pool = pool_at(3.0, [d.name for d in polled])
    results = machine.cycle(polled, pool, budget=13.0)
    answered = [r.device for r in results if r.poll is not None]
    skipped = [r.device for r in results if r.skipped]
    # 13 s hold four walks of 3 s each on one core; none fails, the rest are skipped.
    assert answered == ["bras00", "bras01", "bras02", "bras03"]
    assert skipped == [f"bras{i:02}" for i in range(4, 10)]
    assert not any(r.error for r in results)
    assert pool.behind == skipped and pool.last is not None and pool.last.skipped == skipped

    machine.started.clear()
    machine.cycle(polled, pool, budget=13.0)
    assert machine.started == ["bras04", "bras05", "bras06", "bras07"]
    assert pool.behind == ["bras08", "bras09", "bras00", "bras01", "bras02", "bras03"]


def test_a_device_too_big_for_the_budget_is_still_polled_when_it_is_the_first() -> None:
    machine = Machine(cost=100.0)
    polled = devices(3)
    pool = pool_at(100.0, [d.name for d in polled])
    results = machine.cycle(polled, pool, budget=10.0)
    assert [r.poll is not None for r in results] == [True, False, False]
    assert [r.skipped for r in results] == [False, True, True]


def test_a_cycle_teaches_the_pool_what_a_device_costs() -> None:
    machine = Machine(cost=2.0)
    polled = devices(4)
    pool = pool_at(0.5, [d.name for d in polled])
    machine.cycle(polled, pool, budget=None)
    assert pool.costs.cost("bras00") == pytest.approx(2.0)
    assert pool.last is not None and pool.last.cpu == 8.0


# -- failures by cause, and which count toward backoff (poll_devices with a fake poll) -------

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


def failing(errors: dict[str, Callable[[], SnmpError]]) -> Callable[..., Awaitable[Poll]]:
    """A stand-in for poller.poll: each device raises its error, every time."""

    async def fake_poll(session: Transport, *args: object, **kwargs: object) -> Poll:
        raise errors[session.agent.name]()

    return fake_poll


def no_network(name: str) -> Device:
    # A local table: its transport sends nothing (the fake poll never reads it).
    return Device(name, Agent(name, "192.0.2.1", local=cast(LocalTable, object())), InterfaceMap())


def cycles(polled: list[Device], pool: Pool, count: int) -> list[dict[str, DeviceResult]]:
    """Run `count` cycles over these devices: each cycle's results by device."""
    seen = []
    for _ in range(count):
        results = asyncio.run(poll_devices(Transports(), polled, 1_000.0, lambda _: {}, pool=pool))
        seen.append({r.device: r for r in results})
    return seen


def test_a_failure_is_counted_by_the_cause_it_was_raised_with_not_by_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Names and messages that say "timeout" or "within": the cause decides, not the words.
    errors: dict[str, Callable[[], SnmpError]] = {
        "timeout-lab": lambda: SnmpError("timeout-lab: cannot resolve host 'timeout-lab'"),
        "mute": lambda: SnmpError("mute (192.0.2.1:161): request lost", "timeout"),
        "slow": lambda: SnmpError("slow (192.0.2.1:161): gave up", "deadline"),
        "cut": lambda: WalkCut("cut: walk not finished within 30s", {}, frozenset(), "error"),
    }
    monkeypatch.setattr(cycle, "poll", failing(errors))
    pool = Pool()
    (seen,) = cycles([no_network(name) for name in errors], pool, 1)
    assert {name: r.cause for name, r in seen.items()} == {
        "timeout-lab": "error", "mute": "timeout", "slow": "deadline", "cut": "error"
    }  # fmt: skip
    assert pool.last is not None and pool.last.failed == {n: r.cause for n, r in seen.items()}


def test_a_walk_cut_by_its_deadline_after_rows_came_back_never_backs_off_and_goes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = {IF_NAME: {(1,): "<pppoe-alice>"}}
    errors: dict[str, Callable[[], SnmpError]] = {
        # Silent agents: a timeout, or the deadline before a single row came back.
        "dead": lambda: SnmpError("dead (192.0.2.1:161): no SNMP response", "timeout"),
        "mute": lambda: WalkCut("mute: walk not finished", {IF_NAME: {}}, frozenset(), "deadline"),
        # An agent that answers, too slowly for the deadline (the poller's load).
        "busy": lambda: WalkCut("busy: walk not finished", read, frozenset(), "deadline"),
    }
    monkeypatch.setattr(cycle, "poll", failing(errors))
    polled, pool = [no_network(name) for name in errors], Pool()
    seen = cycles(polled, pool, 5)

    def tried(name: str) -> list[int]:
        return [n for n, results in enumerate(seen) if not results[name].backing_off]

    assert tried("dead") == tried("mute") == [0, 1, 2, 4]  # from the third failure, 1 skipped
    assert tried("busy") == [0, 1, 2, 3, 4]
    assert all(r["busy"].cause == "deadline" and r["busy"].slowed for r in seen)
    assert not any(r[name].slowed for r in seen for name in ("dead", "mute"))
    assert polled[2].backoff.failures == 0
    # Counted as a deadline failure all the same, and polled first in the next cycle.
    assert pool.last is not None and pool.last.failed["busy"] == "deadline"
    assert pool.behind == ["busy"]


def test_before_any_cycle_is_measured_a_cheaper_transport_starts_more_walks_at_once() -> None:
    # The priors: ~1 s of CPU for a mid-size device's first walk through pysnmp, so 14 fit
    # in half a 30 s deadline; ~0.2 s through Net-SNMP, so the 64 in flight are the bound.
    started = {}
    for transport in ("pysnmp", "netsnmp"):
        polled = devices(100)
        for device in polled:
            device.agent = replace(device.agent, transport=transport)
        machine = Machine(cost=0.01)
        machine.cycle(polled, Pool(), budget=None)
        started[transport] = machine.most
    assert started == {"pysnmp": 14, "netsnmp": 64}
