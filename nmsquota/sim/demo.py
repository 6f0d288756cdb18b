"""The whole system on a simulated access server: the demo's engine.

A World of subscribers (nmsquota.sim.world) behind an in-process SNMP agent on loopback;
the real daemon polls it over SNMP, records in a real ledger, decides with the real policy
and enforces through the `sim` driver, which slows a limited subscriber's traffic in the
World. The clock is simulated: a ManualClock runs as fast as the machine allows, an
AcceleratedClock at a chosen number of simulated seconds per second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from nmsquota.clock import AcceleratedClock, Clock
from nmsquota.config import load_config
from nmsquota.daemon.core import Daemon
from nmsquota.daemon.report import CycleReport
from nmsquota.ledger import Ledger
from nmsquota.policy import Decision
from nmsquota.sim.agent import start_agent
from nmsquota.sim.driver import SimDriver
from nmsquota.sim.replay import Replay
from nmsquota.sim.world import BIGGEST, DAY, MB, Profile, World
from nmsquota.usage import Sample

START = 997_626_600.0  # Monday 13 August 2001, 00:00 in Adelaide: the paper's month
TIMEZONE = "Australia/Adelaide"

CONFIG = """\
# Written by `nmsquota demo`: the paper's plan, 63 MB a week, then 3 kbit/s; released
# below 90% of the cap (hysteresis), so nobody flaps at the boundary.
timezone = "{timezone}"
interval = "{interval}"
data_dir = "{ledger}"
projection = {projection}
[plans.paper]
{caps}
[access_servers.sim]
host = "127.0.0.1"
port = {port}
transport = "{transport}"
match = [{{ field = "ifName", pattern = "<pppoe-(?P<user>.+)>" }}]
{subscribers}
"""


WEEKLY = """\
cap = "{cap}"
window = "{window}"
limit = {{ rate = "{rate}", queue = "10KB" }}
{hysteresis}
warn_at = ["80%"]
"""

DAILY = """\
# A daily cap before the paper's weekly one: a heavy day slows a subscriber first.
[[plans.paper.caps]]
cap = "{cap}"
window = "1d"
limit = {{ rate = "{rate}", queue = "10KB" }}
[[plans.paper.caps]]
"""


@dataclass
class Day:
    number: int
    total: float = 0.0
    per_subscriber: dict[str, float] = field(default_factory=dict)
    limited: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Scenario:
    """What is simulated: the plan, the population and whether to start from a history."""

    cap: str = "63MB"
    window: str = "7d"
    rate: str = "3kbit"
    hysteresis: str | None = "10%"
    population: dict[Profile, int] | None = None
    projection: bool = True
    interval: str = "5m"
    replay: Replay | None = None
    """A recorded ledger's usage instead of the simulated population (nmsquota.sim.replay)."""
    snmp: bool = True
    """Poll over SNMP on loopback; False reads the agent's table in-process (the bypass that
    measures everything but the SNMP hop)."""
    transport: str = "pysnmp"
    """The library the daemon polls the agent with (`transport` of the access server)."""
    before_days: int = 0
    """Days at the start with no limiting at all (the simulator's "before")."""
    history: bool = True
    """Start from last week's usage, with the biggest user away most of the week (the
    demo's story); without it, everyone starts from nothing (the simulator)."""
    daily: tuple[str, str] | None = ("20MB", "32kbit")
    """A daily cap before the paper's, (cap, rate): a heavy day slows a subscriber before
    the week's cap does. None: the paper's one cap."""


@dataclass(frozen=True)
class Change:
    """A subscriber limited, moved to another limit, or released, as the daemon told it."""

    when: float
    subscriber: str
    event: str
    rate_bps: int
    cap_name: str
    """The cap whose limit applies ("1d", "7d"); empty for the paper's one cap."""
    caps_over: tuple[str, ...] = ()
    """Every cap of the plan whose limit was in force at this change, the strictest or not."""


@dataclass
class Result:
    days: list[Day]
    events: list[tuple[float, str, str]]
    world: World
    config: Path
    changes: list[Change]
    ledger: Path
    cycles: int
    looks: int
    skipped: int = 0
    """Cycles the daemon skipped: the machine did not keep up with the clock."""


BEHIND = 1 / 20
"""The share of the cycles due that, skipped, means the machine does not keep up with the
clock. A slot lost now and then (another process on the CPU, a slow disk write) delays one
decision by an interval; a machine too slow for the speed loses them steadily."""
SETTLING = 12
"""Cycles due before the share is judged (an hour at the demo's 5-minute interval)."""


def falls_behind(cycles: int, skipped: int) -> bool:
    """Whether `skipped` cycles of the `cycles + skipped` due so far say the machine does
    not keep up with the demo's clock."""
    due = cycles + skipped
    return due >= SETTLING and skipped > BEHIND * due


async def run_demo(
    directory: Path,
    days: float,
    clock: Clock,
    seed: int = 2001,
    on_cycle: Callable[[World, CycleReport], None] | None = None,
    stop: asyncio.Event | None = None,
    scenario: Scenario = Scenario(),
) -> Result:
    """Run the simulated access server and the daemon for `days` of simulated time."""
    directory.mkdir(parents=True, exist_ok=True)
    # The demo's biggest user is away most of the week: the window then rolls below the cap
    # and the limit lifts, until he is back at full speed.
    away = {"biguser": frozenset({1, 2, 3, 4, 5})} if scenario.history else {}
    replay = scenario.replay
    start = replay.start if replay is not None else START
    world = World(start, int(days) + 2, seed, scenario.population, away,
                  traces=replay.traces if replay is not None else None)  # fmt: skip
    agent, port = await start_agent()

    served_at: float | None = None

    def serve() -> None:
        # A walk is many requests at one simulated moment: build the table once for it.
        nonlocal served_at
        if clock.now() != served_at:
            served_at = clock.now()
            world.advance(served_at)
            agent.set(world.objects(typed=scenario.snmp))

    agent.before_reply = serve
    ledger_dir = directory / "ledger"
    subscribers = "".join(
        f'[subscribers."{s.name}"]\nplan = "paper"\naddresses = ["{s.address}"]\n'
        for s in world.subscribers
    )
    config_path = directory / "nmsquota.toml"
    caps = WEEKLY.format(
        cap=scenario.cap, window=scenario.window, rate=scenario.rate,
        hysteresis=f'hysteresis = "{scenario.hysteresis}"' if scenario.hysteresis else "",
    )  # fmt: skip
    if scenario.daily is not None:
        caps = DAILY.format(cap=scenario.daily[0], rate=scenario.daily[1]) + caps
    config_path.write_text(CONFIG.format(
        timezone=TIMEZONE, ledger=ledger_dir, port=port, subscribers=subscribers, caps=caps,
        projection="true" if scenario.projection else "false", interval=scenario.interval,
        transport=scenario.transport,
    ))  # fmt: skip
    config = load_config(config_path)
    driver = SimDriver(world, active_from=start + scenario.before_days * DAY)
    stop = stop or asyncio.Event()
    result_days: list[Day] = []
    try:
        with Ledger.open_writer(ledger_dir, config.tallies()) as ledger:
            if scenario.history:
                _history(ledger, world)
            changes: list[Change] = []

            def told(when: float, name: str, event: str, decision: Decision) -> None:
                if not event.startswith(("warning", "limit not")):
                    over = tuple(cap.cap_name for cap in decision.caps if cap.limited)
                    changes.append(Change(when, name, event, decision.rate_bps,
                                          decision.cap_name, over))  # fmt: skip

            daemon = Daemon(config, clock, ledger, drivers=[driver], on_event=told)
            if not scenario.snmp:
                for device in daemon.devices:
                    device.agent = replace(device.agent, local=agent)
            cycles = int(days * DAY // daemon.interval)
            totals_at_midnight = {s.name: 0.0 for s in world.subscribers}
            current = Day(0)

            end = start + days * DAY

            def cycle_done(report: CycleReport) -> None:
                nonlocal current, totals_at_midnight
                if isinstance(clock, AcceleratedClock):
                    # A clock held at the start runs from the end of the first cycle: setting
                    # up took none of the subscribers' time (see AcceleratedClock).
                    clock.run()
                if clock.now() >= end - daemon.interval / 2:
                    stop.set()  # by simulated time: a slow machine skips cycles, not days
                day = int((world.now - start) // DAY)
                if day != current.number:
                    _close(current, world, totals_at_midnight)
                    result_days.append(current)
                    totals_at_midnight = {s.name: s.downloaded for s in world.subscribers}
                    current = Day(day)
                current.limited |= set(report.limited)
                if on_cycle is not None:
                    on_cycle(world, report)

            await daemon.run(stop, cycles + 1, on_cycle=cycle_done)
            _mark_simulated(ledger)
            _close(current, world, totals_at_midnight)
            result_days.append(current)
            looks, done, skipped = daemon.looks, daemon.cycles, daemon.skipped
    finally:
        if agent.transport is not None:
            agent.transport.close()
    return Result(result_days, driver.events, world, config_path, changes, ledger_dir, done,
                  looks, skipped)  # fmt: skip


def _mark_simulated(ledger: Ledger) -> None:
    """The last cycle's record says its clock was the demo's, so that `status` reads the
    kept ledger as a run that ended in simulated time, not as a daemon gone stale."""
    health = ledger.records.health()
    if health is not None:
        with ledger.batch():
            ledger.records.set_health(replace(health, simulated=True))


def _history(ledger: Ledger, world: World) -> None:
    """The week before the demo, as a ledger would hold it: the biggest user downloaded
    about 70 MB the day before, so he starts over the cap (limited at session start)."""
    if ledger.as_of is not None:
        return
    samples = []
    for subscriber in world.subscribers:
        per_day = 70 * MB if subscriber.profile is BIGGEST else subscriber.profile.mb_per_day * MB
        days = [1] if subscriber.profile is BIGGEST else range(1, 7)
        for back in days:
            when = int(world.start - back * DAY + 12 * 3600)
            samples.append(Sample(subscriber.name, when, int(per_day), int(per_day / 20)))
    samples.sort(key=lambda s: s.time)
    for sample in samples:
        ledger.commit(sample.time, [sample])


def _close(day: Day, world: World, at_midnight: dict[str, float]) -> None:
    day.per_subscriber = {
        s.name: s.downloaded - at_midnight.get(s.name, 0.0) for s in world.subscribers
    }
    day.total = sum(day.per_subscriber.values())
