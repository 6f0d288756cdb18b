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
from typing import Any

from nmsquota.commands.common import add_ledger_options, amount, config_of, ledger_dir, print_table
from nmsquota.config import AccessServer, Config
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger, LedgerMissing


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


MAX_DEVICES_IN_FLIGHT = 64


@dataclass
class DeviceResult:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    error: str | None = None


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
        ledger: Ledger | None = Ledger.open_reader(ledger_dir(args, config))
    except LedgerMissing:
        ledger = None
    results = asyncio.run(_poll_all(config, servers, ledger, args.clock.now()))
    if args.json:
        print(json.dumps([result.__dict__ for result in results], indent=2))
    else:
        _print(results, args.bytes)
    return 1 if any(result.error for result in results) else 0


async def _poll_all(
    config: Config, servers: dict[str, AccessServer], ledger: Ledger | None, now: float
) -> list[DeviceResult]:
    # Imported here: pysnmp takes a while to import, and only this command needs it.
    from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

    engine = SnmpEngine()
    # Each device has one request in flight at a time, so this bounds the requests in
    # flight: 1,000 at once overflowed the UDP receive buffer and lost replies (FIELD-NOTES).
    in_flight = asyncio.Semaphore(MAX_DEVICES_IN_FLIGHT)

    async def bounded(name: str, server: AccessServer) -> DeviceResult:
        async with in_flight:
            return await _poll_one(engine, config, name, server, ledger, now)

    return list(await asyncio.gather(*(bounded(n, s) for n, s in servers.items())))


async def _poll_one(
    engine: Any, config: Config, name: str, server: AccessServer, ledger: Ledger | None, now: float
) -> DeviceResult:
    from nmsquota.attribution import InterfaceMap, Rule, attribute, baselines_from_state
    from nmsquota.snmp.poller import poll
    from nmsquota.snmp.walk import Agent, Session, SnmpError

    result = DeviceResult(name)
    agent = Agent(
        name,
        server.host,
        server.port,
        server.version,
        config.secret(server.community) or "public",
        server.timeout,
        server.retries,
        server.deadline,
        user=server.user or "",
        auth_protocol=server.auth,
        auth_key=config.secret(server.auth_key),
        priv_protocol=server.priv,
        priv_key=config.secret(server.priv_key),
    )
    mapping = InterfaceMap(
        rules=[Rule.compile(m.field, m.pattern) for m in server.match], static=server.interfaces
    )
    try:
        seen = await poll(await Session.open(engine, agent), mapping, now, server.source)
    except SnmpError as error:
        result.error = str(error)
        return result
    previous = baselines_from_state(ledger.counter_state(name)) if ledger else {}
    attribution = attribute(
        previous,
        seen.readings,
        int(now),
        download=server.download,
        speed_override_bps=server.speed_override,
        origins=seen.origins,
    )
    readings = dict(seen.readings)
    for key, charge in attribution.charges:
        reading = readings[key]
        down, up = (
            (charge.bytes_out, charge.bytes_in)
            if server.download == "out"
            else (charge.bytes_in, charge.bytes_out)
        )
        result.rows.append(
            {
                "interface": key.interface,
                "index": key.index,
                "subscriber": key.subscriber,
                "octets_in": reading.octets_in,
                "octets_out": reading.octets_out,
                "width": reading.width,
                "download": down,
                "upload": up,
                "verdict": charge.verdict.value,
                "note": charge.note,
            }
        )
    result.unmapped = [i.name or i.descr for i in seen.unmapped]
    return result


def _print(results: list[DeviceResult], exact: bool) -> None:
    rows = [
        ["DEVICE", "INTERFACE", "SUBSCRIBER", "IN OCTETS", "OUT OCTETS", "DOWN", "UP", "VERDICT"]
    ]
    for result in results:
        if result.error:
            rows.append([result.name, "-", "-", "-", "-", "-", "-", f"error: {result.error}"])
            continue
        for row in result.rows:
            rows.append(
                [
                    result.name,
                    row["interface"],
                    row["subscriber"],
                    str(row["octets_in"]) if row["octets_in"] is not None else "?",
                    str(row["octets_out"]) if row["octets_out"] is not None else "?",
                    amount(row["download"], exact),
                    amount(row["upload"], exact),
                    row["verdict"] + (f" ({row['note']})" if row["note"] else ""),
                ]
            )
    print_table(rows, right={3, 4, 5, 6})
    for result in results:
        if result.unmapped:
            print(
                f"{result.name}: not mapped to a subscriber: {', '.join(result.unmapped)}",
                file=sys.stderr,
            )
