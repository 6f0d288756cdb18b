"""Subscribers kept in the ledger (`nmsquota subscribers add|set|remove`), beside those in
the configuration file: provisioning by the daemon, or by the CLI when no daemon runs."""

from __future__ import annotations

import ipaddress

from nmsquota.config import Config
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.usage import is_subscriber_name


def provision(ledger: Ledger, config: Config, args: list[str]) -> str:
    """add NAME PLAN [ADDRESS...] | set NAME [plan=P] [addresses=A,B] | remove NAME, on the
    subscribers kept in the ledger (the caller holds the writer)."""
    if len(args) < 2 or args[0] not in ("add", "set", "remove"):
        raise UsageError("usage: subscriber add NAME PLAN [ADDRESS...] | set NAME "
                         "[plan=PLAN] [addresses=A,B] | remove NAME")  # fmt: skip
    action, name, rest = args[0], args[1], args[2:]
    if not is_subscriber_name(name):
        raise UsageError(f"{name!r} is not a valid subscriber name (letters, digits, . _ @ + -)")
    if name in config.settings.subscribers:
        raise UsageError(f"{name} is in the configuration file {config.path}: change it there")
    records = {r["name"]: r for r in ledger.records("provisioned")}
    if action == "remove":
        if records.pop(name, None) is None:
            raise UsageError(f"no provisioned subscriber {name!r}")
    else:
        if action == "add":
            if name in records:
                raise UsageError(f"{name} exists: use set")
            if not rest:
                raise UsageError("add needs a plan")
            record = {"name": name, "plan": rest[0], "addresses": rest[1:], "exempt": False}
        else:
            if name not in records:
                raise UsageError(f"no provisioned subscriber {name!r}")
            record = dict(records[name])
            for word in rest:
                key, _, value = word.partition("=")
                if key == "plan":
                    record["plan"] = value
                elif key == "addresses":
                    record["addresses"] = [a for a in value.split(",") if a]
                else:
                    raise UsageError(f"set takes plan=PLAN and addresses=A,B, not {word!r}")
        if record["plan"] not in config.settings.plans:
            known = ", ".join(sorted(config.settings.plans)) or "none defined"
            raise UsageError(f"no plan named {record['plan']!r} (plans: {known})")
        for address in record["addresses"]:
            try:
                ipaddress.ip_interface(address)
            except ValueError:
                raise UsageError(f"not an address or prefix: {address!r}") from None
        records[name] = record
    with ledger.batch():
        ledger.set_records("provisioned", sorted(records.values(), key=lambda r: r["name"]))
    return f"subscriber {name} {'removed' if action == 'remove' else 'saved'}"
