"""`nmsquota overrides list|remove`: the operator's overrides by id.

`limit`, `exempt` and `topup` make overrides; one made "until removed" ends only when it is
removed: `list` gives each override in force its id, `remove ID --reason TEXT` removes it
through the running daemon (at once: it decides and enforces again), or in the ledger when no
daemon runs.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from nmsquota import units
from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    ledger_location,
    print_table,
    reader_of,
    zone_of,
)
from nmsquota.commands.override_forms import expiry, override_json


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "overrides", help="list the operator's overrides, or remove one by its id",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )  # fmt: skip
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="the overrides in force, with their ids",
        description="The overrides in force (not expired), in the order made: id, subscriber, "
        "kind, cap (- for the whole plan), a top-up's amount, reason, author, since, expiry.",
    )  # fmt: skip
    listing.add_argument("subscriber", nargs="?", metavar="SUBSCRIBER", help="only theirs")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--tz", metavar="ZONE", help="time zone for the times shown")
    add_ledger_options(listing)
    listing.set_defaults(handler=run_list)
    remove = actions.add_parser(
        "remove", help="remove an override by its id",
        description="Remove the override with this id (as `nmsquota overrides list` shows "
        "it): at once through the running daemon, which decides and enforces again, or in the "
        "ledger when no daemon runs. An id no override has is refused (exit status 1).",
    )  # fmt: skip
    remove.add_argument("id", metavar="ID", help="8 hex digits, from `nmsquota overrides list`")
    remove.add_argument("--reason", metavar="TEXT", required=True,
                        help="why: recorded in the event log")  # fmt: skip
    add_ledger_options(remove)
    remove.set_defaults(handler=run_remove)


def run_list(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    reader = reader_of(ledger_location(args, config), config)
    now = args.clock.now()
    shown = [o for o in reader.snapshot().overrides if o.until is None or o.until > now
             if args.subscriber is None or o.subscriber == args.subscriber]  # fmt: skip
    if args.json:
        print(json.dumps([override_json(o) for o in shown], indent=2))
        return 0
    if not shown:
        of = f" of {args.subscriber}" if args.subscriber is not None else ""
        print(f"no overrides{of} in force")
        return 0
    zone = zone_of(args, config)
    rows = [["ID", "SUBSCRIBER", "KIND", "CAP", "AMOUNT", "REASON", "AUTHOR", "SINCE",
             "EXPIRES"]]  # fmt: skip
    for o in shown:
        size = units.format_bytes(o.bytes) if o.kind == "topup" else "-"
        since = datetime.fromtimestamp(o.since, zone).strftime("%Y-%m-%d %H:%M")
        rows.append([o.id, o.subscriber, o.kind, o.cap or "-", size, o.reason, o.author or "-",
                     since, expiry(o.until, zone)])  # fmt: skip
    print_table(rows, right={4})
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from nmsquota.commands.operator import send_or_record
    from nmsquota.control.protocol import OverrideRemove, parse_request

    # Checked as the daemon checks it (RequestError, exit status 2: a malformed id, an
    # empty reason) before anything is sent or written.
    wanted = parse_request({"op": "override", "action": "remove", "id": args.id,
                            "reason": args.reason})  # fmt: skip
    assert isinstance(wanted, OverrideRemove)  # what "op" and "action" asked for
    return send_or_record(args, wanted)
