"""Plans and the subscriber roster as the policy sees them, for every process.

The daemon decides with these; the readers (status, usage, the console, the check plugin,
the reports) use the same ones to explain a decision, so neither copies the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nmsquota.config import Config
from nmsquota.errors import UsageError
from nmsquota.policy import Rule, Step

Rules = dict[str, tuple[Rule, ...]]
"""Plan name -> its caps as policy rules, in the plan's order."""


def rules_of(config: Config) -> Rules:
    """Each plan's caps as policy rules. A one-cap plan's cap has no name, so its reasons
    read as they always have ("over cap: ...")."""
    zone = config.settings.timezone
    rules = {}
    for name, plan in config.settings.plans.items():
        caps = plan.all_caps()
        rules[name] = tuple(
            Rule(
                cap=cap.cap,
                direction=cap.direction,
                rate_bps=cap.limit.rate,
                queue_bytes=cap.limit.queue,
                hysteresis=(cap.hysteresis or 0.0) / 100,
                warn_at=tuple(int(t) for t in cap.warn_at),
                name=cap.label if len(caps) > 1 else "",
                tally=cap.tally(zone).key,
                steps=tuple(_step(step, cap.limit.queue) for step in cap.steps),
            )
            for cap in caps
        )
    return rules


def cap_names(rules: Rules, plan: str) -> list[str]:
    """A plan's caps by name (none for a one-cap plan, or a plan not in `rules`)."""
    return [rule.name for rule in rules.get(plan, ()) if rule.name]


def _step(step: Any, queue: int) -> Step:
    """A configured step as the policy's: its own queue, or the cap's limit's."""
    return Step(step.at, step.rate, step.queue if step.queue is not None else queue,
                (step.hysteresis or 0.0) / 100)  # fmt: skip


class Member(Protocol):
    """A subscriber with a plan of their own: the configuration's (ConfiguredMember) or one
    provisioned in the ledger (its SubscriberRecord)."""

    @property
    def name(self) -> str: ...
    @property
    def plan(self) -> str: ...
    @property
    def addresses(self) -> Sequence[str]: ...
    @property
    def exempt(self) -> bool: ...
    @property
    def exempt_reason(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ConfiguredMember:
    name: str
    plan: str
    addresses: tuple[str, ...] = ()
    exempt: bool = False
    exempt_reason: str | None = None


def configured_members(config: Config) -> dict[str, Member]:
    """The configuration file's subscribers (worked out once per load, not per lookup)."""
    return {
        name: ConfiguredMember(name, s.plan, tuple(s.addresses), s.exempt, s.exempt_reason)
        for name, s in sorted(config.settings.subscribers.items())
    }


def members(configured: Mapping[str, Member],
            provisioned: Iterable[Member]) -> dict[str, Member]:  # fmt: skip
    """Every known subscriber: those provisioned in the ledger (`nmsquota subscribers add`),
    then the configuration's, which win a name both have."""
    found: dict[str, Member] = {member.name: member for member in provisioned}
    found.update(configured)
    return found


def plans_of(known: Mapping[str, Member], default: str | None = None,
             online: Iterable[str] = ()) -> dict[str, str]:  # fmt: skip
    """Each subscriber's plan: their own, or `default` for those seen online without one."""
    plans = {name: member.plan for name, member in known.items()}
    if default is not None:
        for name in online:
            plans.setdefault(name, default)
    return plans


@dataclass(frozen=True)
class Roster:
    """Every subscriber with a plan: in the configuration file, provisioned in the ledger,
    or (with `default_plan`) seen on the network."""

    plans: Mapping[str, str]
    rules: Rules
    default_plan: str | None = None

    def plan_of(self, subscriber: str) -> str:
        """The subscriber's plan, or UsageError: an override for a name nobody knows is a
        typo, and would sit in the ledger doing nothing."""
        plan = self.plans.get(subscriber)
        if plan is None:
            raise UsageError(f"no subscriber named {subscriber!r} (not in the configuration, "
                             "not provisioned, not seen on the network)")  # fmt: skip
        return plan

    def caps(self, subscriber: str) -> list[str]:
        """The subscriber's caps by name (none for a one-cap plan)."""
        return cap_names(self.rules, self.plan_of(subscriber))

    def may_log_in(self, login: str) -> bool:
        """Whether a session of `login` is someone's: a subscriber, or anyone at all when
        `default_plan` gives the unlisted a plan (what it is for)."""
        return login in self.plans or self.default_plan is not None


def roster_of(config: Config, provisioned: Iterable[Member],
              online: Iterable[str] = ()) -> Roster:  # fmt: skip
    """The roster from the configuration, the ledger's provisioned subscribers and those
    seen `online` (who count only with a `default_plan`)."""
    default = config.settings.default_plan
    known = members(configured_members(config), provisioned)
    return Roster(plans_of(known, default, online), rules_of(config), default)
