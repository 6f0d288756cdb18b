"""`nmsquota run`: the monitoring daemon in the foreground (systemd style)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nmsquota.commands.common import add_ledger_options, config_of, data_dir_of, ledger_location
from nmsquota.config import ConfigError, load_config
from nmsquota.control import socket_path
from nmsquota.ledger.errors import refused_as

if TYPE_CHECKING:
    from nmsquota.daemon.report import CycleReport
    from nmsquota.ledger import Ledger
    from nmsquota.ledger.records import PlanRecord, SubscriberRecord

log = logging.getLogger("nmsquota.daemon")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="run the monitoring daemon (poll, record, decide, enforce)",
        description=(
            "Every interval: poll the access servers, record each subscriber's bytes in the "
            "ledger, decide who is over their plan's cap, and reconcile the enforcement "
            "drivers. Runs in the foreground and logs to stderr (or --log-file). SIGTERM "
            "finishes the cycle in flight and stops; SIGHUP reloads the configuration, "
            "keeping the old one if the new one is bad. One daemon per ledger."
        ),
    )
    parser.add_argument("--log-file", metavar="FILE", type=Path, help="log here, not stderr")
    parser.add_argument(
        "--cycles",
        type=int,
        metavar="N",
        help="stop after N cycles; exit status 1 if the last one polled no access server or "
        "the ledger refused it",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from nmsquota.commands.common import quota_records
    from nmsquota.daemon.core import Daemon
    from nmsquota.ledger import Ledger

    config = config_of(args, required=True)
    assert config is not None
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    # No timestamps on stderr: journald adds its own. A log file gets them.
    stamp = "%(asctime)s " if args.log_file else ""
    handler.setFormatter(logging.Formatter(f"{stamp}%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("nmsquota")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    from nmsquota.ledger.backends import shown

    directory = data_dir_of(args, config)
    location = ledger_location(args, config)
    with (
        _host_lock(directory, location),
        Ledger.open_writer(location, config.tallies(), pop=config.ledger_pop) as ledger,
    ):
        with ledger.batch():
            subscribers, plans = quota_records(config)
            differing = kept_otherwise(ledger, subscribers, plans)
            if differing:
                running = ledger.live_pops()
                now = f" (running now: {', '.join(running)})" if running else ""
                log.warning("POP %s: %s differ from what another POP's daemon keeps in the "
                            "ledger%s; every POP needs the same plans and subscribers (the "
                            "deciding POP's are applied): this POP's are kept from now",
                            ledger.pop, " and ".join(differing), now)  # fmt: skip
            ledger.records.set_subscribers(subscribers)
            ledger.records.set_plans(plans)
        daemon = Daemon(config, args.clock, ledger)
        log.info("started: %d access servers, %d plans, drivers %s, every %ds, ledger %s",
                 len(daemon.devices), len(daemon.rules),
                 ", ".join(e.driver.name for e in daemon.enforcers), daemon.interval,
                 shown(location))  # fmt: skip
        last: list[CycleReport] = []
        if not isinstance(location, Path):
            daemon.marker = directory  # for this host's readers: see commits.mark
        listener = _metrics_listener(daemon, location)
        summary = _summary_writer(daemon, directory, location)
        site = _site_writer(daemon, directory, location)
        try:
            asyncio.run(_serve(daemon, args.cycles, socket_path(directory), last.append))
        finally:
            daemon.close()
            summary.close()
            if site is not None:
                site.close()
            if listener is not None:
                listener.close()
        log.info("stopped after %d cycles", daemon.cycles)
        daemon.notifier.close()
    return _bounded_run_status(args, last[-1] if last else None)


def kept_otherwise(ledger: Ledger, subscribers: Sequence[SubscriberRecord],
                   plans: Sequence[PlanRecord]) -> list[str]:  # fmt: skip
    """On a ledger several POPs share, which of this configuration's plans and subscribers
    the ledger holds otherwise (as another POP's daemon stored them): "plans home, fair",
    "subscribers alice". Nothing where there is one POP, or the ledger holds none yet."""
    if not ledger.pop:
        return []
    found = []
    pairs: list[tuple[str, dict[str, object], dict[str, object]]] = [
        ("plans", {p.plan or "": p for p in plans},
         {p.plan or "": p for p in ledger.records.plans()}),
        ("subscribers", {r.name: r for r in subscribers},
         {r.name: r for r in ledger.records.subscribers()}),
    ]  # fmt: skip
    for what, ours, theirs in pairs:
        if not theirs:
            continue
        names = sorted(n for n in ours.keys() | theirs.keys() if ours.get(n) != theirs.get(n))
        if names:
            found.append(f"{what} {', '.join(names)}")
    return found


@contextlib.contextmanager
def _host_lock(directory: Path, location: Path | str) -> Iterator[None]:
    """With a database ledger, the writer lock in this host's data_dir too (a TinyDB
    ledger's is its own): one daemon per data directory, and the check plugin and status
    tell a running daemon by it as they do for a TinyDB ledger (writer_pid)."""
    if isinstance(location, Path):
        yield
        return
    from nmsquota.ledger.lock import WriterLock

    with refused_as(directory, "create the directory"):
        directory.mkdir(parents=True, exist_ok=True)
    lock = WriterLock(directory)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _bounded_run_status(args: argparse.Namespace, last: CycleReport | None) -> int:
    """1 when a run of --cycles N ended on a cycle in which every access server failed, or
    one the ledger refused (a full disk), so a script (or a test of the configuration) sees
    that nothing was counted. A daemon stopped by a signal exits 0 whatever its last cycle
    did: the stop was asked for, and the log already says what failed."""
    if args.cycles is None or last is None:
        return 0
    if last.ledger_error is not None:
        message = f"the last cycle was not recorded: {last.ledger_error}"
    elif last.devices_failed and not last.devices_ok:
        failed = ", ".join(sorted(last.devices_failed))
        message = f"the last cycle polled nothing: every access server failed ({failed})"
    else:
        return 0
    log.error("%s", message)
    if args.log_file:
        print(f"nmsquota: {message}", file=sys.stderr)
    return 1


def _metrics_listener(daemon, location: Path | str):  # type: ignore[no-untyped-def]
    """`[metrics] listen`: the metrics over HTTP, from a thread of their own (read through
    the read API, as `nmsquota metrics` reads them), with the configuration SIGHUP loads."""
    address = daemon.config.settings.metrics.listen
    if address is None:
        return None
    from nmsquota.nms.metrics_http import listen

    listener = listen(address, location, lambda: daemon.config, daemon.clock)
    log.info("metrics on http://%s/metrics", address)
    return listener


def _summary_writer(daemon, directory: Path, location: Path | str):  # type: ignore[no-untyped-def]
    """The NMS summary beside the ledger after each commit (what check_nmsquota reads), from
    a thread of its own, with the configuration SIGHUP loads."""
    from nmsquota.nms.summarise import SummaryWriter

    return SummaryWriter(directory, lambda: daemon.config, location=location).start()


def _site_writer(daemon, directory: Path, location: Path | str):  # type: ignore[no-untyped-def]
    """`[report] site`: the private site brought up to each commit, from a thread of its
    own, with the configuration SIGHUP loads (set at start: a site added by SIGHUP waits
    for a restart)."""
    if daemon.config.settings.report.site is None:
        return None
    from nmsquota.report.sitewriter import SiteWriter

    log.info("site in %s, after each commit", daemon.config.settings.report.site)
    return SiteWriter(directory, lambda: daemon.config, location=location).start()


async def _serve(daemon, cycles: int | None, control: Path,  # type: ignore[no-untyped-def]
                 on_cycle: Callable[[CycleReport], None]) -> None:  # fmt: skip
    from nmsquota.control.server import serve

    # A changed [control] group takes effect at the next start: the socket is not remade.
    group = daemon.config.settings.control.group
    server = await serve(control, daemon.handle, group=group)
    log.info("control socket %s%s", control, f" (group {group})" if group else "")
    try:
        await _loop(daemon, cycles, on_cycle)
    finally:
        server.close()
        control.unlink(missing_ok=True)


async def _loop(daemon, cycles: int | None,  # type: ignore[no-untyped-def]
                on_cycle: Callable[[CycleReport], None]) -> None:  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def terminate() -> None:
        log.info("stopping: the cycle in flight finishes first")
        stop.set()

    def reload() -> None:
        from nmsquota.daemon.devices import devices_from
        from nmsquota.snmp.profiles import ProfileError

        path = daemon.config.path
        try:
            config = load_config(path)
        except ConfigError as error:
            log.error("configuration rejected, keeping the old one:\n%s", error)
            return
        try:
            devices_from(config)  # reads the operators' profile files: refused before any change
        except ProfileError as error:
            log.error("configuration rejected, keeping the old one: %s", error)
            return
        if {t.key for t in config.tallies()} != {t.key for t in daemon.config.tallies()}:
            log.error("configuration rejected, keeping the old one: %s: a plan's window "
                      "changed; counting a new window needs a restart", path)  # fmt: skip
            return
        daemon.configure(config)
        log.info("configuration reloaded from %s", path)

    loop.add_signal_handler(signal.SIGTERM, terminate)
    loop.add_signal_handler(signal.SIGINT, terminate)
    loop.add_signal_handler(signal.SIGHUP, reload)
    await daemon.run(stop, cycles, on_cycle)
    # Traps of the last cycle still being sent: asyncio.run would cancel them on return.
    await daemon.traps.drain()
