"""The typed records the ledger keeps in state.json beside the window totals.

One frozen dataclass per kind of record, each with a `version`. The ledger validates what
it reads against these (pydantic, so an error names the field) and refuses a record that
does not fit rather than guessing; records written before they had types (no `version`)
are brought up to date by nmsquota.ledger.migration.

Kinds: the quota file (`subscribers`, `plans`, kept for readers without the
configuration), the subscribers added with `nmsquota subscribers add` (`provisioned`), the
operator's `overrides`, the policy's `standings` per subscriber, the limits in force
(`limits`), the last cycle's health (`daemon`), and what the daemon saw of access servers
(`devices`) and sessions (`sessions`), with a bounded log of what happened (`events`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Strict

from nmsquota.verdict import Reason, State

RECORD_VERSION = 1
"""The version of every kind of record this nmsquota writes (and the newest it reads)."""

# Scalars as stored: no quiet conversion of "5" to 5 or 1 to True when a record is read.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Str = Annotated[str, Strict()]
Bool = Annotated[bool, Strict()]
Seconds = Int | Float
"""A moment or a span as the clock gave it: an int stays an int, a float a float."""
Names = tuple[Str, ...]

# Fields no record declares are refused, so that a misspelt or foreign field is an error
# with its name rather than data silently dropped.
_STRICT: ConfigDict = ConfigDict(extra="forbid")
Direction = Literal["download", "upload", "both"]
OverrideKind = Literal["exempt", "force", "topup"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriberRecord:
    """A subscriber of the quota file (`subscribers`) or provisioned in the ledger."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    name: Str
    plan: Str
    addresses: Names = ()
    exempt: Bool = False
    exempt_reason: Str | None = None
    version: Int = RECORD_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitProfileRecord:
    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    rate: Int
    queue: Int


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRecord:
    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    at: Float
    rate: Int
    queue: Int | None = None
    hysteresis: Float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CapRecord:
    """One cap of a plan, as the configuration has it (sizes in bytes, spans in seconds,
    percentages as numbers)."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    cap: Int | None
    window: Int
    period: Literal["rolling", "monthly"] = "rolling"
    reset_day: Int = 1
    direction: Direction = "download"
    free_hours: Str | None = None
    limit: LimitProfileRecord
    hysteresis: Float | None = None
    warn_at: tuple[Float, ...] = ()
    name: Str | None = None
    """The cap's own name, if the configuration gives one."""
    steps: tuple[StepRecord, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRecord(CapRecord):
    """A plan of the quota file: one cap (its own fields) or several (`caps`)."""

    plan: Str | None
    """The plan's name. None in records from before version 1, whose writer lost it."""
    caps: tuple[CapRecord, ...] = ()
    version: Int = RECORD_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class OverrideRecord:
    """An operator's override: exempt, force or top-up, with an expiry and a reason."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    subscriber: Str
    kind: OverrideKind
    reason: Str
    since: Int
    until: Int | None = None
    """When it expires (None: until removed)."""
    bytes: Int = 0
    """A top-up's extra bytes."""
    cap: Str | None = None
    """The one cap of the plan it is for; None: every cap."""
    author: Str | None = None
    """Who made it (None: not recorded, as before version 1)."""
    version: Int = RECORD_VERSION

    def active(self, now: float) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    @property
    def id(self) -> str:
        """Its name for `nmsquota overrides remove`: 8 hex digits of a hash of what it says.

        Derived, not stored, so that it needs no new field: every ledger has ids, those
        written before ids existed (and migrated from before version 1) included, and an
        older nmsquota still reads a ledger this one wrote. It is stable, as a record is
        never changed, only dropped. Two overrides alike in every field (the same second,
        reason and author) share it, and are removed together: nothing tells them apart."""
        said = [self.subscriber, self.kind, self.cap, self.bytes, self.since, self.until,
                self.reason, self.author]  # fmt: skip
        text = json.dumps(said, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:OVERRIDE_ID_DIGITS]


OVERRIDE_ID_DIGITS = 8
"""Hex digits in an override's id: 32 bits, so that among thousands kept two ids differ."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRecord:
    """Whether a limit bites (nmsquota.verify), carried from cycle to cycle."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    over: Int = 0
    flagged: Bool = False
    measured_bps: Int = 0
    expected_bps: Int = 0
    since: Int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CapStanding:
    """Where one cap of a subscriber's plan stood after the last decision."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    state: State
    since: Int | None = None
    """When the limit in force began (None: not limited)."""
    reason: Reason | None = None
    warned: tuple[Int, ...] = ()
    """Warning thresholds crossed and not yet fallen back below (percent)."""
    used: Int = 0
    cap: Int = 0
    """The cap in force: the plan's plus top-ups."""
    cap_name: Str = ""
    step: Int | None = None
    """The step in force (an index into the cap's steps); None: the cap itself, or none."""
    step_at: Float | None = None
    """That step's threshold, percent of the cap."""
    rate: Int = 0
    """The rate held to (0: not limited)."""

    @property
    def limited(self) -> bool:
        return self.state.limited


@dataclass(frozen=True, slots=True, kw_only=True)
class StandingRecord(CapStanding):
    """A subscriber's standing: the cap that binds (its fields), and for a plan of several
    caps each cap's own, where one is limited or warned."""

    subscriber: Str
    check: CheckRecord | None = None
    caps: tuple[CapStanding, ...] = ()
    version: Int = RECORD_VERSION

    def of(self, cap_name: str, several: bool) -> CapStanding | None:
        """One cap's standing: its own entry in a plan of several caps (None kept: not
        limited, nothing warned), or the record itself for a one-cap plan."""
        if not several:
            return self
        return next((cap for cap in self.caps if cap.cap_name == cap_name), None)


@dataclass(frozen=True, slots=True)
class Limit:
    """A subscriber the enforcement drivers hold at a limited rate, and why (as text: the
    typed reason is in the subscriber's standing)."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    subscriber: Str
    since: Int
    reason: Str
    driver: Str
    """The drivers configured when it was set, comma-separated (which of them holds it is in
    the health record's per-driver `installed`)."""
    rate_bps: Int | None = None
    version: Int = RECORD_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftRecord:
    """Drift a driver's reconciliation has found cycle after cycle, or not yet put right."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    since: Seconds | None = None
    """When it was first found."""
    cycles: Int
    """Reconciliations in a row that found it or could not put it right."""
    lines: Names = ()
    """What the last of them found."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverOutcomeRecord:
    """What one driver did in the last cycle."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    added: Names = ()
    removed: Names = ()
    unenforceable: Names = ()
    drift: Names = ()
    errors: Names = ()
    installed: Names | None = None
    """The subscribers it holds limited after the cycle (None: not recorded)."""
    drifting: DriftRecord | None = None
    """Drift kept until a cycle finds none (None: none, or not recorded)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthRecord:
    """The daemon's last cycle (kind `daemon`): when, how long, what answered, what the
    drivers did."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    number: Int
    started: Seconds
    due: Seconds
    seconds: Seconds
    devices_ok: Names = ()
    devices_failed: Mapping[Str, Str]
    limited: Names = ()
    changed: Names = ()
    drivers: Mapping[Str, DriverOutcomeRecord]
    no_plan: Names = ()
    not_effective: Names = ()
    """Limited subscribers whose measured rate says the limit does not bite."""
    skipped: Int = 0
    lateness: Seconds = 0.0
    interval: Int = 300
    updated: Seconds | None = None
    simulated: Bool = False
    """Its times are a simulated clock's (`nmsquota demo`), not this machine's."""
    devices_skipped: Names = ()
    """Not polled: the interval could not hold them (load, not the devices' fault)."""
    causes: Mapping[Str, Str] = field(default_factory=dict)
    """Failed device -> why: timeout, deadline or error."""
    cpu: Seconds = 0.0
    """CPU seconds the cycle's poll took."""
    queued: Int = 0
    """Walks that waited for others before they could start."""
    device_cost: Seconds = 0.0
    """CPU seconds a device of the typical size costs, as measured."""
    capacity: Int | None = None
    """Devices of that size the machine can poll per interval (None: not measured)."""
    varbinds: Int = 0
    """Varbinds the access servers that answered read (0 also in records from before it was
    kept)."""
    pop: Str = ""
    """The point of presence whose daemon ran it ("" where one daemon writes the ledger, and
    in records from before it was kept)."""
    deciding: Bool = True
    """Whether that daemon decided for every subscriber in it (several POPs' daemons on one
    ledger: one decides, the others enforce what it decided). True in records from before
    it was kept: their daemon decided alone."""
    plans_fingerprint: Str = ""
    """The fingerprint of the plans and subscribers the daemon ran it with
    (nmsquota.ledger.fingerprint): POPs whose differ run other plans. "" in records from
    before it was kept."""
    version: Int = RECORD_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingProblemRecord:
    """An entry of an access server's interface map that charges nobody (matches no
    interface, several, or an ifIndex whose name changed), kept while it lasts."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    entry: Str
    """Where it is in the configuration: interfaces."KEY" or match.N."""
    kind: Str
    """none, shared or renamed (nmsquota.attribution.MappingProblem)."""
    text: Str
    """What the last poll found, in a line."""
    since: Seconds
    """The cycle that first found it."""
    cycles: Int
    """Cycles in a row that found it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PinRecord:
    """The name an ifindex: entry's interface had when it was first mapped."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    index: Int
    name: Str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRecord:
    """An access server as the last cycle saw it."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    name: Str
    host: Str = ""
    snmp_version: Str = ""
    """"1", "2c" or "3"."""
    last_poll: Seconds | None = None
    """When it was last polled (answered or not)."""
    last_answer: Seconds | None = None
    """When it last answered."""
    latency: Float | None = None
    """Seconds the last poll took."""
    error: Str | None = None
    """Why the last poll failed (None: it answered)."""
    failures: Int = 0
    """Polls failed in a row."""
    counter_bits: Int | None = None
    """The octet counters' width: 64 (ifHC*) or 32; None: not known yet."""
    interfaces: Int = 0
    """Interfaces that mapped to a subscriber in the last answer."""
    mapping: tuple[MappingProblemRecord, ...] = ()
    """Entries of its interface map that charge nobody, as of its last answer."""
    pins: tuple[PinRecord, ...] = ()
    """The names its ifindex: entries were first mapped with: a renumbered ifIndex is told
    from these, across restarts."""
    version: Int = RECORD_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """Where a subscriber is (or was last) online."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    subscriber: Str
    online: Bool
    access_server: Str = ""
    interface: Str = ""
    session: Str = ""
    """The access server's session id (accel-ppp's Acct-Session-Id), if it has one."""
    addresses: Names = ()
    since: Seconds | None = None
    """Online: when the daemon first found the session up (a poll or ip-up)."""
    seen: Seconds | None = None
    """Offline: when the daemon found it gone (None while online, or never seen online).
    Kept to the changes so that the records are not rewritten every cycle."""
    version: Int = RECORD_VERSION


class EventKind(StrEnum):
    LIMIT_APPLIED = "limit applied"
    """A limit began, or changed (another step, another cap)."""
    LIMIT_LIFTED = "limit lifted"
    OVERRIDE = "override"
    """An override added or removed by the operator."""
    REPAIR = "repair"
    """Reconciliation found and fixed a difference nmsquota did not make."""
    BASELINE = "baseline"
    """A counter's first reading (or one after a change of width): nothing charged."""
    AGENT_RESTART = "agent restart"
    DISCONTINUITY = "discontinuity"
    SPIKE_REFUSED = "spike refused"
    DRIVER_ERROR = "driver error"
    SESSION_UP = "session up"
    SESSION_DOWN = "session down"
    DEVICE_DOWN = "device down"
    """An access server stopped answering."""
    DEVICE_UP = "device up"
    """An access server answered again."""
    MAPPING_PROBLEM = "mapping problem"
    """An interface map entry began to charge nobody (no interface, several, renamed)."""
    MAPPING_RESOLVED = "mapping resolved"
    """It maps again (or was removed from the configuration)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One entry of the ledger's bounded event log. `seq` is given by the ledger and only
    grows, so a reader can ask for the events after the last one it saw."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT
    seq: Int = 0
    time: Seconds
    kind: EventKind
    text: Str
    """What happened, in a line."""
    subscriber: Str | None = None
    device: Str | None = None
    driver: Str | None = None
    reason: Reason | None = None
    """For a limit applied: why."""
    version: Int = RECORD_VERSION
