"""`nmsquota snmp-extend`: the JSON envelope LibreNMS' nmsquota application reads through
Net-SNMP `extend` (the logic is nmsquota.nms.extend)."""

from __future__ import annotations

import argparse
import json

from nmsquota.commands.common import add_ledger_options, config_of, ledger_location
from nmsquota.nms.extend import envelope_of
from nmsquota.standings import Reader, Snapshot


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "snmp-extend", help="the JSON LibreNMS reads through snmpd's extend",
        description="One line of JSON for LibreNMS' application polling over Net-SNMP "
        "`extend` (snmpd.conf: `extend nmsquota /usr/bin/nmsquota snmp-extend`): "
        '{"version": 1, "error": 0, "errorString": "", "data": {...}} with the subscribers, '
        "those online, limited, stepped and whose limit does not bite, the last cycle (age, "
        "duration, lateness, access servers ok, failed and skipped) and each driver's health. "
        "When the ledger or the configuration cannot be read, `data` is {} and `error` says "
        "why (1 no ledger, 2 unreadable ledger, 3 bad configuration, with the reason in "
        "errorString); the exit status is then 1. See docs/prometheus.md.",
    )  # fmt: skip
    add_ledger_options(parser)
    parser.set_defaults(handler=run_snmp_extend)


def run_snmp_extend(args: argparse.Namespace) -> int:
    def read() -> Snapshot:
        config = config_of(args, check_drivers=False)
        return Reader.open(ledger_location(args, config), config).snapshot()

    found = envelope_of(read, args.clock.now())
    print(json.dumps(found, separators=(",", ":")))
    return 1 if found["error"] else 0
