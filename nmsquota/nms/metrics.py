"""The metrics exposition: one Snapshot (and the time now) in, the text Prometheus scrapes
out, for `nmsquota metrics` (node_exporter's textfile collector) and the daemon's
`[metrics] listen` endpoint alike.

Two spellings of the same families: the Prometheus text format (version 0.0.4, what the
textfile collector and `promtool check metrics` read, and what a scrape gets by default) and
OpenMetrics 1.0 (asked for with `Accept: application/openmetrics-text`), which names a
counter's family without its `_total` and ends with `# EOF`.

Names follow Prometheus' conventions: the `nmsquota_` prefix, base units in the name
(`_bytes`, `_seconds`), `_total` only on counters. What the read API does not keep is not
made up: driver repairs, limits not effective and the varbinds polled are the last cycle's,
so gauges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from nmsquota.nms.counts import counts
from nmsquota.standings import CycleView, DriverView, Snapshot, State, SubscriberView, Tally

Kind = Literal["gauge", "counter"]
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
STATES = tuple(state.value for state in State)
HEALTHS = ("ok", "drifting", "failing")


@dataclass(slots=True)
class Family:
    """One metric family: its samples share the name, the type and the help."""

    name: str
    """The samples' name; a counter's ends with _total."""
    kind: Kind
    help: str
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append((labels, value))


def exposition(snap: Snapshot, now: float, *, openmetrics: bool = False) -> str:
    """Every family of the snapshot as exposition text."""
    return render(families(snap, now), openmetrics=openmetrics)


def families(snap: Snapshot, now: float) -> list[Family]:
    return [*_headcounts(snap), *_ledger(snap), *_subscribers(snap.subscribers),
            *_cycle(snap.cycle, now), *_drivers(snap.cycle)]  # fmt: skip


def exported_names() -> frozenset[str]:
    """Every family name this module can export (the samples' names), for checking a
    dashboard against."""
    empty = Snapshot(as_of=None, cycle=None, subscribers=(), by_name={}, devices=(), limits=(),
                     overrides=(), events=(), default_tally=Tally(window=1), totals={})  # fmt: skip
    return frozenset(family.name for family in families(empty, 0.0))


# -- the text --------------------------------------------------------------------------------


def render(found: Iterable[Family], *, openmetrics: bool = False) -> str:
    lines: list[str] = []
    for family in found:
        # OpenMetrics names a counter's family without the _total its samples carry.
        name = family.name
        if openmetrics and family.kind == "counter":
            name = name.removesuffix("_total")
        lines.append(f"# HELP {name} {_escape_help(family.help, openmetrics)}")
        lines.append(f"# TYPE {name} {family.kind}")
        for labels, value in family.samples:
            lines.append(f"{family.name}{_labels(labels)} {_number(value)}")
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"


def escape_label(value: str) -> str:
    """A label value as both formats quote it: a backslash, a double quote and a newline
    escaped, so a subscriber named with any of them cannot end the value or the line."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str, openmetrics: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if openmetrics else text


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{escape_label(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- the families ------------------------------------------------------------------------------


def _gauge(name: str, help: str, value: float | None = None) -> Family:
    family = Family(f"nmsquota_{name}", "gauge", help)
    if value is not None:
        family.add(value)
    return family


def _headcounts(snap: Snapshot) -> list[Family]:
    found = counts(snap)
    return [
        _gauge("subscribers", "Subscribers known: configured, provisioned or seen.",
               found.subscribers),
        _gauge("subscribers_online", "Subscribers with a session online.", found.online),
        _gauge("subscribers_limited", "Subscribers the drivers hold at a limited rate.",
               found.limited),
        _gauge("subscribers_stepped", "Limited subscribers held at a graded step before "
               "the cap.", found.stepped),
        _gauge("subscribers_not_effective", "Limited subscribers whose limit was measured "
               "not to bite.", found.not_effective),
    ]  # fmt: skip


def _ledger(snap: Snapshot) -> list[Family]:
    commit = _gauge("ledger_commit_timestamp_seconds",
                    "When the ledger's last commit was, Unix time.")  # fmt: skip
    if snap.as_of is not None:
        commit.add(snap.as_of)
    return [commit]


def _subscribers(views: Iterable[SubscriberView]) -> list[Family]:
    used = _gauge("subscriber_used_bytes", "Bytes counted against a cap in its window.")
    cap = _gauge("subscriber_cap_bytes", "A cap of the subscriber's plan, in its window.")
    state = _gauge("subscriber_state", "The subscriber's state: 1 for the one they are in.")
    rate = _gauge("subscriber_limit_bytes_per_second",
                  "The rate the drivers hold the subscriber to (0: not limited).")  # fmt: skip
    online = _gauge("subscriber_online", "1 when the subscriber has a session online.")
    biting = _gauge("subscriber_limit_not_effective",
                    "1 when the subscriber's limit was measured not to bite.")  # fmt: skip
    for view in views:
        who = view.name
        for each in view.caps:
            window = {"subscriber": who, "cap": each.label, "window": each.tally.key,
                      "direction": each.direction}  # fmt: skip
            used.add(each.used, **window)
            cap.add(each.cap, **window)
        for name in STATES:
            state.add(1 if view.state.value == name else 0, subscriber=who, state=name)
        held = view.limit.rate_bps if view.limit is not None and view.limit.rate_bps else 0
        rate.add(held / 8, subscriber=who)
        online.add(1 if view.online else 0, subscriber=who)
        biting.add(1 if view.not_effective else 0, subscriber=who)
    return [used, cap, state, rate, online, biting]


def _cycle(cycle: CycleView | None, now: float) -> list[Family]:
    started = _gauge("cycle_start_timestamp_seconds", "When the last cycle started, Unix time.")
    age = _gauge("cycle_age_seconds", "Seconds since the last cycle started.")
    duration = _gauge("cycle_duration_seconds", "How long the last cycle took.")
    late = _gauge("cycle_lateness_seconds", "How late the last cycle started after it was due.")
    interval = _gauge("cycle_interval_seconds", "The polling interval.")
    cpu = _gauge("cycle_cpu_seconds", "CPU seconds the last cycle's poll took.")
    varbinds = _gauge("cycle_varbinds", "Varbinds the access servers that answered in the "
                      "last cycle read.")  # fmt: skip
    devices = _gauge("devices", "Access servers in the last cycle, by outcome.")
    up = _gauge("device_up", "1 when the access server answered in the last cycle.")
    number = Family("nmsquota_cycles_total", "counter", "Cycles the daemon has run.")
    skipped = Family("nmsquota_cycles_skipped_total", "counter",
                     "Cycles skipped because one overran its interval.")  # fmt: skip
    found = [started, age, duration, late, interval, cpu, varbinds, devices, up, number, skipped]
    if cycle is None:
        return found
    started.add(cycle.started)
    age.add(cycle.age(now))
    duration.add(cycle.seconds)
    late.add(cycle.lateness)
    interval.add(cycle.interval)
    cpu.add(cycle.cpu)
    varbinds.add(cycle.varbinds)
    devices.add(len(cycle.devices_ok), outcome="ok")
    devices.add(len(cycle.devices_failed), outcome="failed")
    devices.add(len(cycle.devices_skipped), outcome="skipped")
    for name in cycle.devices_ok:
        up.add(1, device=name)
    for name in cycle.devices_failed:
        up.add(0, device=name)
    number.add(cycle.number)
    skipped.add(cycle.skipped)
    return found


def _drivers(cycle: CycleView | None) -> list[Family]:
    health = _gauge("driver_health", "The driver's health: 1 for the one it is in.")
    repairs = _gauge("driver_repairs", "Differences nmsquota did not make that the driver "
                     "found and repaired in the last cycle.")  # fmt: skip
    errors = _gauge("driver_errors", "Errors the driver had in the last cycle.")
    biting = _gauge("driver_not_effective_limits",
                    "Limits the driver holds that were measured not to bite.")  # fmt: skip
    held = _gauge("driver_limits", "Subscribers the driver holds limited.")
    drivers: tuple[DriverView, ...] = cycle.drivers if cycle is not None else ()
    for driver in drivers:
        for name in HEALTHS:
            health.add(1 if driver.health == name else 0, driver=driver.name, health=name)
        repairs.add(len(driver.drift), driver=driver.name)
        errors.add(len(driver.errors), driver=driver.name)
        biting.add(len(driver.not_effective), driver=driver.name)
        if driver.installed is not None:
            held.add(len(driver.installed), driver=driver.name)
    return [health, repairs, errors, biting, held]
