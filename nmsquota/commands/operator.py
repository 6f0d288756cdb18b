"""Operator commands: limit, exempt, topup, release and session up|down.

Each goes through the running daemon's control socket, so it takes effect at once; without a
daemon, the overrides are written into the ledger directly (under the writer lock) and the
next daemon applies them. `status` reads the ledger, daemon or not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    data_dir_of,
    ledger_location,
)
from nmsquota.config import Config
from nmsquota.errors import NmsquotaError

if TYPE_CHECKING:
    from nmsquota.control.protocol import Override, OverrideRemove, Release


def register(commands: argparse._SubParsersAction) -> None:
    for name, summary in (
        ("limit", "limit a subscriber whatever their usage (a force override)"),
        ("exempt", "never limit a subscriber (an exempt override)"),
        ("topup", "add a one-off amount to a subscriber's cap"),
    ):
        parser = commands.add_parser(name, help=summary, description=summary + ".")
        parser.add_argument("subscriber")
        if name == "topup":
            parser.add_argument("size", help="e.g. 5GB")
        parser.add_argument(
            "--for", dest="duration", metavar="DURATION",
            help="expires after this long, e.g. 7d (default: until removed, with "
            "`nmsquota overrides remove ID`)",
        )  # fmt: skip
        parser.add_argument("--cap", metavar="NAME",
                            help="only this cap of a plan with several, e.g. 1d (default: "
                            "the whole plan)")  # fmt: skip
        parser.add_argument("--reason", required=True, help="recorded in the ledger")
        add_ledger_options(parser)
        parser.set_defaults(handler=run_override, command=name)
    release = commands.add_parser(
        "release", help="drop a subscriber's force overrides",
        description="Drop the subscriber's force overrides (`nmsquota limit`). A subscriber "
        "over the cap stays limited: use exempt or topup for that. Any one override, by its "
        "id: `nmsquota overrides remove`.",
    )  # fmt: skip
    release.add_argument("subscriber")
    release.add_argument("--reason", help="recorded in the event log (optional)")
    add_ledger_options(release)
    release.set_defaults(handler=run_override, command="release")

    session = commands.add_parser(
        "session", help="tell the daemon a session started or ended (for ip-up/ip-down)",
        description="What pppd's ip-up/ip-down (or accel-ppp's) scripts call: the session's "
        "interface, login and address. A session that starts over the cap is limited at once.",
    )  # fmt: skip
    session.add_argument("event", choices=["up", "down"])
    session.add_argument("interface")
    session.add_argument("login")
    session.add_argument("address")
    add_ledger_options(session)
    session.set_defaults(handler=run_session)


def _socket(args: argparse.Namespace, config: Config | None) -> Path:
    from nmsquota.control import socket_path

    return socket_path(data_dir_of(args, config))


def override_request(args: argparse.Namespace) -> Override | Release:
    """The request the arguments ask for, checked (RequestError, exit status 2, if not)."""
    from nmsquota.actions import action_request
    from nmsquota.control.protocol import OverrideRemove

    request = action_request(args.command, args.subscriber, reason=args.reason,
                             duration=getattr(args, "duration", None),
                             size=getattr(args, "size", None),
                             cap=getattr(args, "cap", None))  # fmt: skip
    assert not isinstance(request, OverrideRemove)  # what the command asked for
    return request


def run_override(args: argparse.Namespace) -> int:
    return send_or_record(args, override_request(args))


def send_or_record(args: argparse.Namespace, wanted: Override | Release | OverrideRemove) -> int:
    """Through the running daemon, which applies it at once; else into the ledger, for the
    next daemon to apply (nmsquota.actions, which the console shares)."""
    from nmsquota.actions import Performer

    config = config_of(args)
    performer = Performer(config, data_dir_of(args, config), args.clock,
                          location=ledger_location(args, config))  # fmt: skip
    print(performer.perform(wanted))
    return 0


def run_session(args: argparse.Namespace) -> int:
    from nmsquota.control.client import request

    wanted = {"op": "session", "event": args.event, "interface": args.interface,
              "login": args.login, "address": args.address}  # fmt: skip
    path = _socket(args, config_of(args))
    reply = request(path, wanted, timeout=10)  # checked before it is sent
    if reply is None:
        raise NmsquotaError(f"no daemon listening on {path}")
    if not reply.ok:
        raise NmsquotaError(f"the daemon refused: {reply.error}")
    return 0
