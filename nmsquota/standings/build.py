"""Snapshots from one commit of the ledger and the configuration that explains it.

The configuration gives the plans (caps, windows, rules) and who is on which; the ledger
gives the usage, the daemon's decisions, limits, overrides, sessions, devices, health and
events. Without a configuration a snapshot still has all of the ledger's facts, with no
plans to measure usage against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from nmsquota.config import Cap, Config
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import (
    CapStanding,
    HealthRecord,
    Limit,
    OverrideRecord,
    SessionRecord,
    SubscriberRecord,
)
from nmsquota.plans import configured_members, members, plans_of, rules_of
from nmsquota.policy import Rule, used
from nmsquota.standings.lifts import HeldCap, lift_times
from nmsquota.standings.topups import topups_on
from nmsquota.standings.views import (
    CapView,
    CycleView,
    DeviceView,
    DriverView,
    KeptIn,
    PopView,
    Snapshot,
    SubscriberView,
)
from nmsquota.usage import Tally, Totals

NO_USAGE = Totals()
"""The usage of someone with none in a window (one object for all of them)."""
DEFAULT_WINDOW = 7 * 86400
"""The window shown for a ledger that keeps none yet (the paper's week)."""


@dataclass(frozen=True)
class PlanCap:
    """One cap of a configured plan, with the policy's rule for it and its window, and
    what the views of everyone on the plan share (worked out once per plan, not once per
    subscriber: at 100,000 subscribers that was a second)."""

    rule: Rule
    cap: Cap
    tally: Tally
    label: str = field(init=False)
    key: str = field(init=False)
    """The tally's key (its window's totals in a snapshot)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.cap.label)
        object.__setattr__(self, "key", self.tally.key)


class Enrolled(NamedTuple):
    """Where a subscriber is defined, on which plan, with which addresses of their own.
    (A named tuple: one per subscriber per snapshot, and a tuple is made several times
    faster than a frozen dataclass.)"""

    kept_in: KeptIn
    plan: str | None
    addresses: tuple[str, ...] = ()


NOWHERE = Enrolled("nowhere", None)
"""Someone seen in the usage records only, defined nowhere."""


def plan_caps(config: Config | None) -> dict[str, tuple[PlanCap, ...]]:
    """Each configured plan's caps, in the plan's order."""
    if config is None:
        return {}
    zone = config.settings.timezone
    rules = rules_of(config)
    return {
        name: tuple(PlanCap(rule, cap, cap.tally(zone))
                    for rule, cap in zip(rules[name], plan.all_caps(), strict=True))
        for name, plan in config.settings.plans.items()
    }  # fmt: skip


def roster(config: Config | None, provisioned: Sequence[SubscriberRecord],
           seen: Iterable[str]) -> dict[str, Enrolled]:  # fmt: skip
    """Everyone with a plan, as the daemon counts them (nmsquota.plans): those provisioned
    in the ledger, the configuration's (which win a name both have), and with a
    `default_plan` everyone else `seen` on the network."""
    configured = configured_members(config) if config is not None else {}
    known = members(configured, provisioned)
    default = config.settings.default_plan if config is not None else None
    found = {}
    for name, plan in plans_of(known, default, seen).items():
        member = known.get(name)
        kept_in: KeptIn = ("configuration" if name in configured else
                           "ledger" if member is not None else "nowhere")  # fmt: skip
        found[name] = Enrolled(kept_in, plan, tuple(member.addresses) if member else ())
    return found


def totals_in(ledger: Ledger, tally: Tally) -> dict[str, Totals]:
    """Usage in `tally`'s window as of the last commit: the ledger's running totals when it
    keeps that window, else counted from the stored samples."""
    as_of = ledger.as_of
    if as_of is None:
        return {}
    if tally.key in {kept.key for kept in ledger.tallies()}:
        return ledger.totals(tally)
    return ledger.recount(tally, tally.edge_at(as_of))


def snapshot(ledger: Ledger, config: Config | None) -> Snapshot:
    records = ledger.records
    plans = plan_caps(config)
    # One record per POP that has seen a subscriber: the one where they are online tells.
    sessions: dict[str, SessionRecord] = {}
    for seen in records.sessions():
        if seen.online or seen.subscriber not in sessions:
            sessions[seen.subscriber] = seen
    enrolled = roster(config, records.provisioned(), sessions)
    standings = {r.subscriber: r for r in records.standings()}
    limits = records.limits()
    kept = ledger.tallies()
    default = kept[0] if kept else Tally(DEFAULT_WINDOW)
    tallies = {default.key: default}
    tallies.update((c.tally.key, c.tally) for caps in plans.values() for c in caps)
    totals = {key: totals_in(ledger, tally) for key, tally in tallies.items()}
    names = set(enrolled) | set(standings) | set(sessions) | {lim.subscriber for lim in limits}
    names.update(name for table in totals.values() for name in table)
    limit_of = {limit.subscriber: limit for limit in limits}
    overrides = records.overrides()
    overrides_of: dict[str, list[OverrideRecord]] = {}
    for override in overrides:
        overrides_of.setdefault(override.subscriber, []).append(override)
    as_of = ledger.as_of
    # The daemon's decision on each cap of those it decided on (a few in ten), and the lift
    # times of the limited caps among them from one read of the samples (lift_times), before
    # the views, which need them. What is the same for everyone on a plan (labels, window
    # keys, rules) was worked out once, in `plans`.
    Decided = tuple[CapStanding | None, ...]
    undecided: dict[int, Decided] = {len(caps): (None,) * len(caps) for caps in plans.values()}
    decided_of: dict[str, Decided] = {}
    limited: list[HeldCap] = []
    for name, record in standings.items():
        caps = plans.get(enrolled.get(name, NOWHERE).plan or "", ())
        several = len(caps) > 1
        decided_of[name] = tuple(record.of(c.rule.name, several) for c in caps)
        for c, decision in zip(caps, decided_of[name], strict=True):
            if decision is not None and decision.limited:
                limited.append(HeldCap(name, c.rule, c.cap, c.tally, decision,
                                       overrides_of.get(name, ())))  # fmt: skip
    lifts = lift_times(ledger, limited)
    views = []
    for name in sorted(names):
        member = enrolled.get(name, NOWHERE)
        caps = plans.get(member.plan or "", ())
        mine = overrides_of.get(name, ())
        standing = standings.get(name)
        decided = decided_of[name] if standing is not None else undecided.get(len(caps), ())
        session = sessions.get(name)
        addresses = member.addresses
        if session is not None and session.addresses:
            addresses = (*addresses, *session.addresses)
        if len(addresses) > 1:
            addresses = tuple(dict.fromkeys(addresses))
        views.append(SubscriberView(
            name, member.kept_in, member.plan, addresses,
            tuple([_cap_view(name, c, decision, totals, lifts, mine, as_of)
                   for c, decision in zip(caps, decided, strict=True)]),
            standing, standing.check if standing else None, limit_of.get(name),
            tuple(mine), session,
        ))  # fmt: skip
    healths = records.healths()
    health = max(healths, key=lambda record: record.started) if healths else None
    return Snapshot(
        as_of=as_of,
        cycle=_cycle(health, limits) if health is not None else None,
        subscribers=tuple(views),
        by_name={view.name: view for view in views},
        devices=_devices(ledger, config, healths),
        limits=tuple(limits),
        overrides=tuple(overrides),
        events=tuple(records.events()),
        default_tally=default,
        totals=totals,
        pops=_pops(healths, sessions.values(), limits),
    )


def _pops(healths: Sequence[HealthRecord], sessions: Iterable[SessionRecord],
          limits: Sequence[Limit]) -> tuple[PopView, ...]:  # fmt: skip
    """Each POP's last cycle, judged against the deciding POP's: the latest begun of those
    whose daemon decided (one that died deciding leaves a record that says so)."""
    deciders = [record for record in healths if record.deciding]
    decider = max(deciders, key=lambda record: record.started) if deciders else None
    wanted = decider.plans_fingerprint if decider is not None else ""
    online: dict[str, int] = {}
    for session in sessions:
        if session.online:
            online[session.access_server] = online.get(session.access_server, 0) + 1
    views = []
    for record in healths:
        # Access server names are unique across the POPs sharing a ledger (its baselines
        # are keyed by them): the sessions on a POP's are that POP's.
        servers = {*record.devices_ok, *record.devices_failed, *record.devices_skipped}
        other = bool(wanted and record.plans_fingerprint and record.plans_fingerprint != wanted)
        views.append(PopView(
            record.pop, record.number, record.started, record.interval, record.deciding,
            record.devices_ok, record.devices_failed, record.devices_skipped,
            sum(online.get(server, 0) for server in servers), record.plans_fingerprint,
            other, record.simulated, _drivers(record, limits),
        ))  # fmt: skip
    return tuple(views)


def _cap_view(name: str, plan_cap: PlanCap, decided: CapStanding | None,
              totals: Mapping[str, Mapping[str, Totals]],
              lifts: Mapping[tuple[str, str], int | None],
              overrides: Sequence[OverrideRecord], as_of: int | None) -> CapView:  # fmt: skip
    rule, tally = plan_cap.rule, plan_cap.tally
    usage = totals[plan_cap.key].get(name, NO_USAGE)
    # No overrides, no top-ups: the common case skips the sort and the arithmetic.
    topups = (topups_on(rule.name, rule.cap, used(usage, rule.direction), overrides, as_of)
              if overrides else ())  # fmt: skip
    return CapView(rule.name, plan_cap.label, tally, plan_cap.cap.direction, rule.cap, usage,
                   decided, lifts.get((name, rule.name)), topups)  # fmt: skip


def _cycle(health: HealthRecord, limits: Sequence[Limit]) -> CycleView:
    return CycleView(
        number=health.number, started=health.started, due=health.due,
        seconds=health.seconds, lateness=health.lateness, interval=health.interval,
        skipped=health.skipped, updated=health.updated, devices_ok=health.devices_ok,
        devices_failed=health.devices_failed, limited=health.limited,
        changed=health.changed, no_plan=health.no_plan,
        not_effective=health.not_effective, drivers=_drivers(health, limits),
        simulated=health.simulated, devices_skipped=health.devices_skipped,
        causes=health.causes, cpu=health.cpu, queued=health.queued,
        device_cost=health.device_cost, capacity=health.capacity, varbinds=health.varbinds,
        pop=health.pop,
    )  # fmt: skip


def _drivers(health: HealthRecord, limits: Sequence[Limit]) -> tuple[DriverView, ...]:
    """What each of the cycle's drivers did, and which of the limits it holds bite not."""
    flagged = set(health.not_effective)
    # A limit's `driver` names every configured driver, whether it holds the limit or not:
    # only a ledger from before `installed` was recorded has nothing better.
    configured = {limit.subscriber: limit.driver.split(",") for limit in limits}

    def holds(driver: str, installed: Sequence[str] | None, subscriber: str) -> bool:
        if installed is not None:
            return subscriber in installed
        return driver in configured.get(subscriber, [driver])

    return tuple(
        DriverView(
            name, outcome.added, outcome.removed, outcome.unenforceable, outcome.drift,
            outcome.errors, outcome.installed,
            tuple(sorted(n for n in flagged if holds(name, outcome.installed, n))),
            outcome.drifting,
        )
        for name, outcome in health.drivers.items()
    )  # fmt: skip


def _devices(
    ledger: Ledger, config: Config | None, healths: Sequence[HealthRecord]
) -> tuple[DeviceView, ...]:
    kept = {record.name: record for record in ledger.records.devices()}
    servers = config.settings.access_servers if config is not None else {}
    names = list(servers)
    # Each access server as the last cycle of the POP polling it saw it (skipped: not known).
    polled: dict[str, tuple[bool | None, str | None]] = {}
    for health in sorted(healths, key=lambda record: record.started):
        polled.update(dict.fromkeys(health.devices_skipped, (None, None)))
        polled.update(dict.fromkeys(health.devices_ok, (True, None)))
        polled.update((name, (False, error)) for name, error in health.devices_failed.items())
    views = []
    for name in sorted({*names, *polled, *kept}):
        record = kept.get(name)
        answered, failure = polled.get(name, (None, None))
        error = failure if answered is False else record.error if record else None
        configured = servers.get(name)
        source: str | None = configured.source if configured is not None else None
        if configured is not None and configured.profile is not None:
            source = configured.profile  # an operator's profile file: shown as configured
        views.append(DeviceView(name, answered, error, record, source))
    return tuple(views)
