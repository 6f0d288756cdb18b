"""`nmsquota snmp-pass`: NMSQUOTA-MIB for Net-SNMP's snmpd, as a pass_persist handler.

Thin: the protocol is nmsquota.nms.passpersist, the OID tree nmsquota.nms.mib.
"""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import add_ledger_options, config_of, data_dir_of, ledger_location
from nmsquota.nms.mib import ROOT
from nmsquota.nms.passpersist import UNMARKED_EVERY, LedgerSource, format_oid, serve


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "snmp-pass",
        help="serve NMSQUOTA-MIB to snmpd (pass_persist)",
        description=(
            "Serve NMSQUOTA-MIB (mibs/NMSQUOTA-MIB.txt: each subscriber's usage against "
            "each cap, the limit in force, the poller's and the drivers' health) from the "
            "ledger, read-only, as a Net-SNMP pass_persist handler on stdin/stdout. In "
            f"snmpd.conf: `pass_persist {format_oid(ROOT)} /usr/bin/nmsquota -c FILE "
            "snmp-pass`. Answers PING, get and getnext; a set is answered not-writable; an "
            "unknown or malformed request NONE. The ledger is read again when a commit "
            "changes it (a database ledger that no daemon on this host writes: every "
            f"{UNMARKED_EVERY} s). Runs until snmpd closes its input. See docs/snmp.md."
        ),
    )
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    source = LedgerSource(
        data_dir_of(args, config), config, ledger_location(args, config), args.clock.now
    )
    # No ledger yet is not a reason to exit: snmpd would restart the handler in a loop.
    # Until one appears, everything is answered NONE.
    serve(sys.stdin.buffer, sys.stdout.buffer, source, args.clock.now)
    return 0
