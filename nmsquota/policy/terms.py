"""The policy's terms: a cap as a rule (with its steps), an operator's override, the
standing a subscriber carries from cycle to cycle, and a decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nmsquota.verdict import Reason, State

Direction = Literal["download", "upload", "both"]
OverrideKind = Literal["exempt", "force", "topup"]


@dataclass(frozen=True)
class Step:
    """A graded limit before the cap: from `at` percent of it, `rate_bps`."""

    at: float
    rate_bps: int
    queue_bytes: int = 10_000
    hysteresis: float = 0.0


@dataclass(frozen=True)
class Rule:
    """What the policy needs of a plan."""

    cap: int
    direction: Direction = "download"
    rate_bps: int = 3_000
    queue_bytes: int = 10_000
    hysteresis: float = 0.0
    """Fraction of the cap usage must fall below it before a limit lifts (0.05 = 5%)."""
    warn_at: tuple[int, ...] = ()
    """Percentages of the cap that notify, once per crossing (e.g. 80, 100)."""
    name: str = ""
    """The cap's name within its plan ("1d", "30d"); empty for a one-cap plan."""
    tally: str = ""
    """The ledger totals it counts against (a Tally's key); empty: the plan's name."""
    steps: tuple[Step, ...] = ()
    """Graded limits before the cap, lowest threshold first; the cap's own is the last."""
    first: float = field(init=False, repr=False, compare=False)
    """The lowest usage that limits (the first step's threshold, or the cap): under it, and
    with nothing held or warned, a cap is quiet and decided on the fast path."""
    first_warning: float = field(init=False, repr=False, compare=False)
    """The lowest warn_at percentage (infinite without any): under it, nothing to warn."""

    def __post_init__(self) -> None:
        first = self.cap * self.steps[0].at / 100 if self.steps else float(self.cap)
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "first_warning", min(self.warn_at, default=float("inf")))


@dataclass(frozen=True)
class Override:
    subscriber: str
    kind: OverrideKind
    reason: str
    since: int
    until: int | None = None
    """When it expires (None: until removed)."""
    bytes: int = 0
    """A top-up's extra bytes."""
    cap: str | None = None
    """The one cap of the plan it is for; None: every cap."""

    def active(self, now: int) -> bool:
        return self.since <= now and (self.until is None or now < self.until)


@dataclass(frozen=True)
class Standing:
    """A subscriber's state after the last cycle, kept in the ledger."""

    state: State = State.OK
    since: int | None = None
    why: Reason | None = None
    warned: frozenset[int] = frozenset()
    caps: tuple[tuple[str, Standing], ...] = ()
    """Each cap's own standing, by name, for plans with several."""
    rate_bps: int = 0
    """The rate the subscriber was held to (0: not known, from an older ledger)."""
    step: int | None = None
    """The step they were at (an index into the cap's steps); None: the cap itself."""

    @property
    def limited(self) -> bool:
        return self.state.limited

    def of(self, cap: str) -> Standing | None:
        return next((standing for name, standing in self.caps if name == cap), None)


FRESH = Standing()


@dataclass(slots=True)
class Decision:
    """One subscriber's (or one cap's) verdict for a cycle. Not frozen, for speed: made
    for every cap of every subscriber every cycle, and nothing changes one once made."""

    subscriber: str
    used: int
    cap: int
    """The cap in force: the plan's plus active top-ups."""
    state: State
    """What was decided (ok, warned, stepped, limited, forced, exempt, topped-up): set here,
    never read back out of the reason."""
    why: Reason | None
    """Why the limit (or the exemption) is in force; None when neither is."""
    since: int | None
    warned: frozenset[int] = frozenset()
    warnings: tuple[int, ...] = ()
    """Thresholds crossed in this cycle: notify these."""
    changed: bool = False
    """Limited now and not before, or the other way round, or held to another rate."""
    cap_name: str = ""
    """The cap this decision is about: for a plan, the one whose limit applies (or, when
    none does, the nearest to its cap)."""
    rate_bps: int = 0
    queue_bytes: int = 0
    """The limit that applies, when limited."""
    caps: tuple[Decision, ...] = ()
    """For a plan: every cap's own decision, in the plan's order."""
    step: int | None = None
    """The step in force (an index into the cap's steps); None: the cap itself, or none."""
    step_at: float = 0.0
    """That step's threshold, percent of the cap."""

    @property
    def limited(self) -> bool:
        return self.state.limited

    @property
    def reason(self) -> str:
        """The reason as text, for logs and notifications ("" when there is none)."""
        return self.why.text if self.why is not None else ""

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.cap if self.cap else 0.0

    @property
    def event(self) -> str:
        """What this decision is called when it is a change, in the log and to [notify]:
        "limited" (the cap's own limit, or forced), "step 80% of 1d", "released"."""
        if not self.limited:
            return "released"
        if self.step is None:
            return "limited"
        return f"step {self.step_at:g}%" + (f" of {self.cap_name}" if self.cap_name else "")

    def standing(self) -> Standing:
        caps = tuple((cap.cap_name, cap.standing()) for cap in self.caps)
        return Standing(self.state, self.since, self.why, self.warned, caps,
                        self.rate_bps if self.limited else 0, self.step)  # fmt: skip


@dataclass
class Evaluation:
    """One cycle's decisions for everyone."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    no_plan: list[str] = field(default_factory=list)

    @property
    def limited(self) -> list[Decision]:
        return [d for d in self.decisions.values() if d.limited]

    @property
    def changes(self) -> list[Decision]:
        return [d for d in self.decisions.values() if d.changed]
