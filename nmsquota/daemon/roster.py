"""Who is a subscriber: the roster a control request is checked against, and the subscribers
kept in the ledger (`nmsquota subscribers add|set|remove`) beside those in the configuration
file, provisioned by the daemon, or by the CLI when no daemon runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from nmsquota.config import Config
from nmsquota.control.protocol import Provision, SubscriberAdd, SubscriberRemove
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import SubscriberRecord
from nmsquota.plans import Rules, cap_names, members, plans_of, rules_of


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


def roster_of(config: Config, provisioned: Iterable[Mapping[str, Any]],
              online: Iterable[str] = ()) -> Roster:  # fmt: skip
    """The roster from the configuration, the ledger's provisioned subscribers and those
    seen `online` (who count only with a `default_plan`)."""
    configured = {r["name"]: r for r in config.subscriber_records()}
    default = config.settings.default_plan
    known = members(configured, provisioned)
    return Roster(plans_of(known, default, online), rules_of(config), default)


def provision(ledger: Ledger, config: Config, request: Provision) -> str:
    """Add, change or remove a subscriber kept in the ledger (the caller holds the writer).
    The request's names and addresses are valid already (nmsquota.control.protocol); what
    is checked here is what only the configuration and the ledger know."""
    name = request.name
    if name in config.settings.subscribers:
        raise UsageError(f"{name} is in the configuration file {config.path}: change it there")
    records = {r.name: r for r in ledger.records.provisioned()}
    if isinstance(request, SubscriberRemove):
        if records.pop(name, None) is None:
            raise UsageError(f"no provisioned subscriber {name!r}")
    else:
        if isinstance(request, SubscriberAdd):
            if name in records:
                raise UsageError(f"{name} exists: use set")
            record = SubscriberRecord(name=name, plan=request.plan,
                                      addresses=tuple(request.addresses))  # fmt: skip
        else:
            if name not in records:
                raise UsageError(f"no provisioned subscriber {name!r}")
            record = records[name]
            if request.plan is not None:
                record = replace(record, plan=request.plan)
            if request.addresses is not None:
                record = replace(record, addresses=tuple(request.addresses))
        if record.plan not in config.settings.plans:
            known = ", ".join(sorted(config.settings.plans)) or "none defined"
            raise UsageError(f"no plan named {record.plan!r} (plans: {known})")
        records[name] = record
    with ledger.batch():
        ledger.records.set_provisioned(sorted(records.values(), key=lambda r: r.name))
    removed = isinstance(request, SubscriberRemove)
    return f"subscriber {name} {'removed' if removed else 'saved'}"
