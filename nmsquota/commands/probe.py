"""`nmsquota probe ACCESS_SERVER`: one walk of an access server, every interface with its
names, speed, counter width and status, whom it maps to and by which rule, and warnings about
what would charge wrongly. What an operator runs first with a new device; `config check
--live` runs it on every device and prints only the warnings. Writes nothing."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any

from nmsquota.commands.common import config_of, print_table
from nmsquota.config import Config
from nmsquota.errors import UsageError
from nmsquota.names import printable

if TYPE_CHECKING:
    from nmsquota.snmp.probe import Port, Probe


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "probe",
        help="walk one access server once and show how its interfaces map",
        description=(
            "Walk one access server's interface table once and print each interface: "
            "ifIndex, ifName, ifDescr, ifAlias, speed, counter width, status, the subscriber "
            "it maps to and by which rule; then warnings: entries that match no interface or "
            "several, names several interfaces share, interfaces that counted traffic but map "
            "to nobody, 32-bit counters fast enough to wrap more than once per interval, "
            "speed 0. Writes nothing. Exit status 1 if there are warnings or the device did "
            "not answer."
        ),
    )
    parser.add_argument("access_server", metavar="ACCESS_SERVER", help="its configured name")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_of(args, required=True)
    assert config is not None
    servers = config.settings.access_servers
    if args.access_server not in servers:
        known = ", ".join(sorted(servers)) or "none configured"
        raise UsageError(f"no access server named {args.access_server!r} ({known})")
    (found,) = asyncio.run(probe_all(config, [args.access_server], args.clock.now()))
    if isinstance(found, str):
        print(json.dumps({"device": args.access_server, "error": found}) if args.json
              else f"{args.access_server}: {found}")  # fmt: skip
        return 1
    if args.json:
        print(json.dumps(as_json(found), indent=2))
    else:
        print_probe(found)
    return 1 if found.warnings else 0


async def probe_all(config: Config, names: list[str], now: float) -> list[Probe | str]:
    """Each device probed concurrently: its Probe, or why it could not be walked."""
    # Imported here: pysnmp takes a while to import, and only the live commands need it.
    from nmsquota.daemon.devices import devices_from
    from nmsquota.snmp.connect import Transports
    from nmsquota.snmp.probe import probe
    from nmsquota.snmp.walk import SnmpError

    transports = Transports()

    async def one(device: Any) -> Probe | str:
        try:
            async with await transports.open(device.agent) as transport:
                return await probe(transport, device.mapping, interval=config.settings.interval,
                                   source=device.source, now=now,
                                   speed_override_bps=device.speed_override_bps)  # fmt: skip
        except SnmpError as error:
            return str(error)

    return list(await asyncio.gather(*(one(d) for d in devices_from(config, names))))


def _speed(bps: int | None) -> str:
    if not bps:
        return "0"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if bps >= size:
            return f"{bps / size:g}{unit}"
    return str(bps)


def _row(port: Port) -> list[str]:
    i = port.interface
    names = [printable(name) or "-" for name in (i.name, i.descr, i.alias)]
    return [str(i.index), *names,
            _speed(port.speed_bps), str(port.width) if port.width else "-", port.status,
            port.subscriber or "-", port.rule or "-"]  # fmt: skip


def print_probe(found: Probe) -> None:
    header = ["IFINDEX", "IFNAME", "IFDESCR", "IFALIAS", "SPEED", "BITS", "STATUS",
              "SUBSCRIBER", "RULE"]  # fmt: skip
    print_table([header, *(_row(port) for port in found.ports)], right={0, 4, 5})
    for warning in found.warnings:
        print(f"warning: {found.device}: {printable(warning)}")


def as_json(found: Probe) -> dict[str, Any]:
    ports = [{"index": p.interface.index, "ifName": p.interface.name,
              "ifDescr": p.interface.descr, "ifAlias": p.interface.alias,
              "speed_bps": p.speed_bps, "width": p.width, "status": p.status,
              "octets_in": p.octets_in, "octets_out": p.octets_out,
              "subscriber": p.subscriber, "rule": p.rule} for p in found.ports]  # fmt: skip
    return {"device": found.device, "interfaces": ports, "warnings": found.warnings}
