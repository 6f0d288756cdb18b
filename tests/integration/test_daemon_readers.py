"""What the daemon keeps for the readers, end to end on the cycle rig: each access server's
last poll, where each subscriber is online, and the event log (limits applied and lifted,
overrides, repairs, driver errors, counter events, sessions, devices), as the read API
(nmsquota.standings) shows them from another reader of the same ledger."""

from __future__ import annotations

import asyncio
from pathlib import Path

from integration.test_daemon_cycle import MB, T0, Bras, oid, rig
from integration.test_sim_agent import interfaces
from pysnmp.proto.rfc1902 import Integer32, TimeTicks

from nmsquota.config import load_config
from nmsquota.control.protocol import Limit, Release, Session
from nmsquota.ledger.records import EventKind
from nmsquota.snmp import tables as p
from nmsquota.standings import Reader, ReasonKind, Snapshot


def snapshot(r) -> Snapshot:  # type: ignore[no-untyped-def]
    """What a reader in another process sees of the rig's ledger now."""
    return Reader.open(r.location, load_config(r.path)).snapshot()


def kinds(snap: Snapshot) -> list[str]:
    return [event.kind.value for event in snap.events]


def show_restarted(bras: Bras, now: float, alice_down: int, uptime: int) -> None:
    """The agent's table with sysUpTime `uptime` (ticks), as after a restart."""
    objects = interfaces(uptime, {7: ("<pppoe-alice>", 0, alice_down), 8: ("<pppoe-bob>", 0, 0)})
    objects[oid(p.IF_NUMBER)] = Integer32(2)
    objects[oid(p.IF_TABLE_LAST_CHANGE)] = TimeTicks(0)
    bras.agent.set(objects)


def test_the_access_server_and_the_sessions_a_cycle_saw(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            snap = snapshot(r)
            (bras,) = snap.devices
            assert bras.answered and bras.record is not None
            kept = bras.record
            assert (kept.host, kept.snmp_version, kept.counter_bits, kept.interfaces) == (
                f"127.0.0.1:{r.config.settings.access_servers['bras'].port}",
                "2c",
                64,
                2,
            )
            assert kept.last_poll == kept.last_answer == T0 and kept.failures == 0
            assert kept.latency is not None and 0 <= kept.latency < 5
            alice = snap.subscriber("alice")
            assert alice is not None and alice.online and alice.session is not None
            assert (alice.session.access_server, alice.session.interface) == (
                "bras", "<pppoe-alice>")  # fmt: skip
            assert alice.session.since == T0
            # The first readings are baselines, one event for the access server; and both
            # sessions are new to the daemon.
            baseline, *found = snap.events
            assert baseline.kind is EventKind.BASELINE and baseline.device == "bras"
            assert "2 sessions" in baseline.text and "alice, bob" in baseline.text
            assert [(e.kind, e.subscriber) for e in found] == [
                (EventKind.SESSION_UP, "alice"), (EventKind.SESSION_UP, "bob")]  # fmt: skip

    asyncio.run(run())


def test_limits_applied_and_lifted_repairs_and_driver_errors_are_events(
    tmp_path: Path, ledger_at
) -> None:
    from unit.test_reconcile import Memory

    async def run() -> None:
        shaper = Memory()
        async with rig(tmp_path, ledger=ledger_at, drivers=[shaper]) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.clock.advance(300)
            r.bras.show(r.clock.now(), 2 * MB, 0)
            await r.daemon.cycle()
            snap = snapshot(r)
            applied = snap.events[-1]
            assert applied.kind is EventKind.LIMIT_APPLIED and applied.subscriber == "alice"
            assert applied.reason is not None and applied.reason.kind is ReasonKind.OVER
            assert applied.text == "limited alice: over cap: 2000000 of 1000000 bytes"
            assert snap.cycle is not None
            (driver,) = snap.cycle.drivers
            assert driver.installed == ("alice",)

            shaper.table.clear()  # someone flushed the backend behind nmsquota's back
            shaper.refuse = {"alice"}  # and it now refuses her
            r.clock.advance(300)
            r.bras.show(r.clock.now(), 2 * MB, 0)
            await r.daemon.cycle()
            snap = snapshot(r)
            repair, error = snap.events[-2:]
            assert repair.kind is EventKind.REPAIR and repair.driver == "mem"
            assert "limit on alice [10.60.1.2] was missing: reinstalled" in repair.text
            assert error.kind is EventKind.DRIVER_ERROR and "some failed" in error.text
            assert snap.cycle is not None and snap.cycle.drivers[0].installed == ()

            shaper.refuse = set()
            r.clock.advance(86_400)  # the day's window rolls past her 2 MB
            r.bras.show(r.clock.now(), 2 * MB, 0)
            await r.daemon.cycle()
            lifted = snapshot(r).events[-1]
            assert lifted.kind is EventKind.LIMIT_LIFTED and lifted.subscriber == "alice"
            assert [e.seq for e in snapshot(r).events] == list(range(1, 8))  # 2 sessions up

    asyncio.run(run())


def test_agent_restarts_and_refused_spikes_are_events(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 1_000, 0)
            await r.daemon.cycle()
            r.clock.advance(300)
            show_restarted(r.bras, r.clock.now(), 500, uptime=3_000)  # up 30 s: restarted
            await r.daemon.cycle()
            r.clock.advance(300)
            # 100 GB more in 5 minutes on a 1 Gbit/s line: a spike, refused.
            show_restarted(r.bras, r.clock.now(), 500 + 100 * 10**9, uptime=3_000 + 30_000)
            await r.daemon.cycle()
            events = snapshot(r).events
            assert [e.kind for e in events] == [
                EventKind.BASELINE,
                EventKind.SESSION_UP,
                EventKind.SESSION_UP,
                EventKind.AGENT_RESTART,
                EventKind.SPIKE_REFUSED,
            ]
            restart, spike = events[3:]
            assert restart.text.startswith("bras: 2 sessions, agent restarted, nothing charged")
            assert spike.subscriber == "alice" and "more than the line carries" in spike.text
            alice = snapshot(r).subscriber("alice")
            assert alice is not None and alice.caps[0].totals.bytes_in == 0  # nothing charged

    asyncio.run(run())


def test_an_access_server_that_stops_answering_and_comes_back(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    quick = {"timeout": "1s", "retries": 0, "deadline": "2s"}

    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, bras=quick) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.agent.answer_limit = r.agent.requests  # silent from now on
            for _ in range(2):
                r.clock.advance(300)
                await r.daemon.cycle()
            snap = snapshot(r)
            (bras,) = snap.devices
            assert bras.answered is False and bras.record is not None
            assert bras.record.failures == 2 and bras.record.last_answer == T0
            assert bras.record.counter_bits == 64  # what it said when it last answered
            # Once, not every cycle; the sessions it last showed stay up (nobody knows).
            assert kinds(snap)[3:] == ["device down"]
            r.agent.answer_limit = None
            r.clock.advance(300)
            await r.daemon.cycle()
            snap = snapshot(r)
            assert kinds(snap)[-1] == "device up" and snap.devices[0].record is not None
            assert snap.devices[0].record.failures == 0

    asyncio.run(run())


def test_sessions_and_overrides_from_the_control_socket_are_kept(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.clock.advance(10)
            up = Session(event="up", interface="ppp9", login="bob", address="100.64.0.9")
            await r.daemon.handle(up, peer=None)
            bob = snapshot(r).subscriber("bob")
            assert bob is not None and bob.online and bob.session is not None
            assert bob.session.addresses == ("100.64.0.9",)
            assert bob.addresses == ("100.64.0.9",)  # none configured: the session's
            await r.daemon.handle(Limit(subscriber="alice", reason="abuse ticket 17"), peer=None)
            await r.daemon.handle(Release(subscriber="alice"), peer=None)
            down = Session(event="down", interface="ppp9", login="bob", address="100.64.0.9")
            await r.daemon.handle(down, peer=None)
            events = [(e.kind.value, e.subscriber, e.text) for e in snapshot(r).events[3:]]
            assert events == [
                ("session up", "bob", "session up: bob on ppp9 (100.64.0.9)"),
                ("override", "alice", "force alice until removed: abuse ticket 17"),
                ("limit applied", "alice", "limited alice: forced: abuse ticket 17"),
                ("override", "alice", "1 force override(s) of alice removed"),
                ("limit lifted", "alice", "released alice (0% of cap)"),
                ("session down", "bob", "session down: bob on ppp9 (100.64.0.9)"),
            ]

    asyncio.run(run())


def test_a_subscriber_gone_from_the_access_server_is_kept_offline(
    tmp_path: Path, ledger_at
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.clock.advance(300)
            uptime = int((r.clock.now() - T0 + 1000) * 100)
            objects = interfaces(uptime, {7: ("<pppoe-alice>", 0, 0)})  # bob hung up
            objects[oid(p.IF_NUMBER)] = Integer32(1)
            objects[oid(p.IF_TABLE_LAST_CHANGE)] = TimeTicks(uptime)
            r.agent.set(objects)
            await r.daemon.cycle()
            bob = snapshot(r).subscriber("bob")
            assert bob is not None and not bob.online and bob.session is not None
            assert (bob.session.since, bob.session.seen) == (None, T0 + 300)
            assert bob.session.interface == "<pppoe-bob>"  # where he was last

    asyncio.run(run())


def sessions(snap: Snapshot) -> list[tuple[str, str | None, str]]:
    return [(e.kind.value, e.subscriber, e.text) for e in snap.events
            if e.kind in (EventKind.SESSION_UP, EventKind.SESSION_DOWN)]  # fmt: skip


def test_sessions_a_poll_finds_coming_and_going_are_events(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.clock.advance(300)
            show_only_alice(r)  # bob hung up
            await r.daemon.cycle()
            r.clock.advance(300)
            await r.daemon.cycle()  # nothing moved: nothing to tell
            assert sessions(snapshot(r)) == [
                ("session up", "alice", "session up: alice on <pppoe-alice> at bras"),
                ("session up", "bob", "session up: bob on <pppoe-bob> at bras"),
                ("session down", "bob", "session down: bob on <pppoe-bob> at bras"),
            ]
            assert [e.time for e in snapshot(r).events if e.subscriber == "bob"] == [
                T0, T0 + 300]  # fmt: skip

    asyncio.run(run())


def test_a_session_ip_up_and_ip_down_told_of_is_logged_once(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            show_only_alice(r)
            await r.daemon.cycle()
            r.clock.advance(10)
            # bob's session on an interface the poll does not see: ip-up's word alone.
            await r.daemon.handle(Session(event="up", interface="ppp9", login="bob",
                                          address="100.64.0.9"), peer=None)  # fmt: skip
            r.clock.advance(290)
            await r.daemon.cycle()
            await r.daemon.handle(Session(event="down", interface="ppp9", login="bob",
                                          address="100.64.0.9"), peer=None)  # fmt: skip
            r.clock.advance(300)
            await r.daemon.cycle()
            assert sessions(snapshot(r))[1:] == [
                ("session up", "bob", "session up: bob on ppp9 (100.64.0.9)"),
                ("session down", "bob", "session down: bob on ppp9 (100.64.0.9)"),
            ]

    asyncio.run(run())


def test_an_ip_down_of_a_session_the_poll_saw_is_not_logged_again_when_the_poll_misses_it(
    tmp_path: Path,
    ledger_at,
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            await r.daemon.cycle()
            r.clock.advance(10)
            await r.daemon.handle(Session(event="down", interface="<pppoe-bob>", login="bob",
                                          address="100.64.0.9"), peer=None)  # fmt: skip
            bob = snapshot(r).subscriber("bob")
            assert bob is not None and not bob.online  # ended now, not at the next poll
            r.clock.advance(290)
            show_only_alice(r)
            await r.daemon.cycle()
            assert sessions(snapshot(r))[2:] == [
                ("session down", "bob", "session down: bob on <pppoe-bob> (100.64.0.9)"),
            ]

    asyncio.run(run())


def show_only_alice(r) -> None:  # type: ignore[no-untyped-def]
    """The agent's table with alice's session alone: bob is not (or no longer) there."""
    uptime = int((r.clock.now() - T0 + 1000) * 100)
    objects = interfaces(uptime, {7: ("<pppoe-alice>", 0, 0)})
    objects[oid(p.IF_NUMBER)] = Integer32(1)
    objects[oid(p.IF_TABLE_LAST_CHANGE)] = TimeTicks(uptime)
    r.agent.set(objects)


def test_a_cycle_adds_its_events_to_the_log_at_once(tmp_path: Path, ledger_at: Path | str) -> None:
    from unittest import mock

    from unit.test_reconcile import Memory

    from nmsquota.enforcement.driver import Limit as DriverLimit

    async def run() -> None:
        shaper = Memory()
        shaper.table["10.9.9.9"] = DriverLimit("zoe", ("10.9.9.9",))  # repaired: an event
        async with rig(tmp_path, ledger=ledger_at, drivers=[shaper]) as r:
            r.bras.show(r.clock.now(), 0, 0)
            # Each add rebuilds the whole event table: the cycle's events go in together.
            with mock.patch.object(r.ledger.records, "add_events",
                                   wraps=r.ledger.records.add_events) as add:  # fmt: skip
                await r.daemon.cycle()
            assert add.call_count == 1
            assert kinds(snapshot(r)) == ["baseline", "session up", "session up", "repair"]

    asyncio.run(run())
