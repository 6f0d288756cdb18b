"""Deciding: each cap of a plan on its own, then the plan (the strictest limit of the caps
exceeded), for everyone in a cycle; and when a limit lifts if nothing more is moved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from nmsquota.policy.terms import (
    FRESH,
    Decision,
    Direction,
    Evaluation,
    Override,
    Rule,
    Standing,
)
from nmsquota.usage import Totals
from nmsquota.verdict import Reason, ReasonKind, State


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
    standing: Standing = FRESH,
    overrides: Iterable[Override] = (),
) -> Decision:
    usage = used(totals, rule.direction)
    if not overrides and not standing.limited and not standing.warned and usage < rule.first:
        # The usual case, kept cheap (it runs for every cap of every subscriber): under the
        # cap and its steps, nothing held, nothing warned, no overrides.
        warned, warnings = _warnings(rule, usage, rule.cap, standing.warned)
        return Decision(subscriber, usage, rule.cap, State.WARNED if warned else State.OK, None,
                        None, warned, warnings, False, rule.name, rule.rate_bps,
                        rule.queue_bytes)  # fmt: skip
    active = [o for o in overrides if o.subscriber == subscriber and o.active(now)]
    cap = rule.cap + sum(o.bytes for o in active if o.kind == "topup")
    warned, warnings = _warnings(rule, usage, cap, standing.warned)
    rate, queue, step, step_at = rule.rate_bps, rule.queue_bytes, None, 0.0
    # Of exempt and force, the operator's latest word counts.
    latest = max((o for o in active if o.kind in ("exempt", "force")),
                 key=lambda o: o.since, default=None)  # fmt: skip
    why: Reason | None = None
    if latest is not None and latest.kind == "exempt":
        state, why = State.EXEMPT, Reason(ReasonKind.EXEMPT, note=latest.reason)
    elif latest is not None:
        state, why = State.FORCED, Reason(ReasonKind.FORCED, note=latest.reason)
    else:
        # The highest level reached (a step, or the cap itself), or one still held: a level
        # lifts only below its threshold less its margin.
        held = None
        if standing.limited and standing.why is not None and standing.why.kind is ReasonKind.OVER:
            held = standing.step if standing.step is not None else len(rule.steps)
        level = _level(rule, usage, cap, held)
        state = _unlimited(warned, active)
        if level is not None:
            state, threshold = State.LIMITED, None
            if level < len(rule.steps):
                graded = rule.steps[level]
                rate, queue, step, step_at = graded.rate_bps, graded.queue_bytes, level, graded.at
                state, threshold = State.STEPPED, graded.at
            # A level held keeps the reason it was limited with.
            why = standing.why if level == held else Reason(
                ReasonKind.OVER, rule.name, threshold, usage, cap)  # fmt: skip
    limited = state.limited
    changed = limited != standing.limited
    # `since` stays while the limit keeps its kind of reason (over cap, a step, forced).
    same_kind = standing.limited and why is not None and why.same_limit(standing.why)
    since = (standing.since if same_kind else now) if limited else None
    return Decision(subscriber, usage, cap, state, why, since, warned, warnings, changed,
                    rule.name, rate, queue, step=step, step_at=step_at)  # fmt: skip


def _unlimited(warned: frozenset[int], active: Sequence[Override]) -> State:
    """The state of a cap under its limits: a top-up in force says more than a warning."""
    if any(o.kind == "topup" for o in active):
        return State.TOPPED_UP
    return State.WARNED if warned else State.OK


def _level(rule: Rule, usage: int, cap: int, held: int | None) -> int | None:
    """Which limit applies: the index of a step, len(rule.steps) for the cap's own limit,
    None for none. `held`: the level the subscriber was at last cycle."""
    for level in range(len(rule.steps), -1, -1):
        threshold, margin = _threshold(rule, level, cap)
        if usage >= threshold:
            return level
        if held is not None and level <= held and margin and usage > threshold * (1 - margin):
            return level
    return None


def _threshold(rule: Rule, level: int, cap: int) -> tuple[float, float]:
    """A level's threshold in bytes and its hysteresis margin (a fraction): a step's, or
    for len(rule.steps) the cap's own."""
    if level >= len(rule.steps):
        return float(cap), rule.hysteresis
    step = rule.steps[level]
    return cap * step.at / 100, step.hysteresis


def decide_plan(
    subscriber: str,
    rules: Sequence[Rule],
    totals: Mapping[str, Totals],
    now: int,
    standing: Standing = FRESH,
    overrides: Iterable[Override] = (),
) -> Decision:
    """Every cap of a plan (`totals` by each rule's tally), combined: limited when any cap
    is, at the strictest rate among those exceeded (the first such cap, on a tie)."""
    return _combined(subscriber, rules, [totals.get(r.tally, NOTHING) for r in rules], now,
                     standing, list(overrides))  # fmt: skip


NOTHING = Totals()


def _combined(subscriber: str, rules: Sequence[Rule], totals: Sequence[Totals], now: int,
              standing: Standing, overrides: list[Override]) -> Decision:  # fmt: skip
    if not overrides and not standing.limited and not standing.warned and not standing.caps:
        quiet = _quiet(subscriber, rules, totals)
        if quiet is not None:
            return quiet
    per = []
    for rule, usage in zip(rules, totals, strict=True):
        # A one-cap plan's standing may predate per-cap standings: it is the cap's own.
        own = standing.of(rule.name) if standing.caps else None
        if own is None:
            own = standing if len(rules) == 1 else FRESH
        mine = [o for o in overrides if o.cap is None or o.cap == rule.name] if overrides else []
        per.append(decide(subscriber, rule, usage, now, own, mine))
    limited = [d for d in per if d.limited]
    if limited:
        binding = min(limited, key=lambda d: d.rate_bps)
    else:
        binding = max(per, key=lambda d: d.percent)
    changed = bool(limited) != standing.limited or bool(
        limited and standing.limited and standing.rate_bps not in (0, binding.rate_bps)
    )
    b = binding  # built field by field: dataclasses.replace() costs more than deciding
    return Decision(b.subscriber, b.used, b.cap, b.state, b.why, b.since, b.warned,
                    b.warnings, changed, b.cap_name, b.rate_bps, b.queue_bytes,
                    tuple(per), b.step, b.step_at)  # fmt: skip


def _quiet(subscriber: str, rules: Sequence[Rule], totals: Sequence[Totals]) -> Decision | None:
    """The usual subscriber, every cap at once: each under its first threshold and its first
    warning, nothing held. None when any cap needs deciding in full. The same decisions as
    `decide` would make (a property test says so), without a call and a check per cap: this
    runs for every subscriber every cycle."""
    per = []
    top, binding = -1.0, None
    for rule, usage in zip(rules, totals, strict=True):
        amount = used(usage, rule.direction)
        if amount >= rule.first:
            return None
        # As Decision.percent and _warnings work it out, so a boundary falls the same way.
        percent = 100.0 * amount / rule.cap if rule.cap else 0.0
        if percent >= rule.first_warning:
            return None
        decision = Decision(subscriber, amount, rule.cap, State.OK, None, None, frozenset(),
                            (), False, rule.name, rule.rate_bps, rule.queue_bytes)  # fmt: skip
        per.append(decision)
        if percent > top:  # the first such cap, on a tie, as max() would pick
            top, binding = percent, decision
    if binding is None:  # a plan has at least one cap; this is for the type checker
        return None
    b = binding
    return Decision(subscriber, b.used, b.cap, State.OK, None, None, frozenset(), (), False,
                    b.cap_name, b.rate_bps, b.queue_bytes, tuple(per))  # fmt: skip


def _warnings(
    rule: Rule, usage: int, cap: int, warned: frozenset[int]
) -> tuple[frozenset[int], tuple[int, ...]]:
    if not rule.warn_at and not warned:
        return warned, ()
    percent = 100.0 * usage / cap if cap else 0.0
    crossed = tuple(t for t in sorted(rule.warn_at) if percent >= t and t not in warned)
    still = {t for t in warned if percent >= t}
    return frozenset(still | set(crossed)), crossed


def evaluate(
    rules: Mapping[str, Rule | Sequence[Rule]],
    plans: dict[str, str],
    totals: dict[str, dict[str, Totals]],
    now: int,
    standings: dict[str, Standing],
    overrides: Sequence[Override] = (),
) -> Evaluation:
    """Decide for every subscriber in `plans` (subscriber -> plan name) and every one
    with usage. `rules` are per plan: one cap, or several; `totals` per tally key (a cap's
    `tally`, or the plan's name for a cap without one), then per subscriber."""
    by_subscriber: dict[str, list[Override]] = {}
    for override in overrides:
        by_subscriber.setdefault(override.subscriber, []).append(override)
    prepared: dict[str, tuple[tuple[Rule, ...], list[dict[str, Totals]]]] = {}

    def plan_tables(plan: str) -> tuple[tuple[Rule, ...], list[dict[str, Totals]]]:
        if plan not in prepared:
            caps = rules[plan]
            caps = (caps,) if isinstance(caps, Rule) else tuple(caps)
            prepared[plan] = caps, [totals.get(rule.tally or plan, {}) for rule in caps]
        return prepared[plan]

    result = Evaluation()
    everyone = set(plans) | {name for per_plan in totals.values() for name in per_plan}
    everyone |= {name for name, standing in standings.items() if standing.limited}
    for subscriber in sorted(everyone):
        plan = plans.get(subscriber)
        if plan is None or plan not in rules:
            result.no_plan.append(subscriber)
            continue
        caps, tables = plan_tables(plan)
        usage = [table.get(subscriber, NOTHING) for table in tables]
        result.decisions[subscriber] = _combined(
            subscriber, caps, usage, now, standings.get(subscriber, FRESH),
            by_subscriber.get(subscriber, []),
        )  # fmt: skip
    return result


def lifts_at(rule: Rule, level: int | None, usage: int, cap: int,
             samples: Iterable[tuple[int, int]], window: int) -> int | None:  # fmt: skip
    """When a level (a step's index, None for the cap itself) lifts if the subscriber moves
    nothing more: the moment enough of the oldest counted usage has left the window to take
    it below the level's threshold less its margin. `samples` are (time, bytes counted
    against the cap) in the window, oldest first. None: not held at that level now, or the
    samples do not account for the usage."""
    threshold, margin = _threshold(rule, len(rule.steps) if level is None else level, cap)

    def lifted(remaining: int) -> bool:
        return remaining <= threshold * (1 - margin) if margin else remaining < threshold

    remaining = usage
    if lifted(remaining):
        return None
    for when, counted in samples:
        remaining -= counted
        if lifted(remaining):
            return when + window
    return None
