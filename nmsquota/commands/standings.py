"""Reading the daemon's standings back for the operator: when each limited cap lifts.

Shared by `status` (the limited subscribers) and `usage` (every cap of every subscriber).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nmsquota.config import Config
from nmsquota.ledger import Ledger, Totals

LiftTimes = Callable[[str, dict], dict[str, int | None]]
"""(subscriber, standing record) -> cap name -> when it lifts."""


def lift_times(ledger: Ledger, config: Config | None) -> LiftTimes:
    """For a subscriber's standing record: when each limited cap lifts if they move nothing
    more (rolling windows only: a monthly cap lifts at its reset), by cap name ("" for a
    one-cap plan). Plans and rules are worked out once for all subscribers."""
    from nmsquota.plans import rules_of
    from nmsquota.policy import lifts_at, used

    plans = {r["name"]: r["plan"] for r in ledger.records("provisioned")}
    if config is not None:
        plans.update({r["name"]: r["plan"] for r in config.subscriber_records()})
    rules = rules_of(config) if config is not None else {}

    def times(name: str, record: dict[str, Any]) -> dict[str, int | None]:
        plan = config.settings.plans.get(plans.get(name, "")) if config is not None else None
        if config is None or plan is None or ledger.as_of is None:
            return {}
        caps = plan.all_caps()
        found: dict[str, int | None] = {}
        for rule, cap in zip(rules[plans[name]], caps, strict=True):
            state = cap_standing(record, rule.name, len(caps) > 1)
            if not state.get("limited") or cap.period == "monthly":
                continue
            tally = cap.tally(config.settings.timezone)
            samples = ledger.samples([name], after=tally.edge_at(ledger.as_of))
            counted = [(s.time, used(Totals(s.bytes_in, s.bytes_out), rule.direction))
                       for s in samples if tally.counts(s.time)]  # fmt: skip
            found[rule.name] = lifts_at(rule, state.get("step"), state["used"], state["cap"],
                                        counted, tally.window)  # fmt: skip
        return found

    return times


def cap_standing(record: dict[str, Any] | None, cap_name: str, several: bool) -> dict[str, Any]:
    """One cap's part of a standing record: its own entry in a plan of several caps (none
    kept: not limited, nothing warned), or the record itself for a one-cap plan."""
    if record is None:
        return {}
    if several:
        return next((c for c in record.get("caps", ()) if c.get("cap_name") == cap_name), {})
    return record
