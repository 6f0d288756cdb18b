"""`nmsquota poll --once`: what one cycle sees on each access server. Changes nothing.

The first thing an operator runs on a new device: which interfaces map to whom, their
counters, and the deltas against the baselines the daemon last committed (if any).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nmsquota.commands.common import (
    add_ledger_options,
    amount,
    config_of,
    ledger_location,
    print_table,
)
from nmsquota.config import AccessServer, Config
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger, LedgerMissing
from nmsquota.names import printable

if TYPE_CHECKING:
    from nmsquota.snmp.cycle import DeviceResult


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "poll",
        help="poll the access servers once and show what was seen",
        description=(
            "Poll every access server in the configuration (or one, with --device) once and "
            "print each interface: the subscriber it maps to, its counters and the delta "
            "against the baseline the daemon last stored in the ledger. Writes nothing. Exit "
            "status 1 if any access server could not be read."
        ),
    )
    parser.add_argument("--once", action="store_true", required=True, help="one cycle (required)")
    parser.add_argument("--device", metavar="NAME", help="only this access server")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--bytes", action="store_true", help="exact byte counts, no units")
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


@dataclass
class DeviceReport:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    addresses: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def run(args: argparse.Namespace) -> int:
    config = config_of(args, required=True)
    assert config is not None
    servers = config.settings.access_servers
    if args.device:
        if args.device not in servers:
            known = ", ".join(sorted(servers)) or "none configured"
            raise UsageError(f"--device: no access server named {args.device!r} ({known})")
        servers = {args.device: servers[args.device]}
    if not servers:
        raise UsageError(f"{config.path}: no access_servers to poll")
    try:
        ledger: Ledger | None = Ledger.open_reader(ledger_location(args, config))
    except LedgerMissing:
        ledger = None
    reports = asyncio.run(_poll_all(config, list(servers), ledger, args.clock.now()))
    if args.json:
        print(json.dumps([report.__dict__ for report in reports], indent=2))
    else:
        _print(reports, args.bytes)
    return 1 if any(report.error for report in reports) else 0


async def _poll_all(
    config: Config, names: list[str], ledger: Ledger | None, now: float
) -> list[DeviceReport]:
    # Imported here: pysnmp takes a while to import, and only this command needs it.
    from nmsquota.daemon.devices import devices_from
    from nmsquota.daemon.record import stored_baselines
    from nmsquota.snmp.connect import Transports
    from nmsquota.snmp.cycle import poll_devices

    devices = devices_from(config, names)
    results = await poll_devices(Transports(), devices, now, stored_baselines(ledger))
    return [_report(result, config.settings.access_servers[result.device]) for result in results]


def _report(result: DeviceResult, server: AccessServer) -> DeviceReport:
    report = DeviceReport(result.device, error=result.error, seconds=round(result.seconds, 3))
    if result.poll is None or result.attribution is None:
        return report
    readings = dict(result.poll.readings)
    for key, charge in result.attribution.charges:
        reading = readings[key]
        down, up = (
            (charge.bytes_out, charge.bytes_in)
            if server.download == "out"
            else (charge.bytes_in, charge.bytes_out)
        )
        report.rows.append(
            {
                "interface": key.interface,
                "index": key.index,
                "subscriber": key.subscriber,
                "session": key.session,
                "addresses": result.poll.addresses.get(key.subscriber, []),
                "octets_in": reading.octets_in,
                "octets_out": reading.octets_out,
                "width": reading.width,
                "download": down,
                "upload": up,
                "verdict": charge.verdict.value,
                "note": charge.note,
            }
        )
    report.unmapped = [i.name or i.descr for i in result.poll.unmapped]
    report.addresses = result.poll.addresses
    return report


def _print(reports: list[DeviceReport], exact: bool) -> None:
    # The address column only when some device told us addresses (learn_addresses, accel-ppp).
    with_addresses = any(report.addresses for report in reports)
    header = ["DEVICE", "INTERFACE", "SUBSCRIBER", "IN OCTETS", "OUT OCTETS", "DOWN", "UP"]
    rows = [[*header, *(["ADDRESS"] if with_addresses else []), "VERDICT"]]
    for report in reports:
        if report.error:
            dashes = ["-"] * (len(rows[0]) - 2)
            rows.append([report.name, *dashes, f"error: {printable(report.error)}"])
            continue
        for row in report.rows:
            address = [",".join(row["addresses"]) or "-"] if with_addresses else []
            rows.append(
                [
                    report.name,
                    printable(row["interface"]),
                    printable(row["subscriber"]),
                    str(row["octets_in"]) if row["octets_in"] is not None else "?",
                    str(row["octets_out"]) if row["octets_out"] is not None else "?",
                    amount(row["download"], exact),
                    amount(row["upload"], exact),
                    *address,
                    row["verdict"] + (f" ({row['note']})" if row["note"] else ""),
                ]
            )
    print_table(rows, right={3, 4, 5, 6})
    for report in reports:
        if report.unmapped:
            unmapped = ", ".join(printable(name) for name in report.unmapped)
            print(
                f"{report.name}: not mapped to a subscriber: {unmapped}",
                file=sys.stderr,
            )
