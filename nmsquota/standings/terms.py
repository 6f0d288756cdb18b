"""The terms of each cap of a plan (its steps and their rates, the cap's own rate, the
hysteresis) for readers that draw them: a CapView carries the figures of a subscriber's
usage, the configuration the terms every subscriber on the plan shares."""

from __future__ import annotations

from nmsquota.config import Config
from nmsquota.plans import rules_of
from nmsquota.policy import Rule


def plan_terms(config: Config | None, plan: str | None) -> tuple[Rule, ...]:
    """The policy's rule for each cap of `plan`, in the order of a SubscriberView's `caps`
    (so `zip(view.caps, plan_terms(config, view.plan))` pairs them); () for no plan, a
    plan the configuration does not have, or no configuration."""
    if config is None or plan is None:
        return ()
    return rules_of(config).get(plan, ())
