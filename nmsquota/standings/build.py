"""Snapshots from one commit of the ledger and the configuration that explains it.

The configuration gives the plans (caps, windows, rules) and who is on which; the ledger
gives the usage, the daemon's decisions, limits, overrides, sessions, devices, health and
events. Without a configuration a snapshot still has all of the ledger's facts, with no
plans to measure usage against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nmsquota.config import Cap, Config
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import (
    HealthRecord,
    Limit,
    OverrideRecord,
    StandingRecord,
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
    Snapshot,
    SubscriberView,
)
from nmsquota.usage import Tally, Totals

DEFAULT_WINDOW = 7 * 86400
"""The window shown for a ledger that keeps none yet (the paper's week)."""


@dataclass(frozen=True)
class PlanCap:
    """One cap of a configured plan, with the policy's rule for it and its window."""

    rule: Rule
    cap: Cap
    tally: Tally


@dataclass(frozen=True)
class Enrolled:
    """Where a subscriber is defined, on which plan, with which addresses of their own."""

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
    sessions = {s.subscriber: s for s in records.sessions()}
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
    held = {name: _held(name, plans.get(enrolled.get(name, NOWHERE).plan or "", ()),
                        standings.get(name), overrides_of.get(name, ()))
            for name in sorted(names)}  # fmt: skip
    lifts = lift_times(ledger, (cap for caps in held.values() for cap in caps))
    views = []
    for name, caps in held.items():
        member = enrolled.get(name, NOWHERE)
        session = sessions.get(name)
        addresses = tuple(
            dict.fromkeys([*member.addresses, *(session.addresses if session else ())])
        )
        standing = standings.get(name)
        views.append(SubscriberView(
            name, member.kept_in, member.plan, addresses,
            tuple(_cap_view(cap, totals, lifts, ledger.as_of) for cap in caps), standing,
            standing.check if standing else None, limit_of.get(name),
            tuple(overrides_of.get(name, ())), session,
        ))  # fmt: skip
    health = records.health()
    return Snapshot(
        as_of=ledger.as_of,
        cycle=_cycle(health, limits) if health is not None else None,
        subscribers=tuple(views),
        by_name={view.name: view for view in views},
        devices=_devices(ledger, config, health),
        limits=tuple(limits),
        overrides=tuple(overrides),
        events=tuple(records.events()),
        default_tally=default,
        totals=totals,
    )


def _held(name: str, caps: Sequence[PlanCap], standing: StandingRecord | None,
          overrides: Sequence[OverrideRecord]) -> tuple[HeldCap, ...]:  # fmt: skip
    """Each cap of `name`'s plan with the daemon's last decision on it."""
    return tuple(
        HeldCap(name, c.rule, c.cap, c.tally,
                standing.of(c.rule.name, several=len(caps) > 1) if standing else None,
                overrides)
        for c in caps
    )  # fmt: skip


def _cap_view(held: HeldCap, totals: Mapping[str, Mapping[str, Totals]],
              lifts: Mapping[tuple[str, str], int | None],
              as_of: int | None) -> CapView:  # fmt: skip
    rule, cap, tally = held.rule, held.cap, held.tally
    usage = totals[tally.key].get(held.subscriber, Totals())
    topups = topups_on(rule.name, rule.cap, used(usage, rule.direction), held.overrides, as_of)
    return CapView(rule.name, cap.label, tally, cap.direction, rule.cap, usage, held.decided,
                   lifts.get(held.key), topups)  # fmt: skip


def _cycle(health: HealthRecord, limits: Sequence[Limit]) -> CycleView:
    flagged = set(health.not_effective)
    # A limit's `driver` names every configured driver, whether it holds the limit or not:
    # only a ledger from before `installed` was recorded has nothing better.
    configured = {limit.subscriber: limit.driver.split(",") for limit in limits}

    def holds(driver: str, installed: Sequence[str] | None, subscriber: str) -> bool:
        if installed is not None:
            return subscriber in installed
        return driver in configured.get(subscriber, [driver])

    drivers = tuple(
        DriverView(
            name, outcome.added, outcome.removed, outcome.unenforceable, outcome.drift,
            outcome.errors, outcome.installed,
            tuple(sorted(n for n in flagged if holds(name, outcome.installed, n))),
            outcome.drifting,
        )
        for name, outcome in health.drivers.items()
    )  # fmt: skip
    return CycleView(
        number=health.number, started=health.started, due=health.due,
        seconds=health.seconds, lateness=health.lateness, interval=health.interval,
        skipped=health.skipped, updated=health.updated, devices_ok=health.devices_ok,
        devices_failed=health.devices_failed, limited=health.limited,
        changed=health.changed, no_plan=health.no_plan,
        not_effective=health.not_effective, drivers=drivers, simulated=health.simulated,
        devices_skipped=health.devices_skipped, causes=health.causes, cpu=health.cpu,
        queued=health.queued, device_cost=health.device_cost, capacity=health.capacity,
    )  # fmt: skip


def _devices(
    ledger: Ledger, config: Config | None, health: HealthRecord | None
) -> tuple[DeviceView, ...]:
    kept = {record.name: record for record in ledger.records.devices()}
    servers = config.settings.access_servers if config is not None else {}
    names = list(servers)
    if health is not None:
        names += [*health.devices_ok, *health.devices_failed, *health.devices_skipped]
    views = []
    for name in sorted({*names, *kept}):
        record = kept.get(name)
        answered: bool | None = None
        error = record.error if record else None
        if health is not None and name in health.devices_ok:
            answered = True
        elif health is not None and name in health.devices_failed:
            answered, error = False, health.devices_failed[name]
        configured = servers.get(name)
        source = configured.source if configured is not None else None
        views.append(DeviceView(name, answered, error, record, source))
    return tuple(views)
