"""The subscribers kept in the ledger (`nmsquota subscribers add|set|remove`) beside those in
the configuration file: provisioned by the daemon, or by the CLI when no daemon runs. Who is a
subscriber at all is nmsquota.plans' Roster."""

from __future__ import annotations

from dataclasses import replace

from nmsquota.config import Config
from nmsquota.control.protocol import Provision, SubscriberAdd, SubscriberRemove
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import SubscriberRecord


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
