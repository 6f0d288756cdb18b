"""The Daemon: one object that wires the poller, the ledger, the policy and the drivers, and
runs the cycle every interval. Each part of its work lives in a module of its own (records,
sessions, looks, verification, enforcers, control); this one holds the order they run in.

Over 400 lines, on purpose: the cycle is one sequence (poll, attribute, decide, enforce,
verify, record, tell) whose steps share the daemon's state; split further, each piece would
take that state as arguments and the order would be read across files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nmsquota import gcpause
from nmsquota.attribution import attribute, baselines_from_state, baselines_to_state
from nmsquota.clock import Clock
from nmsquota.config import Config
from nmsquota.control.peer import Peer
from nmsquota.control.protocol import Request
from nmsquota.enforcement.driver import Driver, make_drivers
from nmsquota.enforcement.driver import Limit as DriverLimit
from nmsquota.ledger import Ledger, LedgerUnusable, commits
from nmsquota.ledger.base import LimitsNotice
from nmsquota.ledger.codec import SESSIONS
from nmsquota.ledger.fingerprint import of_configuration
from nmsquota.ledger.records import EventRecord
from nmsquota.notify import Notifier
from nmsquota.plans import Member, Roster, configured_members, members, plans_of, rules_of
from nmsquota.policy import Decision, Evaluation, Override, Rule, evaluate
from nmsquota.snmp.cycle import DeviceResult, Pool
from nmsquota.snmp.poller import poll_keys
from nmsquota.snmp.walk import SnmpError
from nmsquota.snmp.workers import Spread

from . import observed, record
from .control import dispatch
from .devices import devices_from
from .enforcers import reload_enforcers, resume_drift
from .following import follow_limits
from .looks import Looks
from .report import CycleReport, outcome_record
from .sessions import Sessions
from .traps import Traps
from .verification import check_limits, spans_of

if TYPE_CHECKING:
    from nmsquota.snmp.connect import Transports

log = logging.getLogger("nmsquota.daemon")

EventListener = Callable[[float, str, str, Decision], None]

POLL_SHARE = 0.8
"""The share of the interval a cycle's poll may take: the rest is for the ledger's write and
the drivers, so that the cycle ends before the next is due. Devices that do not fit in it
are skipped for load and polled first in the next cycle."""


class Daemon:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        ledger: Ledger,
        drivers: Sequence[Driver] | None = None,
        on_event: EventListener | None = None,
    ) -> None:
        self.clock = clock
        self.on_event = on_event
        """Told of every event [notify] is told of, in the daemon's thread, with the time:
        (when, subscriber, event, decision). For a process embedding the daemon (the demo,
        a console)."""
        self.ledger = ledger
        self.sessions = Sessions()
        self.schedule = Looks()
        self.cycles = 0
        self.looks = 0
        """Targeted polls of subscribers projected to cross their cap (looks.py)."""
        self.skipped = 0
        """Cycles not run because the one before overran its slot (see run)."""
        self._lock: asyncio.Lock | None = None
        self.last: CycleReport | None = None
        self._engine: Any = None
        self._transports: Transports | None = None
        self.checks = record.checks_of(ledger)
        """Whether each limit bites, carried from cycle to cycle (and over a restart)."""
        self.enforcers: list[Any] = []
        self.installed: dict[str, list[str]] = {}
        """Driver -> whom it holds limited, as of its last reconciliation."""
        self.devices: list[Any] = []
        self.pool = Pool()
        """The poll's scheduler across cycles: the cost per device learned, who was skipped."""
        self.spread = Spread()
        """The poll worker processes ([settings] poll_workers), stopped by close()."""
        self.counters_told: observed.Told = {}
        """The counter events told of per session (observed.new_counter_events): each is
        logged once."""
        self.write_failures = record.WriteFailures()
        """Whether the ledger refuses the daemon's writes (a full disk): told by ping."""
        self.deciding: bool | None = None
        """Whether this daemon decided for every subscriber at its last cycle (several POPs'
        daemons on one ledger: exactly one does); None before its first."""
        self.followed = 0
        """Times this daemon brought its drivers to another POP's limits (a cycle's _follow,
        or follow_notices)."""
        self._cycled: asyncio.Event | None = None
        """Set at the end of each cycle, for whoever waits for the next (next_cycle)."""
        self.marker: Path | None = None
        """Where to mark each batch written (commits.mark), for the readers on this host,
        when the ledger is not a directory they can watch (a database)."""
        self.started = clock.now()
        self.configure(config, drivers)
        resume_drift(self.enforcers, ledger.records.health())

    def configure(self, config: Config, drivers: Sequence[Driver] | None = None) -> None:
        """Take a (re)loaded configuration: devices, plans, drivers."""
        old_memory = {d.name: d.memory for d in self.devices}
        # The names ifindex: entries were first mapped with: in memory, or (at start) as the
        # ledger kept them, so a renumbering across a restart is still told from them.
        pins = {r.name: {p.index: p.name for p in r.pins} for r in self.ledger.records.devices()}
        pins.update({d.name: d.pins for d in self.devices})
        self.config = config
        self.devices = devices_from(config)
        for device in self.devices:
            device.memory = old_memory.get(device.name)
            device.pins = dict(pins.get(device.name, {}))
            device.mapping = replace(device.mapping, sessions=self.sessions.logins)
        self.rules = rules_of(config)
        # The configuration's subscribers, as records: once per (re)load, not per lookup.
        self._configured = configured_members(config)
        # In each health record: POPs sharing the ledger must run the same plans.
        self.plans_fingerprint = of_configuration(config)
        self.tallies = {tally.key: tally for tally in config.tallies()}
        wanted = drivers if drivers is not None else make_drivers(config.configured_drivers())
        self.enforcers = reload_enforcers(self.enforcers, wanted)
        self.notifier = Notifier(config.settings.notify)
        self.traps = Traps(config, self.started)
        self.interval = config.settings.interval
        self._expire_when_silent()
        # Workers beyond a reloaded count stop now, by PID; the next cycle starts any new.
        self.spread.configure(config.settings.poll_workers)

    def _expire_when_silent(self) -> None:
        """A daemon that hangs gives up its place in a shared ledger after two intervals
        and a minute without a write (Ledger.expire_when_silent): another POP's daemon then
        decides. Long enough for a cycle that overran its slot."""
        try:
            self.ledger.expire_when_silent(2 * self.interval + 60)
        except LedgerUnusable as error:  # taken again when the writer connects again
            log.warning("could not tell the ledger how long this daemon may be silent: %s",
                        error)  # fmt: skip

    def close(self) -> None:
        """Stop what the daemon started beside itself: the poll worker processes."""
        self.spread.close()

    async def handle(self, request: Request, peer: Peer | None) -> dict[str, Any]:
        """One control-socket request, validated (nmsquota.control.protocol), and who sent
        it (None when the system cannot say): the author of what it changes. Whatever the
        request changes is one write; a refused one (UsageError) writes nothing."""
        with self._writing() as events:
            return dispatch(self, request, peer, events)

    # -- one cycle -------------------------------------------------------------------------

    def engine(self) -> Any:
        """The SNMP engine, for polls and traps alike."""
        if self._engine is None:
            from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

            self._engine = SnmpEngine()  # one per event loop (FIELD-NOTES)
        return self._engine

    def transports(self) -> Transports:
        """What opens each device's transport, on the engine the traps use."""
        if self._transports is None:
            from nmsquota.snmp.connect import Transports

            self._transports = Transports(self.engine())
        return self._transports

    async def cycle(self, due: float | None = None) -> CycleReport:
        self.engine()
        now = self.clock.now()
        previous = self.schedule.last_cycle_at
        self.cycles += 1
        report = CycleReport(self.cycles, now, due if due is not None else now)
        report.skipped = self.skipped
        wall = time.perf_counter()
        # Baselines are read, polled against and written back under the lock, so a targeted
        # look in between cannot have its bytes counted twice.
        async with self._poll_lock():
            baselines = record.stored_baselines(self.ledger)
            budget = POLL_SHARE * self.interval
            polled = await self.spread.poll(self.transports(), self.devices, now, baselines,
                                            pool=self.pool, budget=budget)  # fmt: skip
            if self.pool.last is not None:
                report.take_load(self.pool.last, self.spread.fits(self.pool, self.interval))
            # A device skipped for load was not polled: it keeps its record and baselines.
            results = [result for result in polled if not result.skipped]
            for result in results:
                if result.error:
                    report.devices_failed[result.device] = result.error
                    if result.cause is not None:  # backing off is not the scheduler's to say
                        report.causes.setdefault(result.device, result.cause)
                    log.warning("%s", result.error)
                else:
                    report.devices_ok.append(result.device)
                    self.sessions.learn(result)
            # If the write fails, the ledger stays at its last commit and so must what the
            # daemon carries from cycle to cycle in memory; the cycle's bytes are counted by
            # the next one (record.WriteFailures).
            kept = self.checks, self.schedule.copy(), self.counters_told
            try:
                evaluation, flagged = self._record_cycle(report, results, now, previous, wall)
            except LedgerUnusable as error:
                self.checks, self.schedule, self.counters_told = kept
                report.seconds = time.perf_counter() - wall
                report.ledger_error = str(error)
                self._write_failed(f"cycle {report.number}", error, now)
                self.last = report
                self._ended_cycle()
                return report
        self._wrote(f"cycle {report.number}")
        for decision in evaluation.changes:
            log.info("%s %s: %s (%.0f%% of cap)", decision.event, decision.subscriber,
                     decision.reason or "under the cap", decision.percent)  # fmt: skip
            self._tell(now, decision.subscriber, decision.event, decision)
        for decision in evaluation.decisions.values():
            for cap in decision.caps:
                of = f" of {cap.cap_name}" if cap.cap_name else ""
                for threshold in cap.warnings:
                    self._tell(now, decision.subscriber, f"warning {threshold}%{of}", cap)
        for name in flagged:
            self._tell(now, name, "limit not effective", evaluation.decisions[name])
        self.last = report
        self._ended_cycle()
        return report

    def _record_cycle(self, report: CycleReport, results: Sequence[DeviceResult], now: float,
                      previous: float | None, wall: float
                      ) -> tuple[Evaluation, list[str]]:  # fmt: skip
        """Commit the poll, decide, enforce and keep it all, in one ledger write: samples,
        baselines, decisions, events and the health record (with what the drivers did) land
        together, so a reader never sees half a cycle. Returns the decisions and the
        subscribers newly flagged as not limited effectively."""
        with gcpause.paused(), self._writing() as events:
            moved = record.commit_poll(self.ledger, results, now)
            self._observe(results, now, events)
            leading = self.ledger.lead()
            self._told_leading(leading)
            if not leading:
                self._follow(report, now, events, wall)
                return Evaluation(), []
            evaluation = self.decide(int(now))
            self.checks, flagged = check_limits(self.checks, self.config.settings.verify,
                                                evaluation, moved, spans_of(results),
                                                previous, now)  # fmt: skip
            self.record(evaluation, int(now), events)
            self.schedule.after_cycle(evaluation, moved, now, list(self.sessions.keys),
                                      self._plans(), self.rules, self.interval,
                                      self.config.settings.projection)  # fmt: skip
            report.drivers = self._reconcile(self._wanted(evaluation), now, events)
            report.installed = dict(self.installed)
            report.limited = sorted(d.subscriber for d in evaluation.limited)
            report.changed = sorted(d.subscriber for d in evaluation.changes)
            report.no_plan = evaluation.no_plan
            report.not_effective = sorted(n for n, c in self.checks.items() if c.flagged)
            report.seconds = time.perf_counter() - wall
            self._health(report)
        return evaluation, flagged

    def _write_failed(self, what: str, error: LedgerUnusable, now: float) -> None:
        """A cycle's (or look's) write was refused: said in the log, kept for ping. The
        daemon goes on; the next cycle tries again."""
        self.write_failures.failed(now, str(error))
        log.error("%s not recorded, retried at the next cycle, which counts its bytes: %s",
                  what, error)  # fmt: skip

    def _wrote(self, what: str) -> None:
        ended = self.write_failures.succeeded()
        if ended is not None:
            since, failed = ended
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
            log.warning("%s recorded: ledger writes work again after %d failed since %s",
                        what, failed, when)  # fmt: skip

    def ping(self) -> dict[str, Any]:
        """The control socket's ping reply: alive, how many cycles, and whether its ledger
        writes are failing (which status cannot read from a ledger that refuses them)."""
        reply: dict[str, Any] = {"ok": True, "cycles": self.cycles}
        failing = self.write_failures.reply()
        if failing is not None:
            reply["ledger_write_failure"] = failing
        return reply

    def _tell(self, when: float, subscriber: str, event: str, decision: Decision) -> None:
        """[notify] and on_event, after the ledger is written: a listener that fails is
        logged, and costs neither the cycle nor the other listeners."""
        self.notifier.send(subscriber, event, decision)
        self.traps.tell(self.engine, when, subscriber, event, decision)
        if self.on_event is not None:
            try:
                self.on_event(when, subscriber, event, decision)
            except Exception:
                log.exception("on_event failed for %s %s", event, subscriber)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[list[EventRecord]]:
        """One ledger batch for one piece of work (a cycle, a look, a control request): one
        write of state.json at its end, with the events the work put in the list yielded
        added to the log once (each add rebuilds the whole event table). Nothing inside
        may await: another piece of work would write into this one's batch."""
        events: list[EventRecord] = []
        with self.ledger.batch():
            yield events
            if events:
                self.ledger.records.add_events(events)
        if self.marker is not None:
            try:
                commits.mark(self.marker, self.ledger.where, self.ledger.seq, self.ledger.as_of)
            except OSError as error:  # the readers here lag; the ledger has the batch
                log.warning("could not mark the commit in %s: %s", self.marker, error)

    def _poll_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _ended_cycle(self) -> None:
        if self._cycled is not None:
            self._cycled.set()

    async def next_cycle(self) -> None:
        """Wait for the end of the next cycle (whether or not its write succeeded)."""
        if self._cycled is None:
            self._cycled = asyncio.Event()
        self._cycled.clear()
        await self._cycled.wait()

    # -- a look at one subscriber between cycles -------------------------------------------

    async def look(self, subscriber: str) -> bool:
        """Poll one subscriber's sessions now, charge them, decide and enforce. True if the
        look found them over the cap (and limited them)."""
        self.schedule.targets.pop(subscriber, None)
        now = self.clock.now()
        devices = {d.name: d for d in self.devices}
        async with self._poll_lock():
            looked = []
            polled: list[DeviceResult] = []
            for name, keys in self.sessions.device_keys(subscriber).items():
                device = devices.get(name)
                # A sessions profile's table is not read by targeted GETs (poll_keys).
                if device is None or device.profile.kind == "sessions":
                    continue
                try:
                    async with await self.transports().open(device.agent) as transport:
                        seen = await poll_keys(transport, keys, now, device.memory)
                except SnmpError as error:
                    log.warning("look at %s: %s", subscriber, error)
                    continue
                self.looks += 1
                stored = baselines_from_state(self.ledger.counter_state(name))
                charged = attribute(stored, seen.readings, int(now), download=device.download,
                                    speed_override_bps=device.speed_override_bps)  # fmt: skip
                looked.append((name, charged, {**stored, **charged.baselines}))
                polled.append(DeviceResult(name, seen, charged))
            if not looked:
                return False
            samples = [sample for _, charged, _ in looked for sample in charged.samples]
            # One write: the samples and baselines, the decisions and what the drivers did.
            # Refused, nothing of it is kept: the next cycle counts these bytes.
            try:
                with self._writing() as events:
                    for name, _, merged in looked:
                        self.ledger.set_counter_state(name, baselines_to_state(merged))
                    self.ledger.commit(now, samples)
                    events += self._counter_news(polled, now, whole=False)
                    evaluation = self.decide(int(now))
                    self.record(evaluation, int(now), events)
                    decision = evaluation.decisions.get(subscriber)
                    if decision is not None and decision.limited:
                        self._reconcile(self._wanted(evaluation), now, events)
            except LedgerUnusable as error:
                self._write_failed(f"look at {subscriber}", error, now)
                return False
        self._wrote(f"look at {subscriber}")
        if decision is None:
            return False
        if decision.limited:
            log.info("limited %s on a projected look: %s", subscriber, decision.reason)
            for changed in evaluation.changes:
                self._tell(now, changed.subscriber, changed.event, changed)
            return True
        self.schedule.after_look(subscriber, decision, samples, now, self._plans()[subscriber],
                                 self.rules, self.interval)  # fmt: skip
        return False

    # -- deciding and enforcing ------------------------------------------------------------

    def enforce_now(self, events: list[EventRecord]) -> dict[str, Any]:
        """Decide on the ledger's current totals and reconcile the drivers, without a poll
        (the caller holds a batch, and adds `events` to the log). A POP's daemon that does
        not decide enforces what the deciding one last decided."""
        now = int(self.clock.now())
        if not self.ledger.lead():
            wanted = self._followed()
            outcomes = self._reconcile(wanted, now, events)
            return {"ok": True, "limited": sorted({lim.subscriber for lim in wanted}),
                    "drivers": outcomes}  # fmt: skip
        evaluation = self.decide(now)
        self.record(evaluation, now, events)
        outcomes = self._reconcile(self._wanted(evaluation), now, events)
        return {"ok": True, "limited": sorted(d.subscriber for d in evaluation.limited),
                "drivers": outcomes}  # fmt: skip

    def roster(self) -> Roster:
        """Who is a subscriber now, and on which plan: what control requests are checked
        against."""
        return Roster(self._plans(), self.rules, self.config.settings.default_plan)

    def _members(self) -> dict[str, Member]:
        return members(self._configured, self.ledger.records.provisioned())

    def _plans(self) -> dict[str, str]:
        seen: Iterable[str] = self.sessions.seen
        if self.ledger.pop:  # the default plan is for those seen online at any POP
            others = self.ledger.records.every_pop(SESSIONS)
            seen = {*seen, *(record.subscriber for record in others if record.online)}
        return plans_of(self._members(), self.config.settings.default_plan, seen)

    def _follow(self, report: CycleReport, now: float, events: list[EventRecord],
                wall: float) -> None:  # fmt: skip
        """A cycle of a POP whose daemon does not decide (another POP's does, lead()): its
        samples are committed; its drivers are brought to the limits decided, for the
        subscribers online on its own access servers."""
        wanted = self._followed()
        report.drivers = self._reconcile(wanted, now, events)
        self.followed += 1
        report.installed = dict(self.installed)
        report.limited = sorted({limit.subscriber for limit in wanted})
        report.seconds = time.perf_counter() - wall
        self._health(report)

    async def follow_notices(self, notices: Sequence[LimitsNotice]) -> None:
        """Other POPs' writers committed changed limits (following.py): a following daemon
        brings its drivers to them now, as its cycle would (_follow), in one ledger write
        with the events. A deciding daemon decided them, and one that has not run a cycle
        yet has seen no session to limit: both leave them to their next cycle."""
        followed = self.followed
        async with self._poll_lock():
            if self.deciding is not False or self.followed != followed:
                return  # or a cycle followed them while this waited for the lock
            now = self.clock.now()
            try:
                with self._writing() as events:
                    wanted = self._followed()
                    self._reconcile(wanted, now, events)
                    self.followed += 1
            except LedgerUnusable as error:
                log.warning("limits committed at another POP not followed now (the next "
                            "cycle follows them): %s", error)  # fmt: skip
                return
        where = ", ".join(sorted({notice.pop or "(no POP)" for notice in notices}))
        last = max((n.seq for n in notices if n.seq is not None), default=None)
        commit = f" (commit {last})" if last is not None else ""
        limited = len({limit.subscriber for limit in wanted})
        log.info("POP %s follows the limits committed at POP %s%s: %d limited here",
                 self.ledger.pop, where, commit, limited)  # fmt: skip

    def _told_leading(self, leading: bool) -> None:
        """Say in the log when this POP's daemon starts or stops deciding for everyone."""
        if leading == self.deciding or not self.ledger.pop:
            self.deciding = leading
            return
        if leading:
            log.info("POP %s decides for every subscriber now (it holds the ledger's decider "
                     "lock)", self.ledger.pop)  # fmt: skip
        else:
            log.info("POP %s enforces the decisions of another POP's daemon, which holds the "
                     "ledger's decider lock", self.ledger.pop)  # fmt: skip
        self.deciding = leading

    def _online_elsewhere(self) -> set[str]:
        """Subscribers online at another POP and not at this one's access servers."""
        if not self.ledger.pop:
            return set()
        here = self.sessions.online()
        every = self.ledger.records.every_pop(SESSIONS)
        return {r.subscriber for r in every if r.online and r.subscriber not in here}

    def _followed(self) -> list[DriverLimit]:
        """The limits the deciding POP keeps in the ledger, for the subscribers online here,
        at the addresses and sessions seen here. The queue is the plan's for the rate
        decided (the ledger's limit keeps the rate only)."""
        online = self.sessions.online()
        known = self._members()
        plans = self._plans()
        wanted = []
        for limit in self.ledger.records.limits():
            if limit.subscriber not in online:
                continue
            rate = limit.rate_bps if limit.rate_bps is not None else DriverLimit.rate_bps
            queue = _queue_for(self.rules.get(plans.get(limit.subscriber, ""), ()), rate)
            wanted.append(self._limit_here(limit.subscriber, known, rate, queue))
        return wanted

    def decide(self, now: int) -> Evaluation:
        """The policy's decisions on the ledger's totals, standings and overrides."""
        totals = {key: self.ledger.totals(tally) for key, tally in self.tallies.items()}
        overrides = [Override(r.subscriber, r.kind, r.reason, r.since, r.until, r.bytes, r.cap)
                     for r in self.ledger.records.overrides()]  # fmt: skip
        # Exempt in the configuration: an exempt override that never ends.
        overrides += [
            Override(name, "exempt", member.exempt_reason or "exempt in the configuration",
                     since=0)
            for name, member in self._members().items() if member.exempt
        ]  # fmt: skip
        standings = record.standings_of(self.ledger)
        return evaluate(self.rules, self._plans(), totals, now, standings, overrides)

    def record(self, evaluation: Evaluation, now: int, events: list[EventRecord]) -> None:
        """Keep the decisions in the ledger, and put the limits they applied or lifted in
        `events` (the caller holds a batch)."""
        names = [e.driver.name for e in self.enforcers]
        record.record_decisions(self.ledger, evaluation, self.checks, names, now)
        events += observed.decision_events(evaluation, now)

    def session_event(self, event: str, interface: str, login: str, address: str,
                      events: list[EventRecord]) -> None:  # fmt: skip
        """A session started or ended (ip-up/ip-down): where the subscriber is, kept in the
        ledger, and the event in `events` (the caller holds a batch)."""
        self.sessions.event(event, interface, login, address)
        now = self.clock.now()
        events.append(observed.session_event(event, interface, login, address, now))
        events += self._keep_sessions(now, told=login)

    def _observe(self, results: Sequence[DeviceResult], now: float,
                 events: list[EventRecord]) -> None:  # fmt: skip
        """What the poll saw, for the readers: the access servers and the sessions, and the
        device, counter and session events into `events` (the caller holds the cycle's
        batch)."""
        kept = {device.name: device for device in self.ledger.records.devices()}
        records = observed.device_records(kept, self.devices, results, now)
        self.ledger.records.set_devices(records)
        events += observed.device_events(kept, results, now)
        mapping, lines = observed.mapping_events(kept, records, now)
        for level, line in lines:
            log.log(level, "%s", line)
        events += mapping
        events += self._counter_news(results, now)
        events += self._keep_sessions(now)

    def _counter_news(self, results: Sequence[DeviceResult], now: float,
                      whole: bool = True) -> list[EventRecord]:  # fmt: skip
        """Counter baselines, agent restarts, discontinuities and refused spikes not told of
        yet: a line each in the log (a few of a kind per access server, then a count), and
        the event log's records of them."""
        news, self.counters_told = observed.new_counter_events(results, self.counters_told,
                                                               whole=whole)  # fmt: skip
        for level, line in observed.counter_log_lines(news):
            log.log(level, "%s", line)
        return observed.counter_events(news, now)

    def _keep_sessions(self, now: float, told: str | None = None) -> list[EventRecord]:
        """The session records brought up to date; returns the events of sessions found
        coming or going (but `told`'s, which the caller logs in its own words)."""
        kept = {session.subscriber: session for session in self.ledger.records.sessions()}
        changed = observed.session_records(kept, self.sessions, now)
        if changed is None:
            return []
        self.ledger.records.set_sessions(changed)
        return observed.session_events(kept, changed, now, told)

    def _reconcile(self, wanted: list[DriverLimit], now: float,
                   events: list[EventRecord]) -> dict[str, dict[str, Any]]:  # fmt: skip
        """Every driver brought to `wanted`: what each did (for the health record and control
        replies) and now holds (`installed`); repairs and errors go into `events`."""
        outcomes, done = {}, []
        for enforcer in self.enforcers:
            outcome = enforcer.cycle(wanted, now)
            done.append(outcome)
            outcomes[enforcer.driver.name] = outcome_record(outcome)
            self.installed[enforcer.driver.name] = _installed(enforcer, wanted)
        events += observed.driver_events(done, now)
        return outcomes

    def _wanted(self, evaluation: Evaluation) -> list[DriverLimit]:
        known = self._members()
        wanted = []
        elsewhere = self._online_elsewhere()
        for decision in evaluation.limited:
            if decision.subscriber in elsewhere:
                continue  # the POP carrying the session limits it (_followed)
            wanted.append(self._limit_here(decision.subscriber, known, decision.rate_bps,
                                           decision.queue_bytes))  # fmt: skip
        return wanted

    def _limit_here(self, subscriber: str, known: dict[str, Member], rate_bps: int,
                    queue_bytes: int) -> DriverLimit:  # fmt: skip
        """The limit the drivers apply to `subscriber`: at the addresses configured and seen
        here, on the session this daemon saw."""
        seen = self.sessions.get(subscriber)
        member = known.get(subscriber)
        configured = member.addresses if member is not None else ()
        addresses = tuple(dict.fromkeys([*configured, *seen.addresses]))
        return DriverLimit(subscriber, addresses, rate_bps, queue_bytes, seen.access_server,
                           seen.interface, seen.session)  # fmt: skip

    def _health(self, report: CycleReport) -> None:
        record.record_health(self.ledger, report, self.interval, self.clock.now(),
                             deciding=self.deciding is not False,
                             plans_fingerprint=self.plans_fingerprint)  # fmt: skip
        late = report.lateness > self.interval / 2
        level = logging.WARNING if late or report.devices_skipped else logging.INFO
        log.log(level, "cycle %d: %.1fs, %.1fs late; %d/%d devices answered (%s); %d limited",
                report.number, report.seconds, report.lateness, len(report.devices_ok),
                len(self.devices), report.load_line(), len(report.limited))  # fmt: skip
        if report.devices_skipped:
            log.warning("cycle %d skipped %s for load (polled first next cycle): this machine "
                        "polls about %s devices of this size per %ds interval",
                        report.number, ", ".join(report.devices_skipped), report.capacity,
                        self.interval)  # fmt: skip
        if report.seconds > self.interval:
            log.warning("cycle %d took %.0fs, longer than the %ds interval",
                        report.number, report.seconds, self.interval)  # fmt: skip

    # -- the loop --------------------------------------------------------------------------

    async def run(
        self,
        stop: asyncio.Event,
        cycles: int | None = None,
        on_cycle: Callable[[CycleReport], None] | None = None,
    ) -> None:
        """Cycle every interval until `stop` is set (a cycle in flight finishes first);
        meanwhile follow the limits other POPs' daemons commit (following.py)."""
        following = asyncio.ensure_future(follow_limits(self))
        try:
            await self._cycles(stop, cycles, on_cycle)
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following

    async def _cycles(
        self,
        stop: asyncio.Event,
        cycles: int | None,
        on_cycle: Callable[[CycleReport], None] | None,
    ) -> None:
        due = self.clock.now()
        done = 0
        while not stop.is_set():
            report = await self.cycle(due)
            if on_cycle is not None:
                on_cycle(report)
            done += 1
            if cycles is not None and done >= cycles:
                return
            due += self.interval
            now = self.clock.now()
            if now > due:  # overran: skip the slots it missed, say so
                missed = int((now - due) // self.interval) + 1
                log.warning("skipping %d missed cycle(s)", missed)
                self.skipped += missed
                due += missed * self.interval
            while not stop.is_set() and (look := self.schedule.due_before(due)) is not None:
                name, when = look
                await self._wait(stop, when - self.clock.now())
                if not stop.is_set():
                    await self.look(name)
            if stop.is_set():
                return
            await self._wait(stop, due - self.clock.now())

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep on the daemon's clock, or until `stop` is set."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()


def _queue_for(rules: Sequence[Rule], rate_bps: int) -> int:
    """The queue a plan gives the limit at `rate_bps` (a cap's, or a step's): the first
    whose rate it is; the drivers' default when none is (a plan changed since)."""
    for rule in rules:
        for limit in (rule, *rule.steps):
            if limit.rate_bps == rate_bps:
                return limit.queue_bytes
    return DriverLimit.queue_bytes


def _installed(enforcer: Any, wanted: Sequence[DriverLimit]) -> list[str]:
    """Whom a driver holds limited after reconciling: the wanted limits it believes are in
    place (its keys for them were installed and did not fail)."""
    believed = enforcer.believed or set()
    return sorted({limit.subscriber for limit in wanted
                   if any(key in believed for key in enforcer.driver.keys(limit))})  # fmt: skip
