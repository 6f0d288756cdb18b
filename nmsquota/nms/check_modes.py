"""The check plugin's modes, each a nagiosplugin Resource over the read API (what is
measured), judged by Contexts (the threshold ranges: the library's logic, not ours) and told
in one line by a Summary.

Every mode reads the NMS summary the daemon writes after each commit (nmsquota.nms.summary:
one small file, no schema to build), or, when there is none for the ledger as it is on disk
(no daemon writes one, a commit since), the same summary made here from the ledger through
the read API: the same facts either way, slower the second.

Every read happens in a Resource's `probe`, so that the plugin's `-t` timeout covers it. A
ledger that cannot be read is UNKNOWN in every mode but `ledger` (the plugin cannot measure
what it was asked to), and CRITICAL in `ledger` mode, whose service is the ledger itself; a
stopped daemon is CRITICAL there, as the guidelines have it for a service not running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import nagiosplugin
from nagiosplugin import (
    CheckError,
    Context,
    Critical,
    Metric,
    Ok,
    Result,
    ScalarContext,
    Warn,
)

from nmsquota import units
from nmsquota.nms import summary
from nmsquota.nms.check_text import escape, one_line, perf_label
from nmsquota.nms.summary import CycleFacts, DriverFacts, PopFacts, Summary

if TYPE_CHECKING:
    from nmsquota.config import Config

MODES = ("subscriber", "poller", "limited", "drivers", "ledger")
SHOWN = 5
"""Names listed in the one line before "and N more" (the core's column stays readable)."""


class Where(NamedTuple):
    """Where the plugin reads, as `nmsquota` itself finds it: --config (else the first
    configuration found), --ledger (else the configuration's data_dir, else the default),
    and when "now" is."""

    config: Path | None
    ledger: Path | None
    now: float
    ping_timeout: float = 5.0
    """How long `ledger` mode waits for the daemon to answer its ping."""


class Thresholds(NamedTuple):
    """-w and -c as given (None: the mode's default)."""

    warning: str | None
    critical: str | None


NO_THRESHOLDS = Thresholds(None, None)


# -- reading -------------------------------------------------------------------------------


class LedgerUnreadable(CheckError):  # type: ignore[misc]  # nagiosplugin has no types
    """The ledger (or its configuration) could not be read: UNKNOWN, reason in the text."""


def _config(where: Where) -> Config | None:
    from nmsquota.config import find_config, load_config
    from nmsquota.errors import NmsquotaError

    path = where.config or find_config()
    if path is None:
        return None
    try:
        # A reader builds no driver, so it loads none (pysnmp stays off the path).
        return load_config(path, check_drivers=False)
    except (NmsquotaError, OSError) as error:
        raise LedgerUnreadable(f"configuration: {one_line(str(error))}") from None


def _data_dir(where: Where, config: Config | None) -> Path:
    from nmsquota.config import default_data_dir

    if where.ledger is not None:
        return where.ledger
    return config.data_dir if config is not None else default_data_dir()


def _location(where: Where, config: Config | None) -> Path | str:
    """Where the ledger is read when there is no current summary: the configuration's
    `[ledger] url` (a database) if it names one, else the directory."""
    if where.ledger is None and config is not None:
        return config.ledger_location
    return _data_dir(where, config)


def _summarised_dir(where: Where) -> Path | None:
    """The ledger's directory as far as the configuration file's `data_dir` says, read
    without validating the file (None: it cannot say; the whole file is then loaded)."""
    from nmsquota.config.places import data_dir_of, default_data_dir, find_config

    if where.ledger is not None:
        return where.ledger
    path = where.config or find_config()
    return default_data_dir() if path is None else data_dir_of(path)


def read(where: Where, subscribers: bool = False) -> tuple[Path, Summary]:
    """The ledger's directory and the summary of its last commit (with the subscribers'
    lines only if `subscribers`: a mode about one of them); LedgerUnreadable with the
    reason."""
    directory = _summarised_dir(where)
    if directory is not None:
        found = summary.current(directory, subscribers)
        if found is not None:
            return directory, found
    from nmsquota.errors import NmsquotaError
    from nmsquota.nms.summarise import read as summarise

    config = _config(where)
    directory = _data_dir(where, config)
    try:
        return directory, summarise(directory, config, _location(where, config))
    except (NmsquotaError, OSError) as error:
        # Missing, corrupt, refused (permissions, a record of a kind it cannot read).
        raise LedgerUnreadable(f"cannot read the ledger: {one_line(str(error))}") from None


# -- contexts ------------------------------------------------------------------------------


class Judged(Context):  # type: ignore[misc]
    """A fact the probe has already judged: the metric's value is (state, text). No perfdata."""

    def evaluate(self, metric: Any, resource: Any) -> Any:
        state, text = metric.value
        return Result(state, text, None)

    def performance(self, metric: Any, resource: Any) -> None:
        return None


class Ranged(ScalarContext):  # type: ignore[misc]
    """A value judged by nagiosplugin's ranges: -w/-c as given, else the mode's defaults,
    fixed or derived from what the probe found (a cycle's interval, the number of access
    servers; set when the metric is judged, which is after the probe read the ledger). No
    range: never a problem, whatever the sign, and nothing in the perfdata's field."""

    def __init__(self, name: str, fmt_metric: str = "{name} {valueunit}",
                 given: Thresholds = NO_THRESHOLDS,
                 default: Callable[[Any], Thresholds] | None = None) -> None:  # fmt: skip
        super().__init__(name, fmt_metric=fmt_metric)
        self.given = given
        self.default = default or fixed()
        self.shown = NO_THRESHOLDS

    def evaluate(self, metric: Any, resource: Any) -> Any:
        default = self.default(resource)
        warning = self.given.warning if self.given.warning is not None else default.warning
        critical = self.given.critical if self.given.critical is not None else default.critical
        self.shown = Thresholds(warning, critical)
        self.warning = nagiosplugin.Range(warning if warning is not None else "~:")
        self.critical = nagiosplugin.Range(critical if critical is not None else "~:")
        return super().evaluate(metric, resource)

    def performance(self, metric: Any, resource: Any) -> Any:
        return nagiosplugin.Performance(
            metric.name, metric.value, metric.uom, _range(self.shown.warning),
            _range(self.shown.critical), metric.min, metric.max,
        )  # fmt: skip


def _range(given: str | None) -> str:
    return "" if given is None else str(nagiosplugin.Range(given))


def fixed(warning: str | None = None, critical: str | None = None) -> Callable[[Any], Thresholds]:
    return lambda _resource: Thresholds(warning, critical)


class Told(nagiosplugin.Summary):  # type: ignore[misc]
    """The resource's own sentence; with a problem, what is wrong first."""

    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def ok(self, results: Any) -> str:
        return str(self.resource.text)

    def problem(self, results: Any) -> str:
        worst = results.most_significant_state
        reasons = [str(result) for result in results if result.state == worst]
        text = str(getattr(self.resource, "text", ""))
        return "; ".join(reasons + ([text] if text else []))

    def verbose(self, results: Any) -> list[str]:
        return list(getattr(self.resource, "details", []))


def names(found: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(escape(name) for name in found[:SHOWN])
    more = len(found) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def ago(seconds: float) -> str:
    if seconds < 0:
        return f"{units.format_duration(int(-seconds))} ahead of this clock"
    return f"{units.format_duration(int(seconds))} ago"


# -- the modes -----------------------------------------------------------------------------


class Base(nagiosplugin.Resource):  # type: ignore[misc]
    name = "NMSQUOTA"

    def __init__(self, where: Where) -> None:
        self.where = where
        self.text = ""
        self.details: list[str] = []


class Subscriber(Base):
    """One subscriber: each cap's usage in its window as a percentage of the cap, and the
    limit in force."""

    def __init__(self, where: Where, subscriber: str) -> None:
        super().__init__(where)
        self.subscriber = subscriber

    def probe(self) -> Iterator[Metric]:
        _, summed = read(self.where, subscribers=True)
        view = summed.subscriber(self.subscriber)
        who = escape(self.subscriber)
        if view is None:
            raise CheckError(f"no subscriber {who} in the ledger or the configuration")
        if not view.caps:
            raise CheckError(f"subscriber {who} has no plan with a cap: nothing to measure")
        shown = [f"{cap.label} {cap.percent:.0f}% of {units.format_bytes(cap.cap)}"
                 for cap in view.caps]  # fmt: skip
        self.text = f"{who}: {', '.join(shown)}, {_limit_text(view)}"
        for cap in view.caps:
            label = perf_label(cap.label)
            yield Metric(f"usage_{label}", round(cap.percent, 2), "%", min=0, context="usage")
            yield Metric(f"used_{label}", cap.used, "B", min=0, max=cap.cap, context="bytes")
        rate = view.limit.rate_bps if view.limit is not None else 0
        yield Metric("limit_bps", rate, min=0, context="rate")
        self.details = [f"plan {escape(view.plan or '?')}"] + [
            f"cap {escape(cap.label)}: {units.format_bytes(cap.used)} of "
            f"{units.format_bytes(cap.cap)} ({cap.percent:.1f}%), {cap.state}"
            + (f", step at {cap.step_at:g}%" if cap.step_at is not None else "")
            for cap in view.caps
        ]


def _limit_text(view: summary.SubscriberFacts) -> str:
    limit = view.limit
    if limit is None:
        return f"not limited ({view.state})"
    rate = units.format_rate(limit.rate_bps) if limit.rate_bps else "an unknown rate"
    text = f"limited to {rate} ({escape(limit.reason)})"
    steps = [f"{cap.label} step at {cap.step_at:g}%" for cap in view.caps if cap.step_at]
    if steps:
        text += f", on the {', '.join(steps)}"
    if view.measured_bps is not None:
        text += (f", LIMIT NOT EFFECTIVE: measured "
                 f"{units.format_measured_rate(view.measured_bps)}")  # fmt: skip
    return text


class Poller(Base):
    """The last complete cycle: how old, how long it took against its interval, which access
    servers failed or were skipped for load."""

    interval = 300
    devices = 0

    def probe(self) -> Iterator[Metric]:
        _, summed = read(self.where)
        cycle = summed.cycle
        if cycle is None:
            yield Metric("cycle", (Critical, "no cycle recorded: the daemon has not run on "
                                   "this ledger"), context="judged")  # fmt: skip
            return
        self.interval = cycle.interval
        answered, skipped = len(cycle.devices_ok), list(cycle.devices_skipped)
        failed = list(cycle.devices_failed)
        if summed.pops:
            # Several POPs: every POP's access servers, not only the latest cycle's.
            answered = sum(len(pop.devices_ok) for pop in summed.pops)
            failed = [name for pop in summed.pops for name in pop.devices_failed]
        self.devices = answered + len(failed) + len(skipped)
        age = cycle.age(self.where.now)
        when = ("on a simulated clock (a demo's ledger: no daemon cycles it)"
                if cycle.simulated else ago(age))  # fmt: skip
        self.text = (f"cycle {cycle.number} {when}, took {cycle.seconds:.1f}s of its "
                     f"{cycle.interval}s interval; {answered} of {self.devices} "
                     "access servers answered")  # fmt: skip
        if failed:
            self.text += f", failed: {names(failed)}"
        if skipped:
            self.text += f", skipped for load: {names(skipped)}"
        if not cycle.simulated:
            # A cycle "in the future" is this machine's clock behind the daemon's: not late.
            yield Metric("age", round(float(max(age, 0.0)), 1), "s", min=0, context="age")
        yield Metric("cycle_seconds", round(cycle.seconds, 3), "s", min=0, context="overrun")
        yield Metric("lateness", round(cycle.lateness, 3), "s", context="lateness")
        yield Metric("devices_failed", len(failed), min=0, max=self.devices, context="failed")
        yield Metric("devices_skipped", len(skipped), min=0, max=self.devices, context="skipped")
        causes = cycle.causes
        self.details = [f"{escape(name)}: {causes.get(name, 'error')}: {one_line(error)}"
                        for name, error in cycle.devices_failed.items()]  # fmt: skip
        if summed.pops:
            yield from self._pops(summed.pops)

    def _pops(self, pops: tuple[summary.PopFacts, ...]) -> Iterator[Metric]:
        """Each POP's last cycle, where several POPs' daemons share the ledger: one whose
        daemon stopped cycling, or which runs other plans than the deciding POP, is named."""
        now = self.where.now
        deciding = [pop.name for pop in pops if pop.deciding and not pop.stale(now)]
        stale = [pop for pop in pops if pop.stale(now)]
        other = [pop for pop in pops if pop.other_plans]
        self.text += f"; POPs: {len(pops)}, deciding: {names(deciding) or 'none'}"
        if stale:
            self.text += f", stale: {names([pop.name for pop in stale])}"
        if other:
            self.text += f", other plans: {names([pop.name for pop in other])}"
        for pop in stale:
            yield Metric(f"pop_{perf_label(pop.name)}_stale", _stale_pop(pop, now),
                         context="judged")  # fmt: skip
        for pop in other:
            yield Metric(f"pop_{perf_label(pop.name)}_plans", (Warn, (
                f"POP {escape(pop.name)} runs other plans or subscribers than the deciding "
                "POP")), context="judged")  # fmt: skip
        yield Metric("pops", len(pops), min=0, context="count")
        yield Metric("pops_stale", len(stale), min=0, max=len(pops), context="count")
        yield Metric("pops_other_plans", len(other), min=0, max=len(pops), context="count")
        self.details += [
            f"POP {escape(pop.name)}: {'deciding' if pop.deciding else 'following'}, cycle "
            f"{pop.number} {ago(pop.age(now))}{', STALE' if pop.stale(now) else ''}, "
            f"{len(pop.devices_ok)} access servers answered, {len(pop.devices_failed)} failed, "
            f"{pop.sessions} sessions{', other plans' if pop.other_plans else ''}"
            for pop in pops
        ]


def _stale_pop(pop: summary.PopFacts, now: float) -> tuple[Any, str]:
    """A POP whose daemon stopped cycling. CRITICAL when sessions are online on its access
    servers, as the poller check is for a single daemon stopped: nobody counts their bytes,
    nor limits them anew. WARNING without: nothing goes uncounted."""
    said = (f"POP {escape(pop.name)} stale: its last cycle ({pop.number}) was "
            f"{ago(pop.age(now))} (its daemon down?)")  # fmt: skip
    if pop.sessions:
        return Critical, f"{said}, {pop.sessions} sessions on its access servers not counted"
    return Warn, said


def _poller_age(resource: Any) -> Thresholds:
    # Two intervals missed is late; three is what `nmsquota status` calls stale.
    return Thresholds(str(2 * resource.interval), str(3 * resource.interval))


def _poller_failed(resource: Any) -> Thresholds:
    # One access server not answering is a warning; none answering, critical.
    return Thresholds("0", str(resource.devices - 1) if resource.devices else None)


class Limited(Base):
    """How many subscribers are limited, how many of them on a step before the cap, and
    how many warned: a capacity-planning signal (thresholds on the number limited)."""

    def probe(self) -> Iterator[Metric]:
        _, summed = read(self.where)
        counts = summed.counts
        total = counts.subscribers
        share = 100 * counts.limited / total if total else 0.0
        self.text = (f"{counts.limited} of {total} subscribers limited ({share:.1f}%), "
                     f"{counts.stepped} of them on a step; {counts.warned} warned")  # fmt: skip
        yield Metric("limited", counts.limited, min=0, max=total, context="limited")
        yield Metric("stepped", counts.stepped, min=0, max=total, context="count")
        yield Metric("warned", counts.warned, min=0, max=total, context="count")
        yield Metric("subscribers", total, min=0, context="count")
        self.details = [f"limited: {escape(who)} ({escape(why)})" for who, why in summed.limits]


class Drivers(Base):
    """The last cycle's reconciliation: what each driver added and removed, its errors,
    drift, subscribers it could not key on, and limited subscribers measured to run above
    their limit (the limit does not bite)."""

    def probe(self) -> Iterator[Metric]:
        _, summed = read(self.where)
        cycle = summed.cycle
        if cycle is None:
            raise CheckError("no cycle recorded: no driver has reconciled on this ledger")
        if cycle.stale(self.where.now):
            raise CheckError(f"the last cycle ({cycle.number}) is stale, "
                             f"{ago(cycle.age(self.where.now))}: what the drivers hold now "
                             "is not known (see the poller check)")  # fmt: skip
        biteless = cycle.not_effective
        found, unknown = self._every_driver(cycle, summed.pops)
        drivers = [d for _, d in found]
        errors = [f"{escape(label)}: {one_line(e)}" for label, d in found for e in d.errors]
        drifting = [label for label, d in found if d.health == "drifting"]
        unkeyed = sorted({name for d in drivers for name in d.unenforceable})
        added = sum(d.added for d in drivers)
        removed = sum(d.removed for d in drivers)
        shown = ", ".join(f"{escape(label)} {d.health}" for label, d in found) or "no driver"
        self.text = (f"cycle {cycle.number}: {shown}; {added} limits added, {removed} "
                     f"removed, {len(summed.limits)} in force")  # fmt: skip
        if unknown:
            self.text += (f"; not known at stale POP{'' if len(unknown) == 1 else 's'} "
                          f"{names(unknown)} (see the poller check)")  # fmt: skip
        if biteless:
            self.text += f"; limit not effective on {names(biteless)}"
        if errors:
            self.text += f"; errors: {'; '.join(errors[:SHOWN])}"
        if unkeyed:
            self.text += f"; no address to limit {names(unkeyed)}"
        yield Metric("not_effective", len(biteless), min=0, context="not_effective")
        yield Metric("driver_errors", len(errors), min=0, context="errors")
        yield Metric("drifting", len(drifting), min=0, max=len(drivers), context="drifting")
        yield Metric("unenforceable", len(unkeyed), min=0, context="unenforceable")
        yield Metric("added", added, min=0, context="count")
        yield Metric("removed", removed, min=0, context="count")
        self.details = [f"driver {escape(label)}: {d.health}" + "".join(
            f"\n  {one_line(p)}" for p in d.problems) for label, d in found]  # fmt: skip

    def _every_driver(self, cycle: CycleFacts, pops: Sequence[PopFacts]
                      ) -> tuple[list[tuple[str, DriverFacts]], list[str]]:  # fmt: skip
        """The drivers of the last cycle, by name; where several POPs' daemons share the
        ledger, every POP's (a following POP's drivers hold the limits of the subscribers
        online at its access servers), as POP/driver, and the POPs whose last cycle is
        stale, whose drivers' state is not known."""
        if not pops:
            return [(d.name, d) for d in cycle.drivers], []
        now = self.where.now
        found = [(f"{pop.name}/{d.name}", d) for pop in pops if not pop.stale(now)
                 for d in pop.drivers]  # fmt: skip
        return found, [pop.name for pop in pops if pop.stale(now)]


class LedgerHealth(Base):
    """The ledger itself: readable and not corrupt, a writer holding its lock, and the
    writer's commits not failing (a full disk, as the daemon says over its control
    socket). Thresholds on the age of the last commit."""

    def probe(self) -> Iterator[Metric]:
        from nmsquota.control.writes import write_failure
        from nmsquota.ledger import writer_pid

        try:
            directory, summed = read(self.where)
        except LedgerUnreadable as error:
            if str(error).startswith("configuration:"):
                raise
            yield Metric("readable", (Critical, str(error)), context="judged")
            return
        self.text = f"ledger {escape(str(directory))} readable"
        yield Metric("readable", (Ok, ""), context="judged")
        try:
            pid = writer_pid(directory)
        except OSError as error:
            raise CheckError(f"cannot tell whether a writer runs: {one_line(str(error))}"
                             ) from None  # fmt: skip
        if pid is None:
            yield Metric("writer", (Critical, "no writer: no process holds its writer lock (the "
                                    "daemon is not running)"), context="judged")  # fmt: skip
        else:
            self.text += f", written by process {pid}"
            failing = write_failure(directory, timeout=self.where.ping_timeout)
            if failing is not None:
                yield Metric("writes", (Critical, one_line(failing.sentence(ago(
                    self.where.now - failing.since)))), context="judged")  # fmt: skip
        if summed.as_of is not None:
            age = self.where.now - summed.as_of
            self.text += f", last commit {ago(age)}"
            yield Metric(
                "commit_age", round(float(max(age, 0.0)), 1), "s", min=0, context="commit_age"
            )


def build(mode: str, subscriber: str | None, where: Where, given: Thresholds) -> Any:
    """The nagiosplugin Check for `mode`, named NMSQUOTA."""
    contexts: list[Any] = [Judged("judged"), Ranged("count"), Ranged("bytes"), Ranged("rate")]
    resource: Base
    if mode == "subscriber":
        assert subscriber is not None
        resource = Subscriber(where, subscriber)
        contexts.append(Ranged("usage", "{name} at {valueunit}", given, fixed("80", "100")))
    elif mode == "poller":
        resource = Poller(where)
        contexts += [
            Ranged("age", "last cycle {valueunit} old", given, _poller_age),
            Ranged("overrun", "the cycle took {valueunit}, longer than its interval",
                   default=lambda r: Thresholds(str(r.interval), None)),
            Ranged("lateness"),
            Ranged("failed", "{value} access servers failed", default=_poller_failed),
            Ranged("skipped", "{value} access servers skipped for load", default=fixed("0")),
        ]  # fmt: skip
    elif mode == "limited":
        resource = Limited(where)
        contexts.append(Ranged("limited", "{value} limited", given))
    elif mode == "drivers":
        resource = Drivers(where)
        contexts += [
            # A limited subscriber still above their limit: the limit does not bite.
            Ranged("not_effective", "{value} limits measured not effective", given,
                   fixed(None, "0")),
            Ranged("errors", "{value} driver errors", default=fixed(None, "0")),
            Ranged("drifting", "{value} drivers drifting", default=fixed("0")),
            Ranged("unenforceable", "{value} limited subscribers with no address to limit",
                   default=fixed("0")),
        ]  # fmt: skip
    else:
        resource = LedgerHealth(where)
        contexts.append(Ranged("commit_age", "last commit {valueunit} old", given))
    return nagiosplugin.Check(resource, *contexts, Told(resource), name="NMSQUOTA")
