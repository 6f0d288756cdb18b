"""Operator commands: limit, exempt, topup, release and session up|down.

Each goes through the running daemon's control socket, so it takes effect at once; without a
daemon, the overrides are written into the ledger directly (under the writer lock) and the
next daemon applies them. `status` reads the ledger, daemon or not.
"""

from __future__ import annotations

import argparse

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    ledger_dir,
)
from nmsquota.errors import NmsquotaError


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
            help="expires after this long, e.g. 7d (default: until released)",
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
        "over the cap stays limited: use exempt or topup for that.",
    )  # fmt: skip
    release.add_argument("subscriber")
    add_ledger_options(release)
    release.set_defaults(handler=run_override, command="release", duration=None, reason="")

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


def _socket(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from nmsquota.control import socket_path

    return socket_path(ledger_dir(args, config_of(args)))


def run_override(args: argparse.Namespace) -> int:
    from nmsquota.control import request

    words = [args.command, args.subscriber]
    if args.command == "topup":
        words.append(args.size)
    if args.duration:
        words.append(f"for={args.duration}")
    if getattr(args, "cap", None):
        words.append(f"cap={args.cap}")
    if args.reason:
        words += args.reason.split()
    reply = request(_socket(args), " ".join(words))
    if reply is not None:
        if not reply.get("ok"):
            raise NmsquotaError(f"the daemon refused: {reply.get('error')}")
        limited = args.subscriber in reply.get("limited", [])
        print(f"{reply['message']} (applied now: {args.subscriber} is "
              f"{'limited' if limited else 'not limited'})")  # fmt: skip
        return 0
    from nmsquota.daemon.overrides import apply_override
    from nmsquota.ledger import Ledger

    config = config_of(args)
    caps = None
    if config is not None:
        from nmsquota.plans import cap_names, rules_of

        rules = rules_of(config)
        plans = {r["name"]: r["plan"] for r in config.subscriber_records()}

        def caps(subscriber: str) -> list[str] | None:
            if subscriber not in plans:  # provisioned in the ledger: the daemon checks
                return None
            return cap_names(rules, plans[subscriber])

    with Ledger.open_writer(ledger_dir(args, config)) as ledger:
        message = apply_override(ledger, args.command, words[1:], int(args.clock.now()), caps)
    print(f"{message} (no daemon running: applied at its next start)")
    return 0


def run_session(args: argparse.Namespace) -> int:
    from nmsquota.control import request

    line = f"{args.event} {args.interface} {args.login} {args.address}"
    reply = request(_socket(args), line, timeout=10)
    if reply is None:
        raise NmsquotaError(f"no daemon listening on {_socket(args)}")
    if not reply.get("ok"):
        raise NmsquotaError(f"the daemon refused: {reply.get('error')}")
    return 0
