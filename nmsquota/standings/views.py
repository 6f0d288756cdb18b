"""The snapshots readers get: immutable values, one per thing an operator looks at.

Built by nmsquota.standings.build from one commit of the ledger and the configuration;
nothing here reads a file or knows the daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from nmsquota import cycles
from nmsquota.ledger.records import (
    CapStanding,
    CheckRecord,
    DeviceRecord,
    Direction,
    DriftRecord,
    EventRecord,
    Limit,
    MappingProblemRecord,
    OverrideRecord,
    SessionRecord,
    StandingRecord,
)
from nmsquota.policy import used as counted_against
from nmsquota.standings.topups import TopupView
from nmsquota.usage import Tally, Totals
from nmsquota.verdict import Reason, State

KeptIn = Literal["configuration", "ledger", "nowhere"]
DriverHealth = Literal["ok", "drifting", "failing"]


@dataclass(frozen=True, slots=True)
class CapView:
    """One cap of a subscriber's plan: their usage in its window against it, and the limit
    it holds them to as of the daemon's last decision."""

    name: str
    """The cap's name in a plan of several ("1d"); "" for a one-cap plan."""
    label: str
    """How the configuration names the cap, also in a one-cap plan ("1d", "7d")."""
    tally: Tally
    """The window its usage is counted over."""
    direction: Direction
    cap: int
    """The plan's cap, bytes (top-ups not included: see `decided.cap`)."""
    totals: Totals
    """Usage in the window as of the ledger's last commit (download in, upload out)."""
    decided: CapStanding | None
    """The daemon's last decision on this cap (None: nothing kept, so not limited and
    nothing warned)."""
    lifts_at: int | None = None
    """When its limit lifts if nothing more is moved (None: not limited, or a monthly cap,
    which lifts at its reset)."""
    topups: tuple[TopupView, ...] = ()
    """The top-ups on it not expired at the last commit, with what is left of each, in the
    order the usage beyond the plan's cap takes from them (nmsquota.standings.topups)."""

    @property
    def used(self) -> int:
        """What counts against the cap in the window."""
        return counted_against(self.totals, self.direction)

    @property
    def percent(self) -> float:
        return 100 * self.used / self.cap if self.cap else 0.0

    @property
    def state(self) -> State:
        return self.decided.state if self.decided is not None else State.OK

    @property
    def limited(self) -> bool:
        return self.state.limited

    @property
    def rate_bps(self) -> int:
        """The rate it holds the subscriber to (0: none)."""
        return self.decided.rate if self.decided is not None and self.limited else 0

    @property
    def step_at(self) -> float | None:
        """The step in force (percent of the cap); None: the cap's own limit, or none."""
        return self.decided.step_at if self.decided is not None and self.limited else None


@dataclass(frozen=True, slots=True)
class SubscriberView:
    """Everything known of one subscriber: plan, usage per cap, the limit in force and why,
    overrides, session."""

    name: str
    kept_in: KeptIn
    """Where the subscriber is defined: the configuration file, the ledger (`nmsquota
    subscribers add`), or nowhere (seen on an access server, or in the usage records)."""
    plan: str | None
    addresses: tuple[str, ...]
    """Configured (or provisioned) addresses, then those the session has."""
    caps: tuple[CapView, ...]
    """Every cap of their plan, in the plan's order (none without a known plan)."""
    decided: StandingRecord | None
    """The daemon's last decision: the binding cap's figures, and with several caps each
    cap's own in `caps` (None: nothing kept, so not limited and nothing warned)."""
    check: CheckRecord | None
    """Whether their limit was measured to bite (None: not measured or nothing found)."""
    limit: Limit | None
    """The limit the drivers hold them at, as the daemon recorded it."""
    overrides: tuple[OverrideRecord, ...]
    """Every override of theirs the ledger keeps, expired ones included."""
    session: SessionRecord | None

    @property
    def state(self) -> State:
        return self.decided.state if self.decided is not None else State.OK

    @property
    def limited(self) -> bool:
        return self.limit is not None

    @property
    def reason(self) -> Reason | None:
        return self.decided.reason if self.decided is not None else None

    @property
    def since(self) -> int | None:
        return self.decided.since if self.decided is not None else None

    @property
    def online(self) -> bool:
        return self.session is not None and self.session.online

    @property
    def not_effective(self) -> bool:
        return self.check is not None and self.check.flagged

    def active_overrides(self, now: float) -> tuple[OverrideRecord, ...]:
        return tuple(o for o in self.overrides if o.active(now))

    @property
    def topups(self) -> tuple[TopupView, ...]:
        """Every top-up in force, per cap (one naming no cap: once for each cap)."""
        return tuple(topup for cap in self.caps for topup in cap.topups)


@dataclass(frozen=True, slots=True)
class DriverView:
    """One enforcement driver as of the last cycle."""

    name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    unenforceable: tuple[str, ...]
    """Limited subscribers it had nothing to key on (no address known)."""
    drift: tuple[str, ...]
    """Differences nmsquota did not make, found and repaired."""
    errors: tuple[str, ...]
    installed: tuple[str, ...] | None
    """Whom it holds limited (None: not recorded by the daemon that wrote the ledger)."""
    not_effective: tuple[str, ...]
    """Subscribers it holds whose limit was measured not to bite."""
    drifting: DriftRecord | None = None
    """Drift found cycle after cycle, or not yet put right: since when, for how many
    cycles, what the last one found (None: none)."""

    @property
    def failing(self) -> bool:
        """Its limits do not (all) bite: it failed (a repair of its rules included), or a
        limit it holds was measured not to bite."""
        return bool(self.errors or self.not_effective)

    @property
    def health(self) -> DriverHealth:
        """ "failing" (see `failing`), "drifting" (what it holds was changed behind
        nmsquota's back: repaired, and watched until a cycle finds it whole), or "ok"."""
        if self.failing:
            return "failing"
        return "drifting" if self.drift or self.drifting is not None else "ok"

    @property
    def ok(self) -> bool:
        return self.health == "ok"

    @property
    def problems(self) -> tuple[str, ...]:
        """One line each: errors, limits that do not bite, drift (the kept drift's last
        lines, or this cycle's)."""
        drift = self.drifting.lines if self.drifting is not None else self.drift
        return (self.errors + tuple(f"limit not effective on {name}"
                                    for name in self.not_effective) + drift)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One access server: did it answer, how fast, what it counts with."""

    name: str
    answered: bool | None
    """In the last cycle (None: not polled in it)."""
    error: str | None
    record: DeviceRecord | None
    """What the daemon kept of it: last poll, latency, failures, counter width, SNMP
    version (None: nothing kept yet)."""
    source: str | None = None
    """The profile it is polled with, as configured (a built-in one's name, e.g. if-mib or
    accel-ppp, or the path of an operator's profile file); None: not in the configuration
    the reader has."""

    @property
    def mapping(self) -> tuple[MappingProblemRecord, ...]:
        """Entries of its interface map that charge nobody (matching no interface, several,
        or an ifIndex renamed since it was mapped), since when and for how many cycles."""
        return self.record.mapping if self.record is not None else ()


@dataclass(frozen=True, slots=True)
class CycleView:
    """The daemon's last cycle."""

    number: int
    started: float
    due: float
    seconds: float
    lateness: float
    interval: int
    skipped: int
    updated: float | None
    devices_ok: tuple[str, ...]
    devices_failed: Mapping[str, str]
    limited: tuple[str, ...]
    changed: tuple[str, ...]
    no_plan: tuple[str, ...]
    not_effective: tuple[str, ...]
    drivers: tuple[DriverView, ...]
    simulated: bool = False
    """Run on a simulated clock (`nmsquota demo`): its age on this machine's clock means
    nothing, and no daemon keeps it going."""
    devices_skipped: tuple[str, ...] = ()
    """Not polled: the interval could not hold them (load, not the devices' fault); they
    are polled first in the next cycle and lose no bytes."""
    causes: Mapping[str, str] = field(default_factory=dict)
    """Failed device -> why: timeout (no answer), deadline (its walk did not finish in
    time) or error."""
    cpu: float = 0.0
    """CPU seconds the poll took."""
    queued: int = 0
    """Walks that waited for others before they could start."""
    device_cost: float = 0.0
    """CPU seconds a device of the typical size costs, as measured."""
    capacity: int | None = None
    """Devices of that size this machine can poll per interval (None: not measured)."""
    varbinds: int = 0
    """Varbinds the access servers that answered read."""
    pop: str = ""
    """The POP whose daemon ran it (several POPs' daemons on one ledger: the latest
    begun); "" where one daemon writes the ledger."""

    def age(self, now: float) -> float:
        """Seconds since it started (negative: this clock is behind the daemon's)."""
        return now - self.started

    def stale(self, now: float) -> bool:
        """Older than three intervals: the daemon is not cycling. A simulated clock's cycle
        is never stale: it is the last of a run that ended, not a daemon that stopped."""
        return cycles.stale(self.age(now), self.interval, self.simulated)

    @property
    def overran(self) -> bool:
        """The cycle took longer than its interval."""
        return self.seconds > self.interval

    @property
    def overloaded(self) -> bool:
        """The machine could not keep up: the cycle overran or skipped devices for load."""
        return self.overran or bool(self.devices_skipped)

    def failed_by(self) -> dict[str, int]:
        """How many devices failed for each cause (timeout, deadline, error)."""
        counts: dict[str, int] = {}
        for name in self.devices_failed:
            cause = self.causes.get(name, "error")
            counts[cause] = counts.get(cause, 0) + 1
        return counts

    @property
    def troubled(self) -> bool:
        """An access server did not answer, a driver failed, or a limit does not bite."""
        return bool(self.devices_failed or self.not_effective) or any(
            driver.failing for driver in self.drivers
        )


@dataclass(frozen=True, slots=True)
class PopView:
    """One point of presence's daemon as its last cycle left it (issue 24: several POPs'
    daemons share a database ledger, one deciding for every subscriber, the others
    following); a ledger with one daemon has one, named ""."""

    name: str
    number: int
    """Its last cycle's number."""
    started: float
    interval: int
    deciding: bool
    """It decided for every subscriber in that cycle (else it enforced what another POP's
    daemon decided)."""
    devices_ok: tuple[str, ...]
    devices_failed: Mapping[str, str]
    devices_skipped: tuple[str, ...]
    sessions: int
    """Sessions online on its access servers as the ledger last has them: while its daemon
    is down, nobody counts their bytes."""
    plans_fingerprint: str
    """Of the plans and subscribers its daemon runs ("" in a record from before it was
    kept)."""
    other_plans: bool
    """It runs other plans or subscribers than the deciding POP (their fingerprints
    differ; a POP that keeps none is not judged)."""
    simulated: bool = False
    drivers: tuple[DriverView, ...] = ()
    """What its drivers did in that cycle (a following POP's hold the limits of the
    subscribers online at its access servers)."""

    @property
    def role(self) -> str:
        return "deciding" if self.deciding else "following"

    @property
    def devices(self) -> int:
        return len(self.devices_ok) + len(self.devices_failed) + len(self.devices_skipped)

    def age(self, now: float) -> float:
        """Seconds since its last cycle started (negative: this clock is behind its)."""
        return now - self.started

    def stale(self, now: float) -> bool:
        """Its last cycle is older than the rule every reader applies to a daemon's
        (nmsquota.cycles): its daemon is down, or not cycling."""
        return cycles.stale(self.age(now), self.interval, self.simulated)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One commit of the ledger, as every reader sees it."""

    as_of: int | None
    """The moment the window totals describe (the last commit); None: no commit yet."""
    cycle: CycleView | None
    """None: no daemon has cycled on this ledger."""
    subscribers: tuple[SubscriberView, ...]
    """By name."""
    by_name: Mapping[str, SubscriberView]
    devices: tuple[DeviceView, ...]
    limits: tuple[Limit, ...]
    """In the order the daemon recorded them."""
    overrides: tuple[OverrideRecord, ...]
    """Every override kept, expired ones included, in the order made."""
    events: tuple[EventRecord, ...]
    default_tally: Tally
    """The window shown for subscribers without a plan: the ledger's first, or 7 days."""
    totals: Mapping[str, Mapping[str, Totals]]
    """Tally key -> subscriber -> usage in that window, for every window shown."""
    pops: tuple[PopView, ...] = ()
    """Every POP's last cycle, by name (one, named "", where one daemon writes the ledger;
    none before the first cycle). `cycle` is the latest of them."""

    def subscriber(self, name: str) -> SubscriberView | None:
        return self.by_name.get(name)

    @property
    def several_pops(self) -> bool:
        """Daemons of named POPs write the ledger (a database shared by several): readers
        then show each POP's last cycle beside the latest."""
        return len(self.pops) > 1 or any(pop.name for pop in self.pops)

    @property
    def mapping_problems(self) -> tuple[tuple[str, MappingProblemRecord], ...]:
        """Every access server's interface map entries that charge nobody: (device, problem)."""
        return tuple((device.name, p) for device in self.devices for p in device.mapping)

    @property
    def limited(self) -> tuple[SubscriberView, ...]:
        return tuple(view for view in self.subscribers if view.limited)
