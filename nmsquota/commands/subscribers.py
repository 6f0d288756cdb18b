"""`nmsquota subscribers list|add|set|remove`: who is a subscriber, and on which plan.

Subscribers come from the configuration file and from the ledger: `add` puts one in the
ledger without touching the file (for provisioning scripts), through the running daemon's
control socket so that it counts at once, or into the ledger directly when no daemon runs.
A subscriber in the configuration file is changed in the file.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    data_dir_of,
    ledger_location,
    print_table,
)
from nmsquota.errors import UsageError

if TYPE_CHECKING:
    from nmsquota.control.protocol import Provision


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "subscribers",
        help="list, add, change or remove subscribers",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every subscriber, its plan and where it is kept")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    add_ledger_options(listing)
    listing.set_defaults(handler=run_list)
    add = actions.add_parser(
        "add",
        help="a new subscriber, kept in the ledger",
        usage="nmsquota subscribers add [-h] NAME --plan PLAN [--addresses A,B] [--ledger DIR]",
        description="Add a subscriber on a plan, with the addresses their sessions use: "
        "nmsquota subscribers add carol --plan home --addresses 203.0.113.9,2001:db8:9::/64",
    )
    add.add_argument("name", metavar="NAME", help="the subscriber's login name")
    # The same options as `set`. The plan and addresses were once positional (add NAME PLAN
    # ADDRESS...); argparse cannot take positionals after an option (add carol --plan home
    # 10.0.0.3 is "unrecognized arguments"), so that form is caught here and refused with
    # the spelling to use instead of being half supported.
    add.add_argument("old_form", nargs="*", help=argparse.SUPPRESS)
    add.add_argument("--plan", metavar="PLAN", help="the subscriber's plan (required)")
    add.add_argument("--addresses", metavar="A,B", help="comma-separated addresses or prefixes")
    add_ledger_options(add)
    add.set_defaults(handler=run_edit, action="add")
    change = actions.add_parser("set", help="change a subscriber kept in the ledger")
    change.add_argument("name")
    change.add_argument("--plan", metavar="PLAN", help="move the subscriber to this plan")
    change.add_argument(
        "--addresses", metavar="A,B", help="comma-separated addresses or prefixes; replaces them"
    )
    add_ledger_options(change)
    change.set_defaults(handler=run_edit, action="set")
    remove = actions.add_parser("remove", help="remove a subscriber kept in the ledger")
    remove.add_argument("name")
    add_ledger_options(remove)
    remove.set_defaults(handler=run_edit, action="remove")


def run_list(args: argparse.Namespace) -> int:
    from nmsquota.ledger import Ledger, LedgerMissing
    from nmsquota.plans import configured_members, members

    config = config_of(args, required=True)
    assert config is not None
    try:
        provisioned = Ledger.open_reader(ledger_location(args, config)).records.provisioned()
    except LedgerMissing:
        provisioned = []
    configured = configured_members(config)
    listed = sorted(members(configured, provisioned).items())
    source = {name: str(config.path) if name in configured else "ledger" for name, _ in listed}
    if args.json:
        print(json.dumps([
            {"name": name, "plan": member.plan, "addresses": list(member.addresses),
             "exempt": member.exempt, "exempt_reason": member.exempt_reason,
             "source": source[name]}
            for name, member in listed
        ], indent=2))  # fmt: skip
        return 0
    rows = [["SUBSCRIBER", "PLAN", "ADDRESSES", "KEPT IN"]]
    for name, member in listed:
        exempt = " (exempt)" if member.exempt else ""
        rows.append([name, member.plan + exempt, ",".join(member.addresses) or "-",
                     source[name]])  # fmt: skip
    print_table(rows, right=set())
    return 0


def edit_request(args: argparse.Namespace) -> Provision:
    """The request the arguments ask for, checked (RequestError, exit status 2, if not)."""
    from nmsquota.control.protocol import (
        SubscriberAdd,
        SubscriberRemove,
        SubscriberSet,
        parse_request,
    )

    fields: dict[str, object] = {"op": "subscriber", "action": args.action, "name": args.name}
    if args.action == "add":
        if args.old_form:
            raise UsageError(_old_form(args))
        if args.plan is None:
            raise UsageError(f"add: give the subscriber's plan: nmsquota subscribers add "
                             f"{args.name} --plan PLAN [--addresses A,B]")  # fmt: skip
        fields |= {"plan": args.plan, "addresses": _addresses(args.addresses)}
    elif args.action == "set":
        if args.plan is None and args.addresses is None:
            raise UsageError("set: give --plan, --addresses or both")
        fields["plan"] = args.plan
        if args.addresses is not None:
            fields["addresses"] = _addresses(args.addresses)
    request = parse_request(fields)
    assert isinstance(request, SubscriberAdd | SubscriberSet | SubscriberRemove)
    return request


def _addresses(text: str | None) -> list[str]:
    return [address for address in (text or "").split(",") if address]


def _old_form(args: argparse.Namespace) -> str:
    """`add NAME PLAN ADDRESS...`, the form before --plan, spelled as it is now."""
    import ipaddress

    words = list(args.old_form)
    plan = args.plan
    if plan is None and words:
        try:
            ipaddress.ip_interface(words[0])
        except ValueError:
            plan = words.pop(0)
    addresses = _addresses(args.addresses) + words
    spelled = f"nmsquota subscribers add {args.name} --plan {plan or 'PLAN'}"
    if addresses:
        spelled += f" --addresses {','.join(addresses)}"
    return f"add: the plan and the addresses are options, as for set: {spelled}"


def run_edit(args: argparse.Namespace) -> int:
    from nmsquota.control import socket_path
    from nmsquota.control.client import request
    from nmsquota.daemon.roster import provision
    from nmsquota.ledger import Ledger

    config = config_of(args, required=True)
    assert config is not None
    wanted = edit_request(args)
    reply = request(socket_path(data_dir_of(args, config)), wanted)
    if reply is not None:
        if not reply.ok:
            raise UsageError(reply.error)
        print(f"{reply.message} (the daemon has it now)")
        return 0
    with Ledger.open_writer(ledger_location(args, config), config.tallies()) as ledger:
        print(f"{provision(ledger, config, wanted)} (no daemon running: in the ledger)")
    return 0
