"""One polling cycle over every access server: SNMP in, charges per subscriber out.

What `poll --once` shows and what the daemon commits each interval. It takes plain settings
(Device, built from the configuration by nmsquota.daemon.devices) and baselines from the
caller, and returns results; it knows neither the configuration file nor the ledger.

A device that does not answer is reported in its result and keeps every baseline; it never
holds up the others, because each walk is bounded by its agent's deadline and the devices are
polled concurrently. One that keeps failing is tried only now and then (snmp/backoff.py),
and reported "backing off" in the cycles it sits out. One whose walk its deadline cut after
its agent had answered is slow, not dead: it does not count toward backoff, keeps what its
first walk read (or its memory), and goes first in the next cycle, as a device skipped for
load does.

Concurrently, but no more than the machine can do: every varbind is decoded in this one
process, so walks in flight share one core and slow down together. Started all at once, 40
walks of 501 interfaces each reached their 30 s deadline at the same moment and every one
failed (issue 27). So a walk starts only while the CPU of the walks in flight, at the cost
learned from the cycles already run (capacity.py), lets it finish within its deadline; the
rest wait in a queue, and a deadline runs from when its own walk starts. When the cycle's
budget (most of the interval) cannot hold every device, those that do not fit are skipped
for load, not failed: they keep their baselines, so their next poll charges the whole gap,
and they are polled first in the next cycle.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from nmsquota.attribution import Attribution, Direction, InterfaceMap, SessionKey, attribute
from nmsquota.counters import Reading
from nmsquota.snmp.backoff import Backoff, counts
from nmsquota.snmp.capacity import MIN_PACE, Costs, Observation
from nmsquota.snmp.poller import PollCut, poll
from nmsquota.snmp.profile import Profile
from nmsquota.snmp.profiles import profile_of
from nmsquota.snmp.tables import Memory, Partial, Poll
from nmsquota.snmp.transport import Opener
from nmsquota.snmp.walk import Agent, SnmpError
from nmsquota.snmp.walk import Cause as SnmpCause

MAX_DEVICES_IN_FLIGHT = 64
"""Each device has one request in flight at a time, so this bounds the requests in flight:
1,000 at once overflowed the UDP receive buffer and lost replies (FIELD-NOTES). Within it,
what the machine can do decides (admit)."""

PACE_AFTER = 0.5
"""Seconds into a cycle after which its own pace is trusted over the last cycles'."""

DEADLINE_SHARE = 0.5
"""The walks in flight may hold at most this share of a deadline in CPU: room for the
estimate's error and for the agents' own latency, which the CPU cost does not see."""

Cause = Literal[SnmpCause, "load", "backoff"]
"""Why a device was not read: the SnmpError's own cause (walk.Cause: its agent did not
answer, timeout; its walk did not finish within its deadline; anything else, error); it was
skipped because the interval could not hold it (load: not the device's fault); or it failed
so many cycles in a row that it sits this one out (backoff: snmp/backoff.py)."""


@dataclass
class Device:
    """One access server as the poller sees it, with what it remembers between cycles."""

    name: str
    agent: Agent
    mapping: InterfaceMap
    source: str | Profile = "if-mib"
    """The profile it is polled with, or the name of a built-in one."""
    download: Direction = "out"
    speed_override_bps: int | None = None
    identity_refresh: float = 3600.0
    learn_addresses: str = "off"
    memory: Memory | None = field(default=None, repr=False)
    pins: dict[int, str] = field(default_factory=dict)
    """ifIndex -> the name its ifindex mapping entry was first mapped with (kept by the
    caller across restarts: the daemon, in the device's ledger record)."""
    partial: Partial | None = field(default=None, repr=False)
    """What its last walk read before it failed, for the next to go on from."""
    backoff: Backoff = field(default_factory=Backoff, repr=False)

    @property
    def profile(self) -> Profile:
        """What `source` names: the profile it is polled with."""
        return profile_of(self.source)


@dataclass
class DeviceResult:
    """What one cycle saw on one device: its poll and charges, or why it could not be read."""

    device: str
    poll: Poll | None = None
    attribution: Attribution | None = None
    error: str | None = None
    seconds: float = 0.0
    backing_off: bool = False
    """Not polled this cycle: it failed too often in a row (snmp/backoff.py); `error` says."""
    cause: Cause | None = None
    """Why it was not read (None: it was)."""
    slowed: bool = False
    """Its walk was cut by its deadline after its agent had answered rows: slow (most
    likely the poller's own load), not dead. Counted as a deadline failure; not counted
    toward backoff, and polled first next cycle (snmp/backoff.py says why)."""

    @property
    def skipped(self) -> bool:
        """Not polled this cycle: the interval could not hold it (its baselines stay)."""
        return self.cause == "load"


@dataclass
class Load:
    """What one cycle's poll cost the machine, and how its walks were scheduled."""

    cpu: float = 0.0
    """CPU seconds the poll took (time.process_time)."""
    seconds: float = 0.0
    queued: int = 0
    """Walks that waited for others to finish before they could start."""
    most_in_flight: int = 0
    answered: int = 0
    varbinds: int = 0
    """Varbinds the devices that answered read."""
    skipped: list[str] = field(default_factory=list)
    """Devices skipped for load, in the order they will be polled next cycle."""
    failed: dict[str, Cause] = field(default_factory=dict)
    """Devices that did not answer, and why."""
    per_device: float = 0.0
    """CPU seconds a device of the typical size costs, as measured so far."""
    pace: float = 1.0
    """CPU seconds the poll got per second (less than 1: other processes were busy)."""


@dataclass
class Pool:
    """What the scheduler carries from one cycle to the next: the costs it has learned, and
    the devices skipped for load or slowed (DeviceResult.slowed), which go first next time."""

    costs: Costs = field(default_factory=Costs)
    behind: list[str] = field(default_factory=list)
    last: Load | None = None

    def fits(self, seconds: float) -> int:
        """How many devices of the typical size `seconds` can poll at the measured cost."""
        return self.costs.fits(seconds)


Decision = Literal["start", "wait", "skip"]


def admit(cost: float, in_flight: Sequence[float], remaining: float, deadline: float,
          elapsed: float, budget: float | None, started: int) -> Decision:  # fmt: skip
    """Whether the walk at the head of the queue starts now, waits, or is skipped.

    `cost`: the seconds it is expected to take on the machine to itself; `in_flight`: the
    same of each walk running; `remaining`: what is left of theirs; `elapsed`:
    seconds since the cycle began; `budget`: the seconds the cycle may poll for (None: no
    limit); `started`: walks started this cycle.

    The first walk always starts, so no cycle polls nothing. After it, a walk that the
    running walks would slow past its deadline waits for them; so does one expected to end
    after the budget, until none runs: then it is skipped (the running walks' CPU is an
    estimate, and what they really took decides, not what they were expected to take)."""
    if started == 0:
        return "start"
    if budget is not None and elapsed + remaining + cost > budget:
        return "wait" if in_flight else "skip"
    if in_flight and sum(in_flight) + cost > DEADLINE_SHARE * deadline:
        return "wait"
    return "start"


async def poll_devices(
    transports: Opener,
    devices: Sequence[Device],
    now: float,
    baselines: Callable[[str], Mapping[SessionKey, Reading]] | None,
    *,
    in_flight: int = MAX_DEVICES_IN_FLIGHT,
    pool: Pool | None = None,
    budget: float | None = None,
) -> list[DeviceResult]:
    """Poll every device once, as many at a time as the machine can finish within their
    deadlines, and charge each against `baselines(device)`. With a `budget` (seconds), the
    devices that do not fit in it are skipped for load (their result says so). `pool`
    carries the costs learned and the skipped devices from cycle to cycle; its `last` is
    this cycle's Load.

    `transports` opens each device's transport (connect.Transports, one per event loop).
    With `baselines` None nothing is charged (a poll worker's, workers.py: the process
    holding the ledger's baselines charges each result with `charge`).
    Updates each device's memory; the caller stores the new baselines (`attribution.
    baselines`) of the devices that answered, and keeps the old ones of the others.
    """

    async def one(device: Device) -> DeviceResult:
        return await _poll_device(transports, device, now, baselines)

    # A device backing off (snmp/backoff.py) sits this cycle out before the scheduler sees
    # it: it takes no slot and no share of the budget, and its cost is not learned.
    resting = {d.name: DeviceResult(d.name, error=d.backoff.skipped(d.name), backing_off=True,
                                    cause="backoff")
               for d in devices if not d.backoff.take_turn()}  # fmt: skip
    polled = await schedule([d for d in devices if d.name not in resting], one,
                            pool if pool is not None else Pool(), in_flight=in_flight,
                            budget=budget, idle=machine_idle)  # fmt: skip
    found = {r.device: r for r in polled} | resting
    return [found[d.name] for d in devices]


def machine_idle() -> float:
    """Core-seconds every core of this machine has stood idle since boot (Linux's
    /proc/stat); 0 where it cannot be read, which takes the poll's pace as its CPU alone."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


async def schedule(
    devices: Sequence[Device],
    run: Callable[[Device], Awaitable[DeviceResult]],
    pool: Pool,
    *,
    in_flight: int = MAX_DEVICES_IN_FLIGHT,
    budget: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    cpu: Callable[[], float] = time.process_time,
    idle: Callable[[], float] = lambda: 0.0,
) -> list[DeviceResult]:
    """Run `run` for every device, admitted by `admit`; the results in the devices' order.
    The devices `pool` says were skipped last cycle go first; what this cycle cost is
    learned into `pool.costs` and kept as `pool.last`."""
    behind = {name: n for n, name in enumerate(pool.behind)}
    order = sorted(devices, key=lambda d: behind.get(d.name, len(behind)))
    queue = deque(order)
    costs, load = pool.costs, Load()
    costs.assume(d.agent.transport for d in devices)
    results: dict[str, DeviceResult] = {}
    running: dict[asyncio.Future[DeviceResult], tuple[Device, float, bool, float]] = {}
    began, spent_before, idle_before = clock(), cpu(), idle()
    committed = 0.0  # the CPU every walk started was expected to take
    finished = 0.0  # of those that ended
    read = 0  # varbinds the devices that answered read
    started = 0
    first_pass = True
    while queue or running:
        spent = cpu() - spent_before
        # When this cycle's walks take more CPU than expected, every walk is taken to cost
        # that much more (never less: the fit at the end says that). The CPU of the walks
        # still running counts against those done, so this errs on the safe side.
        more = max(1.0, spent / finished) if finished > 0 else 1.0
        # Costs are CPU; deadlines and the budget are seconds, which a busy machine
        # stretches: this cycle's pace once it has run a while, else the last cycles'.
        elapsed, pace = clock() - began, costs.pace
        if elapsed > PACE_AFTER:
            pace = min(1.0, max(MIN_PACE, (spent + idle() - idle_before) / elapsed))
        # What the running walks have left, in seconds.
        remaining = max(0.0, committed * more - spent) / pace if running else 0.0
        while queue and len(running) < in_flight:
            device = queue[0]
            whole = device.memory is None
            expected = costs.cost(device.name, whole)
            seconds = expected * more / pace
            decision = admit(seconds, [s for _, _, _, s in running.values()], remaining,
                             device.agent.deadline, elapsed, budget, started)  # fmt: skip
            if decision == "wait":
                break
            queue.popleft()
            if decision == "skip":
                results[device.name] = DeviceResult(device.name, cause="load")
                continue
            running[asyncio.ensure_future(run(device))] = (device, expected, whole, seconds)
            committed += expected
            remaining += seconds
            started += 1
        if first_pass:
            load.queued, first_pass = len(queue), False
        load.most_in_flight = max(load.most_in_flight, len(running))
        if not running:
            break
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            device, expected, whole, _ = running.pop(task)
            finished += expected
            result = results[device.name] = task.result()
            if result.poll is not None and result.poll.memory is not None:
                each, full = poll_size(result.poll.memory)
                costs.sized(device.name, each, full)
                read += full if whole else each
    load.cpu, load.seconds = cpu() - spent_before, clock() - began
    costs.paced(load.cpu, idle() - idle_before, load.seconds)
    load.pace = costs.pace
    ordered = [results[d.name] for d in devices]
    answered = [r for r in ordered if r.poll is not None]
    load.answered, load.varbinds = len(answered), read
    load.skipped = [d.name for d in order if results[d.name].skipped]
    load.failed = {r.device: r.cause or "error" for r in ordered if r.error is not None}
    costs.learn(Observation(len(answered), read, load.cpu))
    load.per_device = costs.per_device + costs.per_varbind * costs.typical
    # The walks their deadline cut while their agents answered go first next cycle too:
    # they go on from what they read, and this cycle's load was what cut them.
    pool.behind = [d.name for d in order if results[d.name].skipped or results[d.name].slowed]
    pool.last = load
    return ordered


def poll_size(memory: Memory) -> tuple[int, int]:
    """What the next poll of a device with this memory reads (its counters and watched
    columns for each row, and the three scalars), and what a whole walk of it reads."""
    rows = len(memory.indexes)
    each = rows * (len(memory.counters) + len(memory.watch)) + 3
    whole = rows * (len(memory.counters) + len(memory.identity)) + 3
    return each, whole


async def _poll_device(
    transports: Opener,
    device: Device,
    now: float,
    baselines: Callable[[str], Mapping[SessionKey, Reading]] | None,
) -> DeviceResult:
    result = DeviceResult(device.name)
    started = time.perf_counter()
    try:
        async with await transports.open(device.agent) as transport:
            seen = await poll(
                transport,
                device.mapping,
                now,
                device.source,
                memory=device.memory,
                refresh=device.identity_refresh,
                routes=device.learn_addresses,
                pins=device.pins,
                partial=device.partial,
            )
    except SnmpError as error:
        # Its memory stays: the next poll checks it as every poll does (poller.py), and
        # what a cut first walk read is gone on from.
        if isinstance(error, PollCut):
            device.partial = error.partial
        result.error, result.cause = str(error), error.cause
        if counts(error.cause, error.rows_read):
            device.backoff.failed(result.error)
        else:
            result.slowed = True
        result.seconds = time.perf_counter() - started
        return result
    device.memory, device.partial = seen.memory, None
    device.backoff.answered()
    device.pins = seen.assignment.pins
    result.poll = seen
    if baselines is not None:
        result.attribution = charge(device, seen, now, baselines)
    result.seconds = time.perf_counter() - started
    return result


def charge(
    device: Device,
    seen: Poll,
    now: float,
    baselines: Callable[[str], Mapping[SessionKey, Reading]],
) -> Attribution:
    """What a device's poll charges whom, against the baselines the caller holds."""
    return attribute(
        baselines(device.name),
        seen.readings,
        int(now),
        download=device.download,
        speed_override_bps=device.speed_override_bps,
        origins=seen.origins,
    )
