"""`nmsquota config check`: validate a configuration file and summarise it."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from nmsquota.commands.common import config_of
from nmsquota.config import Config, config_search_path
from nmsquota.ledger.backends import shown
from nmsquota.units import format_bytes, format_duration, format_rate


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "config",
        help="check the configuration file",
        description="Validate the configuration (exit status 2 and one line per problem if bad).",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate and summarise the configuration",
        description="Validate and summarise the configuration. With --live, also walk every "
        "access server once (as `nmsquota probe` does) and print only the problems: devices "
        "that do not answer, map entries that match no interface or several, shared names, "
        "traffic mapped to nobody, 32-bit counters that wrap within the interval, speed 0; "
        "exit status 1 if there are any.",
    )
    check.add_argument("--live", action="store_true",
                       help="walk every access server and report mapping problems")  # fmt: skip
    check.set_defaults(handler=run_check)
    paths = actions.add_parser("paths", help="where nmsquota looks for its configuration")
    paths.set_defaults(handler=run_paths)


def run_check(args: argparse.Namespace) -> int:
    config = config_of(args, required=True)
    assert config is not None
    settings = config.settings
    print(f"{config.path}: OK")
    place = config.ledger_location
    where = f"at {shown(place)}" if isinstance(place, str) else f"in {place}"
    if config.ledger_pop:
        where += f", POP {config.ledger_pop}"
    print(f"  ledger {where}, polling every {format_duration(settings.interval)}")
    for name, plan in sorted(settings.plans.items()):
        caps = plan.all_caps()
        for cap in caps:
            free = f", {cap.free_hours} free" if cap.free_hours else ""
            per = (
                f"month from day {cap.reset_day}"
                if cap.period == "monthly"
                else format_duration(cap.window)
            )
            which = f" cap {cap.label}" if len(caps) > 1 else ""
            steps = "".join(f"{format_rate(step.rate)} from {step.at:g}%, " for step in cap.steps)
            last = " from 100%" if cap.steps else ""
            print(
                f"  plan {name}{which}: {format_bytes(cap.cap)} {cap.direction} per "
                f"{per}{free}, then {steps}{format_rate(cap.limit.rate)}{last} "
                f"(queue {format_bytes(cap.limit.queue)})"
            )
    exempt = sum(1 for s in settings.subscribers.values() if s.exempt)
    print(f"  {len(settings.subscribers)} subscribers ({exempt} exempt)")
    print(f"  {len(settings.access_servers)} access servers, {len(settings.drivers)} drivers")
    for warning in [*config.warnings(), *unresolved_hosts(config)]:
        print(f"{config.path}: warning: {warning}", file=sys.stderr)
    return live_problems(config, args.clock.now()) if getattr(args, "live", False) else 0


def live_problems(config: Config, now: float) -> int:
    """Every access server walked once: only its problems printed; 1 if there were any."""
    import asyncio

    from nmsquota.commands.probe import probe_all
    from nmsquota.names import printable

    names = list(config.settings.access_servers)
    found = asyncio.run(probe_all(config, names, now)) if names else []
    problems = 0
    for name, probed in zip(names, found, strict=True):
        lines = [f"does not answer: {probed}"] if isinstance(probed, str) else probed.warnings
        for line in lines:
            print(f"{name}: {printable(line)}")
        problems += len(lines)
    print(f"  live: {len(names)} access servers walked, {problems} problems")
    return 1 if problems else 0


def unresolved_hosts(config: Config) -> list[str]:
    """A line for each access server named by a host name that does not resolve now. A
    warning, not an error: DNS may be down while the file is checked, and the daemon reports
    such a device as failing each cycle until the name resolves."""
    warnings = []
    for name, server in config.settings.access_servers.items():
        try:
            ipaddress.ip_address(server.host)
            continue
        except ValueError:
            pass
        try:
            socket.getaddrinfo(server.host, server.port, type=socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            warnings.append(
                f"access_servers.{name}.host: {server.host!r} does not resolve ({reason}); "
                "polling it fails until it does"
            )
    return warnings


def run_paths(args: argparse.Namespace) -> int:
    for path in config_search_path():
        print(f"{path}{'' if path.exists() else '  (absent)'}")
    return 0
