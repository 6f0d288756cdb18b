"""The quota policy: usage in the window against the plan's cap decides who is limited.

Pure: totals, the plan, the operator's overrides and last cycle's standing in; a decision
out. No I/O, no clock of its own (`now` is an argument), so days of simulated time are a
loop in a test.

- Limit when usage reaches the cap, also at session start when already over it (the paper).
- Lift when the window has rolled below the cap, or below cap x (1 - hysteresis) when the
  plan has a hysteresis margin, so nobody flaps at the boundary.
- What counts: download (the default, as in the paper), upload, or both; off-peak free hours
  are already left out of the ledger's window totals.
- Overrides, each with an expiry and a reason: exempt (never limited), force (limited
  whatever the usage), top-up (extra bytes on the cap while it lasts). Of an exempt and a
  force both in force, the later one counts.
- Warnings at thresholds (percent of the cap), once per crossing: a threshold warns again
  only after usage has fallen back below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from nmsquota.ledger.model import Totals

Direction = Literal["download", "upload", "both"]
OverrideKind = Literal["exempt", "force", "topup"]


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

    def active(self, now: int) -> bool:
        return self.since <= now and (self.until is None or now < self.until)


@dataclass(frozen=True)
class Standing:
    """A subscriber's state after the last cycle, kept in the ledger."""

    limited: bool = False
    since: int | None = None
    reason: str = ""
    warned: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Decision:
    subscriber: str
    used: int
    cap: int
    """The cap in force: the plan's plus active top-ups."""
    limited: bool
    reason: str
    since: int | None
    warned: frozenset[int] = frozenset()
    warnings: tuple[int, ...] = ()
    """Thresholds crossed in this cycle: notify these."""
    changed: bool = False
    """Limited now and not before, or the other way round."""

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.cap if self.cap else 0.0

    def standing(self) -> Standing:
        return Standing(self.limited, self.since, self.reason, self.warned)


def used(totals: Totals, direction: Direction) -> int:
    """`bytes_in` is the subscriber's download, `bytes_out` their upload (the ledger's way)."""
    if direction == "download":
        return totals.bytes_in
    if direction == "upload":
        return totals.bytes_out
    return totals.bytes_in + totals.bytes_out


def decide(
    subscriber: str,
    rule: Rule,
    totals: Totals,
    now: int,
    standing: Standing = Standing(),
    overrides: Iterable[Override] = (),
) -> Decision:
    active = [o for o in overrides if o.subscriber == subscriber and o.active(now)]
    cap = rule.cap + sum(o.bytes for o in active if o.kind == "topup")
    usage = used(totals, rule.direction)
    warned, warnings = _warnings(rule, usage, cap, standing.warned)
    # Of exempt and force, the operator's latest word counts.
    latest = max((o for o in active if o.kind in ("exempt", "force")),
                 key=lambda o: o.since, default=None)  # fmt: skip
    if latest is not None and latest.kind == "exempt":
        limited, reason = False, f"exempt: {latest.reason}"
    elif latest is not None:
        limited, reason = True, f"forced: {latest.reason}"
    elif standing.limited and standing.reason.startswith("over cap"):
        # Held until the window rolls below the cap (less the margin).
        limited = usage > cap * (1 - rule.hysteresis) if rule.hysteresis else usage >= cap
        reason = standing.reason if limited else ""
    else:
        limited = usage >= cap
        reason = f"over cap: {usage} of {cap} bytes" if limited else ""
    changed = limited != standing.limited
    # `since` stays while the limit keeps its kind of reason (over cap, forced).
    same_kind = standing.limited and _kind(reason) == _kind(standing.reason)
    since = (standing.since if same_kind else now) if limited else None
    return Decision(subscriber, usage, cap, limited, reason, since, warned, warnings, changed)


def _kind(reason: str) -> str:
    return reason.split(":", 1)[0]


def _warnings(
    rule: Rule, usage: int, cap: int, warned: frozenset[int]
) -> tuple[frozenset[int], tuple[int, ...]]:
    percent = 100.0 * usage / cap if cap else 0.0
    crossed = tuple(t for t in sorted(rule.warn_at) if percent >= t and t not in warned)
    still = {t for t in warned if percent >= t}
    return frozenset(still | set(crossed)), crossed


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


def evaluate(
    rules: dict[str, Rule],
    plans: dict[str, str],
    totals: dict[str, dict[str, Totals]],
    now: int,
    standings: dict[str, Standing],
    overrides: Sequence[Override] = (),
) -> Evaluation:
    """Decide for every subscriber in `plans` (subscriber -> plan name) and every one
    with usage; `totals` are per plan name (each plan's window), then per subscriber."""
    result = Evaluation()
    everyone = set(plans) | {name for per_plan in totals.values() for name in per_plan}
    everyone |= {name for name, standing in standings.items() if standing.limited}
    for subscriber in sorted(everyone):
        plan = plans.get(subscriber)
        if plan is None or plan not in rules:
            result.no_plan.append(subscriber)
            continue
        usage = totals.get(plan, {}).get(subscriber, Totals())
        standing = standings.get(subscriber, Standing())
        result.decisions[subscriber] = decide(
            subscriber, rules[plan], usage, now, standing, overrides
        )
    return result
