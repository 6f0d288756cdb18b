"""One cycle's poll spread over worker processes, when one core cannot decode it all.

The poller decodes every varbind in its own process (pysnmp's BER decoding, ~190 ms of CPU
per 1,000 varbinds): 40 agents of 501 interfaces saturate one core, and the machine has
more. `Spread.poll` is poll_devices (cycle.py) over several processes: each worker runs the
same scheduler (schedule/admit, its deadlines and the cycle's budget) on its share of the
devices, in its own event loop with its own transports, and the results come back in the
devices' order, as the in-process poll gives them.

What crosses the process boundary, and why this way: each cycle the parent sends each worker
its devices whole (settings, memory, partial walk, backoff, pins) with a Pool built from the
parent's learned costs, and the worker sends back its results and each device's new state.
The parent keeps every piece of state, so a worker is stateless between cycles: one that
dies loses nothing but its cycle, a device may move to another worker for free, and "auto"
can return to polling in-process at any cycle. Keeping the state sticky in the workers would
save only the way in: the way back is needed anyway (the parent charges the readings, and
its targeted looks and the ledger's pins read each device's memory). Measured on this
machine, 200 devices x 500 rows (LocalTransport-made memories, protocol 5): the way in is
5.7 MB (0.27 s to pickle, 0.14 s to unpickle), the way back 16.6 MB (1.8 s and 2.0 s),
of which the devices' state adds nothing (it is the polls' own memory, pickled once);
pysnmp takes ~76 s of CPU to decode that cycle, so the crossing costs ~5% of what it spreads.

The charging stays in the parent, which holds the ledger's baselines: a worker's results
carry the poll, and the parent attributes each with cycle.charge, the very function the
in-process poll uses, so the charges are the same to the byte. The daemon's targeted looks
(poller.poll_keys, a few GETs for one subscriber) and its traps stay in the parent, on its
own engine: each device's memory is back there after every cycle.

A worker is a process of the 'forkserver' context: the daemon runs threads (the site, the
snapshots), after which fork is unsafe; the fork server is a fresh single-threaded process.
Devices read in-process (the simulator's LocalTransport, Agent.local) cannot cross a
process and are polled in the parent, beside the workers. As with any 'spawn' or
'forkserver' process, a worker first runs the parent's main script as a module: a script
that polls with workers keeps its work under `if __name__ == "__main__":` (the nmsquota
command does). A worker that dies mid-cycle (or
does not answer by the cycle's bound: its budget, its longest deadline, and STARTUP) has
its devices reported failed, "poll worker N died", with their state and baselines as they
were; the others' results stand, and the next cycle starts a new one. Each worker's dead
agents cost only that worker's walks their own deadlines, as in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess
from typing import Literal

from nmsquota.attribution import SessionKey
from nmsquota.counters import Reading
from nmsquota.snmp.backoff import Backoff
from nmsquota.snmp.capacity import Costs, Observation
from nmsquota.snmp.cycle import (
    MAX_DEVICES_IN_FLIGHT,
    Device,
    DeviceResult,
    Load,
    Pool,
    charge,
    poll_devices,
    poll_size,
)
from nmsquota.snmp.tables import Memory, Partial
from nmsquota.snmp.transport import Opener

Workers = int | Literal["auto"]
"""How many processes poll: a number (1: in-process, as before there were workers), or
"auto" (see Spread)."""

SATURATED = 0.85
"""A cycle whose poll took this much CPU per second of its wall time, while devices waited
for a slot or were skipped for load, had one core to itself and wanted more."""
RELAXED = 0.5
"""Spread over workers, a cycle whose poll took less than this share of one core (summed
over the workers), with nothing queued or skipped, fits in one process again."""
TOLERANCE = 0.25
"""How far (of the mean) the heaviest worker's expected CPU may be above the lightest's
before a device moves from one to the other: below it, every device stays where it was."""
STARTUP = 10.0
"""Seconds a worker may take beyond its budget and its longest deadline: a new one imports
the SNMP library, and the results cross back through a pipe."""
STOP_WAIT = 2.0
"""Seconds a stopped worker has to exit on its own before it is killed."""


def saturated(load: Load) -> bool:
    """Whether this in-process cycle had one core saturated: its poll's CPU close to its
    wall seconds, and devices waited or were skipped for load."""
    busy = load.seconds > 0 and load.cpu >= SATURATED * load.seconds
    return busy and (load.queued > 0 or bool(load.skipped))


def relaxed(load: Load) -> bool:
    """Whether a spread cycle's poll would fit one process with room to spare."""
    return load.cpu < RELAXED * load.seconds and load.queued == 0 and not load.skipped


@dataclass
class Job:
    """One cycle's share, sent to a worker."""

    devices: list[Device]
    now: float
    pool: Pool
    budget: float | None
    in_flight: int


State = tuple[Memory | None, Partial | None, Backoff, dict[int, str]]


@dataclass
class Reply:
    """What a worker's cycle gave: the results (not charged), each device's new state in
    the job's order, and the pool its scheduler left (its Load in `pool.last`)."""

    results: list[DeviceResult]
    states: list[State]
    pool: Pool


def serve(conn: Connection, opener: Callable[[], Opener]) -> None:
    """A worker's life: one event loop, one set of transports (`opener()`: the parent's
    kind, connect.Transports, with an engine of its own), a job at a time until told to
    stop (an empty message) or the parent is gone (its end of the pipe closed)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C is the daemon's, which stops us
    transports = opener()
    with asyncio.Runner() as runner:
        while True:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                return
            if not data:
                return
            job = pickle.loads(data)
            results = runner.run(poll_devices(transports, job.devices, job.now, None,
                                              pool=job.pool, budget=job.budget,
                                              in_flight=job.in_flight))  # fmt: skip
            states = [(d.memory, d.partial, d.backoff, d.pins) for d in job.devices]
            conn.send(Reply(results, states, job.pool))


class Worker:
    """One poll worker process, numbered from 1, and its end of the pipe."""

    def __init__(self, number: int, opener: Callable[[], Opener]) -> None:
        self.number = number
        context = multiprocessing.get_context("forkserver")
        # Imported once in the fork server (where it starts after this), not in each
        # worker: a worker started after one died polls at once.
        context.set_forkserver_preload([__name__, opener.__module__])
        self.conn, theirs = context.Pipe()
        self.process: ForkServerProcess = context.Process(
            target=serve, args=(theirs, opener), name=f"nmsquota poll worker {number}", daemon=True
        )
        self.process.start()
        theirs.close()  # so that our end reads EOF when the worker dies
        self.overdue = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def exchange(self, job: bytes, bound: float) -> Reply | str:
        """Send the (pickled) job and wait for its reply, at most `bound` seconds (then the
        worker is killed): the reply, or why there is none. Blocking: run it in a thread."""
        self.overdue = False
        timer = threading.Timer(bound, self._overrun)
        timer.daemon = True
        timer.start()
        try:
            self.conn.send_bytes(job)
            reply = self.conn.recv()
        except (EOFError, OSError):
            reply = None
        finally:
            timer.cancel()
        if isinstance(reply, Reply):
            return reply
        self.process.join(STOP_WAIT)
        if self.overdue:
            return f"poll worker {self.number} did not answer within {bound:.0f}s"
        return f"poll worker {self.number} died{_how(self.process.exitcode)}"

    def _overrun(self) -> None:
        self.overdue = True
        self.kill()

    def kill(self) -> None:
        if self.process.pid is not None and self.process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Ask the worker to exit, kill it if it does not, and reap it (no zombie)."""
        with contextlib.suppress(OSError):
            self.conn.send_bytes(b"")  # stop
        self.process.join(STOP_WAIT)
        if self.process.exitcode is None:
            self.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return ""
    if exitcode < 0:
        try:
            return f" (killed by {signal.Signals(-exitcode).name})"
        except ValueError:
            return f" (killed by signal {-exitcode})"
    return f" (exit status {exitcode})"


@dataclass
class Spread:
    """Polls each cycle in-process or across worker processes, as `workers` says: a number
    (1 in-process), or "auto": in-process while a cycle's poll fits one core, and over up
    to os.cpu_count() workers from the cycle after one saturates it (`saturated`), back
    in-process once a spread cycle would fit one core with room to spare (`relaxed`)."""

    workers: Workers = 1
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    spreading: bool = False
    """Under "auto": whether the last cycle said to spread."""
    running: dict[int, Worker] = field(default_factory=dict)
    """Slot (0, 1, ...) -> its worker process."""
    assigned: dict[str, int] = field(default_factory=dict)
    """Device -> the slot of the worker that polls it: kept while the shares stay balanced."""
    paces: dict[int, float] = field(default_factory=dict)
    """Slot -> the share of a core its worker got in its last cycle."""
    spread_paces: list[float] = field(default_factory=list)
    """The share of a core each process that polled got in the last cycle, if it was
    spread (empty: it polled in-process)."""

    def wanted(self) -> int:
        """How many worker processes the next cycle polls with (1: in-process)."""
        if self.workers == "auto":
            return max(1, self.cpus) if self.spreading else 1
        return self.workers

    def configure(self, workers: int | str) -> None:
        """A (re)loaded configuration's `poll_workers` (checked there: "auto" or a number):
        workers beyond the new count are stopped now."""
        self.workers = "auto" if workers == "auto" else int(workers)
        self.spreading = False if workers != "auto" else self.spreading
        wanted = self.wanted()
        self._keep(wanted if wanted > 1 else 0)

    def close(self) -> None:
        """Stop every worker (the daemon's stop)."""
        self._keep(0)

    def _keep(self, count: int) -> None:
        for slot in sorted(self.running):
            if slot >= count:
                self.running.pop(slot).stop()
        self.assigned = {name: slot for name, slot in self.assigned.items() if slot < count}

    def _worker(self, slot: int, opener: Callable[[], Opener]) -> Worker:
        """The slot's worker: a new one if it never ran or died."""
        worker = self.running.get(slot)
        if worker is not None and not worker.alive():
            worker.stop()
            worker = None
        if worker is None:
            worker = self.running[slot] = Worker(slot + 1, opener)
        return worker

    async def poll(
        self,
        transports: Opener,
        devices: Sequence[Device],
        now: float,
        baselines: Callable[[str], Mapping[SessionKey, Reading]],
        *,
        pool: Pool,
        budget: float | None = None,
        in_flight: int = MAX_DEVICES_IN_FLIGHT,
    ) -> list[DeviceResult]:
        """poll_devices, over as many processes as `wanted` says: the same results in the
        devices' order, each charged against `baselines`, each device's state updated, and
        `pool.last` the sum of every process's Load. A worker opens its transports with a
        new `type(transports)` (connect.Transports: an engine of its own)."""
        count = self.wanted()
        remote = [d for d in devices if d.agent.local is None]
        if count <= 1 or not remote:
            self._keep(0)
            self.spread_paces = []
            results = await poll_devices(transports, devices, now, baselines, pool=pool,
                                         budget=budget, in_flight=in_flight)  # fmt: skip
        else:
            results = await self._spread(transports, devices, remote, count, now, baselines,
                                         pool, budget, in_flight)  # fmt: skip
        if pool.last is not None:
            self.observe(pool.last)
        return results

    def observe(self, load: Load) -> None:
        """Take a cycle's Load: under "auto", whether the next cycle spreads."""
        if self.workers == "auto":
            self.spreading = not relaxed(load) if self.spreading else saturated(load)

    async def _spread(
        self,
        transports: Opener,
        devices: Sequence[Device],
        remote: list[Device],
        count: int,
        now: float,
        baselines: Callable[[str], Mapping[SessionKey, Reading]],
        pool: Pool,
        budget: float | None,
        in_flight: int,
    ) -> list[DeviceResult]:
        began = time.monotonic()
        self._keep(count)
        shares = balance(remote, pool.costs, count, self.assigned)
        local = [d for d in devices if d.agent.local is not None]
        parts: list[asyncio.Future[tuple[list[DeviceResult], Pool]]] = []
        for slot, share in enumerate(shares):
            if share:
                # The budget runs from the cycle's start, not the worker's.
                left = None if budget is None else budget - (time.monotonic() - began)
                job = Job(share, now, self._pool_for(pool, slot), left, in_flight)
                parts.append(asyncio.ensure_future(self._remote(slot, job, type(transports))))
        if local:
            parts.append(asyncio.ensure_future(self._local(transports, local, now, baselines,
                                                           pool, budget, in_flight)))  # fmt: skip
        done = await asyncio.gather(*parts)
        found = {r.device: r for results, _ in done for r in results}
        by_name = {d.name: d for d in devices}
        for result in found.values():
            if result.poll is not None and result.attribution is None:
                result.attribution = charge(by_name[result.device], result.poll, now, baselines)
        ordered = [found[d.name] for d in devices]
        pools = [p for _, p in done]
        self.spread_paces = [p.costs.pace for p in pools if p.last is not None and p.last.answered]
        _merge(pool, ordered, pools, self.spread_paces, time.monotonic() - began)
        return ordered

    def fits(self, pool: Pool, seconds: float) -> int:
        """How many devices of the typical size `seconds` can poll (Pool.fits): in a spread
        cycle, what each process polls at the pace it got, summed."""
        if not self.spread_paces:
            return pool.fits(seconds)
        each = copy.copy(pool.costs)
        total = 0
        for pace in self.spread_paces:
            each.pace = pace
            total += each.fits(seconds)
        return total

    def _pool_for(self, pool: Pool, slot: int) -> Pool:
        """A worker's scheduler: the costs learned so far (at its own pace), and who goes
        first. What it learns comes back and is merged (_merge)."""
        costs = copy.deepcopy(pool.costs)
        costs.pace = self.paces.get(slot, costs.pace)
        return Pool(costs=costs, behind=list(pool.behind))

    async def _remote(self, slot: int, job: Job, opener: Callable[[], Opener]
                      ) -> tuple[list[DeviceResult], Pool]:  # fmt: skip
        worker = self._worker(slot, opener)
        deadline = max(d.agent.deadline for d in job.devices)
        waves = math.ceil(len(job.devices) / max(1, job.in_flight))
        polling = job.budget if job.budget is not None else deadline * waves
        # Pickled here, in the event loop's thread: nothing changes the devices (their
        # mappings' session names) while it is read.
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        reply = await asyncio.to_thread(worker.exchange, payload, polling + deadline + STARTUP)
        if isinstance(reply, str):
            # Its devices keep the state (and the caller their baselines) they had.
            failed = [DeviceResult(d.name, error=f"{d.name}: {reply}", cause="error")
                      for d in job.devices]  # fmt: skip
            self.running.pop(slot).stop()
            return failed, Pool(last=Load(failed={d.name: "error" for d in job.devices}))
        for device, (memory, partial, backoff, pins) in zip(job.devices, reply.states,
                                                            strict=True):  # fmt: skip
            device.memory, device.partial, device.backoff, device.pins = (
                memory, partial, backoff, pins)  # fmt: skip
        self.paces[slot] = reply.pool.costs.pace
        return reply.results, reply.pool

    async def _local(
        self,
        transports: Opener,
        local: list[Device],
        now: float,
        baselines: Callable[[str], Mapping[SessionKey, Reading]],
        pool: Pool,
        budget: float | None,
        in_flight: int,
    ) -> tuple[list[DeviceResult], Pool]:
        own = self._pool_for(pool, -1)
        results = await poll_devices(transports, local, now, baselines, pool=own,
                                     budget=budget, in_flight=in_flight)  # fmt: skip
        self.paces[-1] = own.costs.pace
        return results, own

    def pids(self) -> list[int]:
        """The worker processes running (for status and tests)."""
        return [w.pid for w in self.running.values() if w.pid is not None]


def balance(
    devices: Sequence[Device], costs: Costs, count: int, assigned: dict[str, int]
) -> list[list[Device]]:
    """The devices in `count` shares of about the same expected CPU, each in the devices'
    order. A device stays in its share (`assigned`, updated here) unless the heaviest share
    outweighs the lightest by more than TOLERANCE of the mean; new devices go, heaviest
    first, to the lightest share."""
    names = {d.name for d in devices}
    for name in [n for n, slot in assigned.items() if n not in names or slot >= count]:
        del assigned[name]
    cost = {d.name: costs.cost(d.name, d.memory is None) for d in devices}
    loads = [0.0] * count
    for name, slot in assigned.items():
        loads[slot] += cost[name]
    for device in sorted((d for d in devices if d.name not in assigned),
                         key=lambda d: -cost[d.name]):  # fmt: skip
        slot = loads.index(min(loads))
        assigned[device.name], loads[slot] = slot, loads[slot] + cost[device.name]
    mean = sum(loads) / count
    for _ in range(len(devices)):
        heavy, light = loads.index(max(loads)), loads.index(min(loads))
        gap = loads[heavy] - loads[light]
        if gap <= TOLERANCE * mean:
            break
        movable = [n for n, s in assigned.items() if s == heavy and 0 < cost[n] < gap]
        if not movable:
            break
        name = min(movable, key=lambda n: abs(cost[n] - gap / 2))
        assigned[name] = light
        loads[heavy], loads[light] = loads[heavy] - cost[name], loads[light] + cost[name]
    return [[d for d in devices if assigned[d.name] == slot] for slot in range(count)]


def _merge(pool: Pool, results: list[DeviceResult], parts: list[Pool], paces: list[float],
           seconds: float) -> None:  # fmt: skip
    """Fold the processes' cycles into the caller's pool: each device's size, one fit of
    the summed CPU, who goes first next time, and the cycle's Load as their sum. `paces`:
    the share of a core each process that answered got."""
    loads = [p.last for p in parts if p.last is not None]
    load = Load(seconds=seconds)
    for part in loads:
        load.cpu += part.cpu
        load.queued += part.queued
        load.most_in_flight += part.most_in_flight
        load.answered += part.answered
        load.varbinds += part.varbinds
        load.failed.update(part.failed)
    for result in results:
        if result.poll is not None and result.poll.memory is not None:
            pool.costs.sized(result.device, *poll_size(result.poll.memory))
    skipped = {r.device for r in results if r.skipped}
    behind = [name for part in parts for name in part.behind]
    load.skipped = [name for name in behind if name in skipped]
    pool.behind = behind
    pool.costs.learn(Observation(load.answered, load.varbinds, load.cpu))
    if paces:  # the slowest process's: an in-process cycle after this one errs on the safe side
        pool.costs.pace = min(paces)
    load.pace = pool.costs.pace
    load.per_device = pool.costs.per_device + pool.costs.per_varbind * pool.costs.typical
    pool.last = load
