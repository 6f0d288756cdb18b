"""The monitoring daemon: the paper's byteshare. Every interval it polls, records, decides
and enforces.

One cycle:

1. poll every access server (nmsquota.snmp.cycle), concurrently and each bounded in time;
2. commit the samples and counter baselines, the policy's decisions (limits, standings) and
   the daemon's health in one ledger commit, so readers in other processes (the console,
   the check plugin, `nmsquota status`) always see a consistent cycle;
3. reconcile every driver with the subscribers who should be limited.

A slow device or driver never makes a cycle overrun silently: each cycle's duration and
lateness against its schedule are logged and kept in the ledger's `daemon` record. A restart
resumes from the ledger: the baselines (nothing double counted) and the limits (reconciled
with what the drivers have, so limits stay as they were).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nmsquota import gcpause, units
from nmsquota.clock import Clock
from nmsquota.config import Config
from nmsquota.enforcement.driver import Driver
from nmsquota.enforcement.driver import Limit as DriverLimit
from nmsquota.enforcement.reconcile import Enforcer, Outcome
from nmsquota.errors import NmsquotaError
from nmsquota.ledger import Ledger
from nmsquota.ledger import Limit as LedgerLimit
from nmsquota.ledger.model import Totals
from nmsquota.notify import Notifier
from nmsquota.plans import cap_names, members, plans_of, rules_of
from nmsquota.policy import Decision, Evaluation, Override, Standing, evaluate
from nmsquota.verify import Check, verify

log = logging.getLogger("nmsquota.daemon")


@dataclass
class Session:
    """Where a subscriber was last seen: what a driver may key on."""

    access_server: str = ""
    interface: str = ""
    session: str = ""
    addresses: tuple[str, ...] = ()


@dataclass
class CycleReport:
    number: int
    started: float
    due: float
    seconds: float = 0.0
    devices_ok: list[str] = field(default_factory=list)
    devices_failed: dict[str, str] = field(default_factory=dict)
    limited: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    drivers: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_plan: list[str] = field(default_factory=list)
    not_effective: list[str] = field(default_factory=list)
    """Limited subscribers whose measured rate says the limit does not bite (verify.py)."""
    skipped: int = 0
    """Cycles skipped since the daemon started, because one overran its slot."""

    @property
    def lateness(self) -> float:
        return max(0.0, self.started - self.due)


def _moved_by(results: Sequence[Any]) -> dict[str, Totals]:
    """What each subscriber moved in a cycle's samples, all their sessions together."""
    moved: dict[str, Totals] = {}
    for result in results:
        for sample in result.attribution.samples if result.attribution else ():
            before = moved.get(sample.subscriber, Totals())
            moved[sample.subscriber] = Totals(before.bytes_in + sample.bytes_in,
                                              before.bytes_out + sample.bytes_out)  # fmt: skip
    return moved


def _same_driver(old: Driver, new: Driver) -> bool:
    """Whether a reloaded driver is the one already running: same type, same options."""
    return type(old) is type(new) and old.options == new.options


def drivers_of(config: Config) -> list[Driver]:
    """The configured drivers; `log` alone when none are, so a new install changes nothing."""
    if not config.settings.drivers:
        from nmsquota.enforcement.driver import make_driver

        return [make_driver("log", "log", {})]
    return [config.driver(name) for name in config.settings.drivers]


class Daemon:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        ledger: Ledger,
        drivers: Sequence[Driver] | None = None,
        on_event: Callable[[float, str, str, Decision], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_event = on_event
        """Told of every event [notify] is told of, in the daemon's thread, with the time:
        (when, subscriber, event, decision). For a process embedding the daemon (the demo,
        a console)."""
        self.ledger = ledger
        self.sessions: dict[str, Session] = {}
        self.session_events: dict[str, str] = {}
        """Interface -> login, from ip-up/ip-down (the paper's named socket)."""
        self.cycles = 0
        self.looks = 0
        """Targeted polls of subscribers projected to cross their cap (nmsquota.projection)."""
        self.skipped = 0
        """Cycles not run because the one before overran its slot (see run)."""
        self.targets: dict[str, float] = {}
        self._keys: dict[str, list[tuple[str, Any]]] = {}
        self._last_cycle_at: float | None = None
        self._last_look: dict[str, float] = {}
        self._lock: asyncio.Lock | None = None
        self.last: CycleReport | None = None
        self._engine: Any = None
        self.checks: dict[str, Check] = {
            r["subscriber"]: Check(**r["check"])
            for r in ledger.records("standings") if r.get("check")
        }  # fmt: skip
        """Whether each limit bites, carried from cycle to cycle (and over a restart)."""
        self.configure(config, drivers)

    def configure(self, config: Config, drivers: Sequence[Driver] | None = None) -> None:
        """Take a (re)loaded configuration: devices, plans, drivers."""
        from nmsquota.snmp.cycle import devices_from

        old_memory = {d.name: d.memory for d in getattr(self, "devices", [])}
        self.config = config
        self.devices = devices_from(config)
        for device in self.devices:
            device.memory = old_memory.get(device.name)
            device.mapping = replace(device.mapping, sessions=self.session_events)
        self.rules = rules_of(config)
        # The configuration's subscribers, as records: once per (re)load, not per lookup.
        self._configured = {r["name"]: r for r in config.subscriber_records()}
        self.tallies = {tally.key: tally for tally in config.tallies()}
        old = {e.driver.name: e for e in getattr(self, "enforcers", [])}
        self.enforcers = []
        for driver in drivers if drivers is not None else drivers_of(config):
            kept = old.pop(driver.name, None)
            if kept is not None and _same_driver(kept.driver, driver):
                self.enforcers.append(kept)
            else:
                if kept is not None:
                    old[driver.name] = kept  # changed: cleared below, like one removed
                self.enforcers.append(Enforcer(driver))
        # A driver dropped from the configuration, or pointed elsewhere (another namespace,
        # another router): what it installed is no longer anyone's to lift, so lift it now.
        for gone in old.values():
            try:
                gone.driver.clear()
                log.info("driver %s removed or changed: its limits lifted", gone.driver.name)
            except Exception as error:  # a driver's own failure: say so, go on
                log.error("driver %s removed or changed, could not lift its limits: %s",
                          gone.driver.name, error)  # fmt: skip
        self.notifier = Notifier(config.settings.notify)
        self.interval = config.settings.interval

    # -- one cycle -------------------------------------------------------------------------

    async def cycle(self, due: float | None = None) -> CycleReport:
        from nmsquota.snmp.cycle import commit, poll_devices, stored_baselines

        if self._engine is None:
            from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

            self._engine = SnmpEngine()  # one per event loop (FIELD-NOTES)
        now = self.clock.now()
        previous = self._last_cycle_at
        self.cycles += 1
        report = CycleReport(self.cycles, now, due if due is not None else now)
        report.skipped = self.skipped
        wall = time.perf_counter()
        # Baselines are read, polled against and written back under the lock, so a targeted
        # look in between cannot have its bytes counted twice.
        async with self._poll_lock():
            baselines = stored_baselines(self.ledger)
            results = await poll_devices(self._engine, self.devices, now, baselines)
            for result in results:
                if result.error:
                    report.devices_failed[result.device] = result.error
                    log.warning("%s", result.error)
                else:
                    report.devices_ok.append(result.device)
                    self._learn(result)
            # One ledger write a cycle: samples, baselines, decisions and the health record
            # (with what the drivers did) land together, so a reader never sees half a cycle.
            with gcpause.paused(), self.ledger.batch():
                commit(self.ledger, results, now)
                evaluation = self._decide(int(now))
                moved = _moved_by(results)
                flagged = self._verify(evaluation, moved, previous, now)
                self._record(evaluation, int(now))
                self._project(evaluation, moved, now)
                wanted = self._wanted(evaluation)
                for enforcer in self.enforcers:
                    outcome = enforcer.cycle(wanted)
                    report.drivers[enforcer.driver.name] = _outcome(outcome)
                report.limited = sorted(d.subscriber for d in evaluation.limited)
                report.changed = sorted(d.subscriber for d in evaluation.changes)
                report.no_plan = evaluation.no_plan
                report.not_effective = sorted(n for n, c in self.checks.items() if c.flagged)
                report.seconds = time.perf_counter() - wall
                self._health(report)
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
        return report

    def _tell(self, when: float, subscriber: str, event: str, decision: Decision) -> None:
        """[notify] and on_event, after the ledger is written: a listener that fails is
        logged, and costs neither the cycle nor the other listeners."""
        self.notifier.send(subscriber, event, decision)
        if self.on_event is not None:
            try:
                self.on_event(when, subscriber, event, decision)
            except Exception:
                log.exception("on_event failed for %s %s", event, subscriber)

    # -- limits that bite: the poller's counters after a limit lands ----------------------

    def _verify(self, evaluation: Evaluation, moved: dict[str, Totals], previous: float | None,
                now: float) -> list[str]:  # fmt: skip
        """Measure each limited subscriber's download over the span since the last cycle,
        if their limit was in place for all of it; flag the limits that do not bite.
        Returns the subscribers flagged now, to be told once the cycle is written."""
        settings = self.config.settings.verify
        if not settings.enabled:
            self.checks = {}
            return []
        limits = {d.subscriber: d.rate_bps for d in evaluation.limited}
        # Measured only where the limit was in place for the whole span (not limited by a
        # look since the last cycle, not the first cycle after a start).
        whole = {
            d.subscriber
            for d in evaluation.limited
            if previous is not None and d.since is not None and d.since <= previous
        }
        span = now - previous if previous is not None else 0.0
        measured = {name: (moved[name].bytes_in, span) for name in whole if name in moved}
        verdicts = verify(self.checks, limits, measured, int(now), settings.margin / 100,
                          settings.cycles)  # fmt: skip
        self.checks = verdicts.checks  # a released subscriber's check goes with the limit
        for name in verdicts.flagged:
            check = self.checks[name]
            measured = units.format_measured_rate(check.measured_bps)
            log.warning("limit not effective on %s: measured %s for %d cycles, expected at most "
                        "%s + %g%%", name, measured, check.over,
                        units.format_rate(check.expected_bps), settings.margin)  # fmt: skip
        for name in verdicts.cleared:
            log.info("limit on %s effective again: measured %s", name,
                     units.format_measured_rate(self.checks[name].measured_bps))  # fmt: skip
        return list(verdicts.flagged)

    # -- projected crossings: a look at one subscriber between cycles ---------------------

    def _poll_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _project(self, evaluation: Evaluation, moved: dict[str, Totals], now: float) -> None:
        previous, self._last_cycle_at = self._last_cycle_at, now
        self.targets = {}
        # When each subscriber's counters were last read (by this cycle or a look since the
        # last one): the rate is over that span, not over the whole interval.
        since = {name: self._last_look.get(name, previous) for name in self._keys}
        self._last_look = {name: now for name in self._keys}
        if not self.config.settings.projection or previous is None:
            return
        plans = self._plans()
        for name, decision in evaluation.decisions.items():
            start = since.get(name)
            if decision.limited or name not in moved or start is None or now <= start:
                continue
            when = self._next_look(plans[name], decision, moved[name], now - start, now,
                                   now + self.interval)  # fmt: skip
            if when is not None:
                self.targets[name] = when

    def _next_look(self, plan: str, decision: Any, moved: Totals, seconds: float, now: float,
                   before: float) -> float | None:  # fmt: skip
        """When to look at a subscriber again: the earliest any cap of theirs is projected
        to be crossed at the rate they moved `moved` in the last `seconds`."""
        from nmsquota.policy import used
        from nmsquota.projection import next_look

        looks = []
        # decision.caps are in the plan's order, one per rule.
        for rule, cap in zip(self.rules[plan], decision.caps, strict=True):
            rate = used(moved, rule.direction) / seconds if seconds > 0 else 0.0
            when = next_look(cap.used, cap.cap, rate, now, before)
            if when is not None:
                looks.append(when)
        return min(looks, default=None)

    async def look(self, subscriber: str) -> bool:
        """Poll one subscriber's sessions now, charge them, decide and enforce. True if the
        look found them over the cap (and limited them)."""
        from nmsquota.attribution import attribute, baselines_from_state, baselines_to_state
        from nmsquota.snmp.poller import poll_keys
        from nmsquota.snmp.walk import Session, SnmpError

        self.targets.pop(subscriber, None)
        now = self.clock.now()
        by_device: dict[str, list[Any]] = {}
        for device, key in self._keys.get(subscriber, ()):
            by_device.setdefault(device, []).append(key)
        devices = {d.name: d for d in self.devices}
        async with self._poll_lock():
            looked = []
            for name, keys in by_device.items():
                device = devices.get(name)
                if device is None or device.source == "accel-ppp":
                    continue
                try:
                    session = await Session.open(self._engine, device.agent)
                    seen = await poll_keys(session, keys, now, device.memory)
                except SnmpError as error:
                    log.warning("look at %s: %s", subscriber, error)
                    continue
                self.looks += 1
                stored = baselines_from_state(self.ledger.counter_state(name))
                charged = attribute(stored, seen.readings, int(now), download=device.download,
                                    speed_override_bps=device.speed_override_bps)  # fmt: skip
                looked.append((name, charged, {**stored, **charged.baselines}))
            if not looked:
                return False
            samples = [sample for _, charged, _ in looked for sample in charged.samples]
            with self.ledger.batch():
                for name, _, merged in looked:
                    self.ledger.set_counter_state(name, baselines_to_state(merged))
                self.ledger.commit(now, samples)
                evaluation = self._decide(int(now))
                self._record(evaluation, int(now))
        decision = evaluation.decisions.get(subscriber)
        if decision is None:
            return False
        if decision.limited:
            log.info("limited %s on a projected look: %s", subscriber, decision.reason)
            wanted = self._wanted(evaluation)
            for enforcer in self.enforcers:
                enforcer.cycle(wanted)
            for changed in evaluation.changes:
                self._tell(now, changed.subscriber, changed.event, changed)
            return True
        # Still under: look again where the rate since the last look says, before the cycle.
        mine = [s for s in samples if s.subscriber == subscriber]
        moved = Totals(sum(s.bytes_in for s in mine), sum(s.bytes_out for s in mine))
        since = self._last_look.get(subscriber, self._last_cycle_at or now)
        self._last_look[subscriber] = now
        next_cycle = (self._last_cycle_at or now) + self.interval
        when = self._next_look(self._plans()[subscriber], decision, moved, now - since, now,
                               next_cycle)  # fmt: skip
        if when is not None:
            self.targets[subscriber] = when
        return False

    # -- between cycles: session events and the operator ----------------------------------

    async def handle(self, words: list[str]) -> dict[str, Any]:
        """One control-socket request (see nmsquota.control)."""
        command, args = words[0].lower(), words[1:]
        if command == "ping":
            return {"ok": True, "cycles": self.cycles}
        if command in ("up", "down"):
            if len(args) < 3:
                return {"ok": False, "error": f"usage: {command} IFACE LOGIN ADDRESS"}
            return self._session_event(command, *args[:3])
        if command == "subscriber":
            try:
                message = provision(self.ledger, self.config, args)
            except NmsquotaError as error:
                return {"ok": False, "error": str(error)}
            return {**self.enforce_now(), "message": message}
        if command in ("limit", "exempt", "topup", "release"):
            if not args:
                return {"ok": False, "error": f"usage: {command} SUBSCRIBER ..."}
            try:
                message = apply_override(self.ledger, command, args, int(self.clock.now()),
                                         self.cap_names)  # fmt: skip
            except NmsquotaError as error:
                return {"ok": False, "error": str(error)}
            reply = self.enforce_now()
            return {**reply, "message": message}
        return {"ok": False, "error": f"unknown request {command!r}"}

    def _session_event(self, event: str, interface: str, login: str, address: str) -> dict:
        seen = self.sessions.get(login, Session())
        addresses = [a for a in seen.addresses if a != address]
        if event == "up":
            self.session_events[interface] = login
            addresses.append(address)
        elif self.session_events.get(interface) == login:
            del self.session_events[interface]
        self.sessions[login] = replace(seen, interface=interface, addresses=tuple(addresses))
        log.info("session %s: %s on %s (%s)", event, login, interface, address)
        # A session that starts over the cap is limited now, not at the next cycle.
        return self.enforce_now()

    def enforce_now(self) -> dict[str, Any]:
        """Decide on the ledger's current totals and reconcile the drivers, without a poll."""
        now = int(self.clock.now())
        with self.ledger.batch():
            evaluation = self._decide(now)
            self._record(evaluation, now)
        wanted = self._wanted(evaluation)
        outcomes = {e.driver.name: _outcome(e.cycle(wanted)) for e in self.enforcers}
        return {"ok": True, "limited": sorted(d.subscriber for d in evaluation.limited),
                "drivers": outcomes}  # fmt: skip

    def _learn(self, result: Any) -> None:
        for name, keys in list(self._keys.items()):
            self._keys[name] = [(d, k) for d, k in keys if d != result.device]
        for key, _ in result.poll.readings:
            self._keys.setdefault(key.subscriber, []).append((result.device, key))
            self.sessions[key.subscriber] = Session(
                key.access_server, key.interface, key.session,
                tuple(result.poll.addresses.get(key.subscriber, ())),
            )  # fmt: skip

    def cap_names(self, subscriber: str) -> list[str]:
        """The caps of a subscriber's plan, by name (none for a one-cap plan)."""
        return cap_names(self.rules, self._plans().get(subscriber, ""))

    def _members(self) -> dict[str, Any]:
        return members(self._configured, self.ledger.records("provisioned"))

    def _plans(self) -> dict[str, str]:
        return plans_of(self._members(), self.config.settings.default_plan, self.sessions)

    def _decide(self, now: int) -> Evaluation:
        totals = {key: self.ledger.totals(tally) for key, tally in self.tallies.items()}
        standings = {
            record["subscriber"]: _standing(record) for record in self.ledger.records("standings")
        }
        overrides = [Override(**record) for record in self.ledger.records("overrides")]
        # Exempt in the configuration: an exempt override that never ends.
        overrides += [
            Override(name, "exempt", member.get("exempt_reason") or "exempt in the configuration",
                     since=0)
            for name, member in self._members().items() if member.get("exempt")
        ]  # fmt: skip
        return evaluate(self.rules, self._plans(), totals, now, standings, overrides)

    def _record(self, evaluation: Evaluation, now: int) -> None:
        standings = []
        for decision in evaluation.decisions.values():
            record = _standing_record(decision)
            record["subscriber"] = decision.subscriber
            check = self.checks.get(decision.subscriber)
            if check is not None and (check.over or check.flagged):
                record["check"] = asdict(check)
            if len(decision.caps) > 1:
                # Every cap of a limited subscriber (status shows them); of the others only
                # the caps with a standing to carry (warned): the rest start from nothing.
                caps = [cap for cap in decision.caps if decision.limited or cap.warned]
                if caps:
                    record["caps"] = [_standing_record(cap) for cap in caps]
            standings.append(record)
        self.ledger.set_records("standings", standings)
        limited = {d.subscriber: d for d in evaluation.limited}
        for limit in self.ledger.limits():
            if limit.subscriber not in limited:
                self.ledger.clear_limit(limit.subscriber)
        drivers = ",".join(e.driver.name for e in self.enforcers)
        for name, decision in limited.items():
            self.ledger.set_limit(LedgerLimit(name, decision.since or now, decision.reason,
                                              drivers, decision.rate_bps))  # fmt: skip

    def _wanted(self, evaluation: Evaluation) -> list[DriverLimit]:
        members = self._members()
        wanted = []
        for decision in evaluation.limited:
            seen = self.sessions.get(decision.subscriber, Session())
            member = members.get(decision.subscriber, {})
            addresses = tuple(dict.fromkeys(
                [*member.get("addresses", []), *seen.addresses]))  # fmt: skip
            wanted.append(DriverLimit(decision.subscriber, addresses, decision.rate_bps,
                                      decision.queue_bytes, seen.access_server, seen.interface,
                                      seen.session))  # fmt: skip
        return wanted

    def _health(self, report: CycleReport) -> None:
        record = {k: v for k, v in asdict(report).items()}
        record["lateness"] = report.lateness
        record["interval"] = self.interval
        record["updated"] = self.clock.now()
        with self.ledger.batch():
            self.ledger.set_records("daemon", [record])
        level = logging.WARNING if report.lateness > self.interval / 2 else logging.INFO
        log.log(level, "cycle %d: %.1fs, %.1fs late; %d/%d devices answered; %d limited",
                report.number, report.seconds, report.lateness, len(report.devices_ok),
                len(self.devices), len(report.limited))  # fmt: skip
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
        """Cycle every interval until `stop` is set (a cycle in flight finishes first)."""
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
            while self.targets and not stop.is_set():
                name, when = min(self.targets.items(), key=lambda item: item[1])
                if when >= due:
                    break
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


def provision(ledger: Ledger, config: Config, args: list[str]) -> str:
    """add NAME PLAN [ADDRESS...] | set NAME [plan=P] [addresses=A,B] | remove NAME, on the
    subscribers kept in the ledger (the caller holds the writer)."""
    import ipaddress

    from nmsquota.errors import UsageError
    from nmsquota.ledger.model import is_subscriber_name

    if len(args) < 2 or args[0] not in ("add", "set", "remove"):
        raise UsageError("usage: subscriber add NAME PLAN [ADDRESS...] | set NAME "
                         "[plan=PLAN] [addresses=A,B] | remove NAME")  # fmt: skip
    action, name, rest = args[0], args[1], args[2:]
    if not is_subscriber_name(name):
        raise UsageError(f"{name!r} is not a valid subscriber name (letters, digits, . _ @ + -)")
    if name in config.settings.subscribers:
        raise UsageError(f"{name} is in the configuration file {config.path}: change it there")
    records = {r["name"]: r for r in ledger.records("provisioned")}
    if action == "remove":
        if records.pop(name, None) is None:
            raise UsageError(f"no provisioned subscriber {name!r}")
    else:
        if action == "add":
            if name in records:
                raise UsageError(f"{name} exists: use set")
            if not rest:
                raise UsageError("add needs a plan")
            record = {"name": name, "plan": rest[0], "addresses": rest[1:], "exempt": False}
        else:
            if name not in records:
                raise UsageError(f"no provisioned subscriber {name!r}")
            record = dict(records[name])
            for word in rest:
                key, _, value = word.partition("=")
                if key == "plan":
                    record["plan"] = value
                elif key == "addresses":
                    record["addresses"] = [a for a in value.split(",") if a]
                else:
                    raise UsageError(f"set takes plan=PLAN and addresses=A,B, not {word!r}")
        if record["plan"] not in config.settings.plans:
            known = ", ".join(sorted(config.settings.plans)) or "none defined"
            raise UsageError(f"no plan named {record['plan']!r} (plans: {known})")
        for address in record["addresses"]:
            try:
                ipaddress.ip_interface(address)
            except ValueError:
                raise UsageError(f"not an address or prefix: {address!r}") from None
        records[name] = record
    with ledger.batch():
        ledger.set_records("provisioned", sorted(records.values(), key=lambda r: r["name"]))
    return f"subscriber {name} {'removed' if action == 'remove' else 'saved'}"


def apply_override(ledger: Ledger, command: str, args: list[str], now: int,
                   caps: Callable[[str], list[str] | None] | None = None) -> str:  # fmt: skip
    """Record an operator's override in the ledger (the caller holds the writer).

    limit|exempt SUBSCRIBER [for=DURATION] [cap=NAME] REASON...; topup SUBSCRIBER SIZE
    [for=...] [cap=NAME] REASON...; release SUBSCRIBER (drops its force overrides).
    `caps` names a subscriber's caps (None: not known), to check cap=NAME against."""
    from nmsquota import units
    from nmsquota.errors import UsageError

    subscriber, rest = args[0], list(args[1:])
    # Expired overrides are history: dropped whenever the list changes.
    records = [r for r in ledger.records("overrides") if r["until"] is None or r["until"] > now]
    if command == "release":
        kept = [r for r in records if not (r["subscriber"] == subscriber and r["kind"] == "force")]
        with ledger.batch():
            ledger.set_records("overrides", kept)
        return f"{len(records) - len(kept)} force override(s) of {subscriber} removed"
    size = 0
    try:
        if command == "topup":
            if not rest:
                raise UsageError("topup needs a size, e.g. 5GB")
            size = units.parse_size(rest.pop(0))
        until, cap = None, None
        while rest and rest[0].startswith(("for=", "cap=")):
            key, _, value = rest.pop(0).partition("=")
            if key == "for":
                until = now + units.parse_duration(value)
            else:
                cap = value
    except units.UnitError as error:
        raise UsageError(str(error)) from None
    known = caps(subscriber) if caps is not None and cap is not None else None
    if known is not None and cap not in known:
        names = ", ".join(known) or "none: a one-cap plan"
        raise UsageError(f"{subscriber}'s plan has no cap {cap!r} (its caps: {names})")
    kind = {"limit": "force", "exempt": "exempt", "topup": "topup"}[command]
    reason = " ".join(rest) or "operator"
    record = {"subscriber": subscriber, "kind": kind, "reason": reason, "since": now,
              "until": until, "bytes": size}  # fmt: skip
    if cap is not None:
        record["cap"] = cap
    with ledger.batch():
        ledger.set_records("overrides", [*records, record])
    ends = "until removed" if until is None else f"for {units.format_duration(until - now)}"
    on = f" on cap {cap}" if cap is not None else ""
    return f"{kind} {subscriber}{on} {ends}: {reason}"


def _standing_record(decision: Decision) -> dict[str, Any]:
    """What the ledger keeps of a decision: the standing the next cycle starts from, and
    what status shows."""
    return {"limited": decision.limited, "since": decision.since, "reason": decision.reason,
            "warned": sorted(decision.warned), "used": decision.used, "cap": decision.cap,
            "cap_name": decision.cap_name, "step": decision.step,
            "step_at": decision.step_at if decision.step is not None else None,
            "rate": decision.rate_bps if decision.limited else 0}  # fmt: skip


def _standing(record: dict[str, Any]) -> Standing:
    caps = tuple((cap.get("cap_name", ""), _standing(cap)) for cap in record.get("caps", ()))
    return Standing(record["limited"], record.get("since"), record.get("reason", ""),
                    frozenset(record.get("warned", ())), caps, record.get("rate", 0),
                    record.get("step"))  # fmt: skip


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {
        "added": [limit.subscriber for limit in outcome.added],
        "removed": [limit.describe() for limit in outcome.removed],
        "unenforceable": [limit.subscriber for limit in outcome.unenforceable],
        "drift": outcome.drift,
        "errors": outcome.errors,
    }
