"""`nmsquota driver`: an operator's hands on the enforcement drivers, one at a time.

For trying a driver on a new router, or putting things right by hand: check its health,
list what it has installed, limit or release addresses, clear everything it installed.
The daemon reconciles each cycle, so a hand-made change it does not want is undone then.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from nmsquota import units
from nmsquota.commands.common import config_of, print_table
from nmsquota.config import Config
from nmsquota.errors import UsageError

if TYPE_CHECKING:
    from nmsquota.enforcement.driver import Driver


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "driver",
        help="check or drive an enforcement driver by hand",
        description=(
            "Check, list, add, remove or clear the limits of the enforcement drivers in the "
            "configuration's [drivers]. Exit status 1 if a driver fails."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="health of every driver (or one)")
    check.add_argument("name", nargs="?", help="only this driver")
    check.set_defaults(handler=run_check)
    listing = actions.add_parser("list", help="the limits a driver has installed")
    listing.add_argument("name")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=run_list)
    add = actions.add_parser("add", help="limit addresses")
    add.add_argument("name")
    add.add_argument("addresses", nargs="+", metavar="ADDRESS")
    add.add_argument("--rate", default="3kbit", help="limited rate (default: 3kbit)")
    add.add_argument("--queue", default="10KB", help="queue or burst size (default: 10KB)")
    add.add_argument("--subscriber", default="", help="whose addresses (for the record)")
    add.set_defaults(handler=run_add)
    remove = actions.add_parser("remove", help="lift the limits on addresses")
    remove.add_argument("name")
    remove.add_argument("addresses", nargs="+", metavar="ADDRESS")
    remove.set_defaults(handler=run_remove)
    clear = actions.add_parser("clear", help="lift every limit the driver installed")
    clear.add_argument("name")
    clear.add_argument("--yes", action="store_true", required=True, help="yes, all of them")
    clear.set_defaults(handler=run_clear)


def _config(args: argparse.Namespace) -> Config:
    config = config_of(args, required=True)
    assert config is not None
    return config


def _driver(config: Config, name: str) -> Driver:
    from nmsquota.enforcement.driver import make_driver

    if name not in config.settings.drivers:
        known = ", ".join(sorted(config.settings.drivers)) or "none configured"
        raise UsageError(f"no driver named {name!r} ({known})")
    return make_driver(*config.configured_driver(name))


def run_check(args: argparse.Namespace) -> int:
    from nmsquota.enforcement.driver import DriverError

    config = _config(args)
    names = [args.name] if args.name else sorted(config.settings.drivers)
    if not names:
        raise UsageError(f"{config.path}: no [drivers] configured")
    status = 0
    for name in names:
        try:
            print(f"{name}: OK: {_driver(config, name).check()}")
        except DriverError as error:
            print(f"{name}: FAILED: {error}")
            status = 1
    return status


def run_list(args: argparse.Namespace) -> int:
    limits = _driver(_config(args), args.name).installed()
    if args.json:
        print(json.dumps([{"subscriber": lim.subscriber, "addresses": list(lim.addresses),
                           "rate_bps": lim.rate_bps, "session": lim.session}
                          for lim in limits], indent=2))  # fmt: skip
        return 0
    rows = [["SUBSCRIBER", "ADDRESS", "RATE", "SESSION"]]
    for lim in limits:
        rate = units.format_rate(lim.rate_bps) if lim.rate_bps else "?"
        rows.append([lim.subscriber or "-", ",".join(lim.addresses) or "-", rate,
                     lim.session or "-"])  # fmt: skip
    print_table(rows, right={2})
    print(f"{len(limits)} limits installed")
    return 0


def _limits(args: argparse.Namespace, rate: int = 3_000, queue: int = 10_000) -> list:
    from nmsquota.enforcement.driver import Limit, normalize_address

    limits = []
    for address in args.addresses:
        try:
            normalize_address(address)
        except ValueError:
            raise UsageError(f"not an address or prefix: {address!r}") from None
        limits.append(Limit(getattr(args, "subscriber", ""), (address,), rate, queue))
    return limits


def run_add(args: argparse.Namespace) -> int:
    try:
        rate, queue = units.parse_rate(args.rate), units.parse_size(args.queue)
    except units.UnitError as error:
        raise UsageError(str(error)) from None
    _driver(_config(args), args.name).add(_limits(args, rate, queue))
    print(f"{len(args.addresses)} limited at {units.format_rate(rate)}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    _driver(_config(args), args.name).remove(_limits(args))
    print(f"{len(args.addresses)} lifted")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    _driver(_config(args), args.name).clear()
    print("all lifted")
    return 0
