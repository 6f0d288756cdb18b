"""`nmsquota limitd`: the paper's remote rate limiter, on the router that enforces."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from nmsquota.commands.common import config_of
from nmsquota.errors import UsageError

if TYPE_CHECKING:
    from nmsquota.limitd.protocol import Connection


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "limitd",
        help="serve the limit protocol (the paper's remote limiter)",
        description=(
            "Accept limit-protocol clients (the `limit` driver of another nmsquota, or the "
            "paper's byteshare) and apply their ADD/REMOVE/CLEAR through the local driver "
            "named in [limitd]. Clients log in by challenge-response with the shared secret "
            '(auth = "hmac-sha256"; "des" only for the paper\'s clients). Runs in the '
            "foreground; logs to stderr."
        ),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--listen", metavar="HOST:PORT", help="TCP address (default: [limitd])")
    mode.add_argument(
        "--inetd", action="store_true", help="serve one connection on stdin/stdout (inetd)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from nmsquota.enforcement.driver import make_driver
    from nmsquota.limitd.protocol import Connection, Counter
    from nmsquota.limitd.server import serve_inetd, stdio

    config = config_of(args, required=True)
    assert config is not None
    settings = config.settings.limitd
    if settings is None:
        raise UsageError(f"{config.path}: no [limitd] section (driver, secret)")
    driver = make_driver(*config.configured_driver(settings.driver))
    secret = config.secret(settings.secret) or ""
    counter = Counter()

    def connection() -> Connection:
        return Connection(driver, secret, settings.auth, args.clock.now,
                          rate_bps=settings.rate, queue_bytes=settings.queue,
                          counter=counter)  # fmt: skip

    if args.inetd:
        serve_inetd(connection(), *stdio())
        return 0
    host, _, port = (args.listen or settings.listen).rpartition(":")
    if not port.isdigit():
        raise UsageError(f"--listen: expected HOST:PORT, got {args.listen!r}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_listen(host.strip("[]"), int(port), connection))
    return 0


async def _listen(host: str, port: int, connection: Callable[[], Connection]) -> None:
    from nmsquota.limitd.server import serve

    server = await serve(host, port, connection)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = ", ".join(str(s.getsockname()[:2]) for s in server.sockets)
    logging.getLogger("nmsquota.limitd").info("listening on %s", bound)
    print(f"limitd listening on {bound}", flush=True)
    async with server:
        await stop.wait()
