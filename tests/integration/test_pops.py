"""Several POPs, one ledger (issue 24): two daemons, each polling its own simulated access
server and writing one PostgreSQL ledger as its own POP. Usage from both counts against one
cap; exactly one daemon decides (the one holding the decider lock); a subscriber is limited
by the driver of the POP that carries their session; a daemon that dies mid-cycle loses
nothing, and the other takes over deciding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fixtures.config_file import access_server, if_name, write_config
from integration.test_sim_agent import interfaces
from pysnmp.proto.rfc1902 import Integer32, TimeTicks
from unit.test_reconcile import Memory

from nmsquota.clock import ManualClock
from nmsquota.config import Config, load_config
from nmsquota.daemon.core import Daemon
from nmsquota.ledger import Ledger, LedgerLocked, Tally
from nmsquota.sim.agent import start_agent
from nmsquota.snmp import tables as p
from nmsquota.usage import Sample
from nmsquota.verdict import State

T0 = 1_800_000_000.0
KB = 1_000
ALICE = "10.60.1.2"
DAY = Tally(86400)


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


@dataclass
class Pop:
    name: str
    agent: Any
    config: Config
    ledger: Ledger
    daemon: Daemon
    driver: Memory

    def show(self, now: float, sessions: dict[int, tuple[str, int]]) -> None:
        """The access server's PPPoE sessions now: ifIndex -> (login, octets down)."""
        uptime = int((now - T0 + 1000) * 100)
        rows = {index: (f"<pppoe-{login}>", 0, down) for index, (login, down) in sessions.items()}
        objects = interfaces(uptime, rows)
        objects[oid(p.IF_NUMBER)] = Integer32(len(rows))
        objects[oid(p.IF_TABLE_LAST_CHANGE)] = TimeTicks(0)
        self.agent.set(objects)

    def limited(self) -> set[str]:
        return {limit.subscriber for limit in self.driver.table.values()}


def settings(name: str, port: int, url: str) -> dict[str, Any]:
    """The same plans and subscribers at every POP; each POP its own access server."""
    bras = access_server(port, match=[if_name("<pppoe-(?P<user>.+)>")])
    return {"interval": "5m", "plans": {"home": {"cap": "1MB", "window": "1d"}},
            "subscribers": {"alice": {"plan": "home", "addresses": [ALICE]},
                            "bob": {"plan": "home"}},
            "access_servers": {f"bras-{name}": bras},
            "ledger": {"url": url, "pop": name}}  # fmt: skip


@asynccontextmanager
async def pop(tmp_path: Path, name: str, url: str, clock: ManualClock,
              cap: str | None = None) -> AsyncIterator[Pop]:  # fmt: skip
    """POP `name`'s daemon (with `cap`: running a plan of that cap, not the other POPs')."""
    agent, port = await start_agent()
    wanted = settings(name, port, url)
    if cap is not None:
        wanted["plans"]["home"]["cap"] = cap
    directory = tmp_path / (name if cap is None else f"{name}-cap-{cap}")
    directory.mkdir(exist_ok=True)
    config = load_config(write_config(directory, **wanted))
    driver = Memory()
    ledger = Ledger.open_writer(url, config.tallies(), pop=config.ledger_pop)
    try:
        yield Pop(name, agent, config, ledger, Daemon(config, clock, ledger, [driver]), driver)
    finally:
        ledger.close()


def test_the_cap_holds_across_pops_and_the_pop_carrying_the_session_limits_it(
    tmp_path: Path, database: str
) -> None:
    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a, \
                pop(tmp_path, "darwin", database, clock) as d:  # fmt: skip
            # A second daemon of one POP is refused; another POP's is not.
            with pytest.raises(LedgerLocked):
                Ledger.open_writer(database, a.config.tallies(), pop="adelaide")
            a.show(clock.now(), {7: ("alice", 0)})
            d.show(clock.now(), {3: ("bob", 0)})
            await a.daemon.cycle()  # the first to ask decides
            await d.daemon.cycle()
            assert a.ledger.lead() and not d.ledger.lead()

            clock.advance(300)
            a.show(clock.now(), {7: ("alice", 600 * KB)})
            d.show(clock.now(), {3: ("bob", 0)})
            assert (await a.daemon.cycle()).limited == []
            await d.daemon.cycle()

            # alice logs off at Adelaide and on at Darwin, under the cap so far.
            clock.advance(300)
            a.show(clock.now(), {})
            d.show(clock.now(), {3: ("bob", 0), 9: ("alice", 0)})
            await a.daemon.cycle()
            await d.daemon.cycle()

            # 500 kB more at Darwin: 1.1 MB in the day, over the 1 MB cap.
            clock.advance(300)
            a.show(clock.now(), {})
            d.show(clock.now(), {3: ("bob", 0), 9: ("alice", 500 * KB)})
            followed = await d.daemon.cycle()  # charged at Darwin; Adelaide decides
            assert followed.limited == []  # nothing decided yet to follow
            decided = await a.daemon.cycle()
            assert decided.limited == ["alice"]
            assert a.ledger.totals(DAY)["alice"].bytes_in == 1_100 * KB
            # Darwin carries alice's session: its driver limits her at its next cycle.
            clock.advance(300)
            a.show(clock.now(), {})
            d.show(clock.now(), {3: ("bob", 0), 9: ("alice", 500 * KB)})
            assert (await d.daemon.cycle()).limited == ["alice"]
            assert d.limited() == {"alice"}
            assert a.limited() == set()  # she is not on Adelaide's access server

            # Readers see one ledger: her usage from both POPs, limited, online at Darwin.
            with Ledger.open_reader(database) as reader:
                assert reader.totals(DAY)["alice"].bytes_in == 1_100 * KB
                sessions = {s.subscriber: s for s in reader.records.sessions() if s.online}
                assert sessions["alice"].access_server == "bras-darwin"
                (standing,) = [s for s in reader.records.standings() if s.subscriber == "alice"]
                assert standing.state is State.LIMITED

    asyncio.run(run())


def test_a_pop_that_dies_mid_cycle_loses_nothing_and_another_decides(
    tmp_path: Path, database: str
) -> None:
    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "darwin", database, clock) as d:
            async with pop(tmp_path, "adelaide", database, clock) as a:
                a.show(clock.now(), {7: ("alice", 0)})
                d.show(clock.now(), {3: ("bob", 0)})
                await a.daemon.cycle()  # Adelaide decides
                await d.daemon.cycle()
                clock.advance(300)
                a.show(clock.now(), {7: ("alice", 400 * KB)})
                await a.daemon.cycle()
                # Adelaide dies in the middle of its next cycle, after committing its
                # samples but before the cycle's transaction ends: none of it is kept.
                clock.advance(300)
                a.show(clock.now(), {7: ("alice", 900 * KB)})

                def killed(*_: object) -> None:
                    raise KeyboardInterrupt

                a.daemon.decide = killed  # type: ignore[method-assign]
                with pytest.raises(KeyboardInterrupt):
                    await a.daemon.cycle()
                a.ledger.conn.close()  # the process is gone: its session and locks with it
            assert d.ledger.totals(DAY)["alice"].bytes_in == 400 * KB  # the lost cycle: none
            # Darwin's next cycle finds the decider lock free and decides.
            clock.advance(300)
            d.show(clock.now(), {3: ("bob", 0)})
            await d.daemon.cycle()
            assert d.ledger.lead()
            # Adelaide comes back: its first cycle charges what the lost one saw, once, from
            # the baselines of its last commit.
            clock.advance(300)
            async with pop(tmp_path, "adelaide", database, clock) as back:
                back.show(clock.now(), {7: ("alice", 1_200 * KB)})
                report = await back.daemon.cycle()
                assert report.limited == []  # Darwin decides now
                assert back.ledger.totals(DAY)["alice"].bytes_in == 1_200 * KB
                decided = await d.daemon.cycle()
                assert decided.limited == ["alice"]
                clock.advance(300)
                back.show(clock.now(), {7: ("alice", 1_200 * KB)})
                assert (await back.daemon.cycle()).limited == ["alice"]
                assert back.limited() == {"alice"}

    asyncio.run(run())


def test_pops_opening_at_once_each_keep_the_windows(database: str) -> None:
    """Ten POPs' writers opening a new ledger at the same moment: each adopts the windows in
    turn (none fails on another's half-made ones), and every one can commit."""
    import threading

    opened: list[Ledger] = []
    failed: list[BaseException] = []
    start = threading.Barrier(10)

    def open_one(name: str) -> None:
        start.wait()
        try:
            opened.append(Ledger.open_writer(database, [DAY, Tally(3600)], pop=name))
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=open_one, args=(f"pop{n}",)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failed == [] and len(opened) == 10
        assert all([t.key for t in ledger.tallies()] == ["1d", "1h"] for ledger in opened)
        with opened[3].batch():
            opened[3].commit(T0, [])
    finally:
        for ledger in opened:
            ledger.close()


def test_a_pop_keeps_the_windows_a_running_pop_decides_on(database: str) -> None:
    """A POP's daemon started with fewer windows (a rolling change of the plans, one POP
    restarted first) keeps those another running POP's daemon still reads: that POP's next
    commit and decision find their totals. Alone, a POP's daemon drops what it does not ask
    for."""
    week = Tally(7 * 86400)
    with Ledger.open_writer(database, [DAY, week], pop="adelaide") as a:
        with a.batch():
            a.commit(T0, [Sample("alice", int(T0), 5 * KB, 0)])
        with Ledger.open_writer(database, [DAY], pop="darwin") as d:
            assert a.live_pops() == ["darwin"] and d.live_pops() == ["adelaide"]
            assert [t.key for t in d.tallies()] == ["1d", "7d"]
            with a.batch():
                a.commit(T0 + 300, [Sample("alice", int(T0) + 300, 2 * KB, 0)])
            assert a.totals(week)["alice"].bytes_in == 7 * KB
        with Ledger.open_writer(database, [DAY], pop="darwin") as d:  # adelaide still runs
            assert [t.key for t in d.tallies()] == ["1d", "7d"]
    with Ledger.open_writer(database, [DAY], pop="darwin") as d:  # alone now
        assert d.live_pops() == []
        assert [t.key for t in d.tallies()] == ["1d"]
        assert d.totals(DAY)["alice"].bytes_in == 7 * KB


def test_a_hung_decider_loses_its_place_and_another_pop_decides(database: str) -> None:
    """A decider that stops answering (SIGSTOP, stuck) with its connection open keeps the
    decider lock only for as long as it may be silent: the server ends its session, the
    next POP to ask decides, and the hung one, resumed, loses that cycle's write and then
    follows."""
    import time

    from nmsquota.ledger import LedgerUnusable

    a = Ledger.open_writer(database, [DAY], pop="adelaide")
    d = Ledger.open_writer(database, [DAY], pop="darwin")
    try:
        a.expire_when_silent(1.0)
        assert a.lead() and not d.lead()
        time.sleep(1.6)  # adelaide hangs
        assert d.lead()
        with pytest.raises(LedgerUnusable), a.batch():
            a.commit(T0)
        with a.batch():  # connected again: its POP's writer still
            a.commit(T0 + 300, [Sample("alice", int(T0) + 300, KB, 0)])
        assert not a.lead()
        assert d.totals(DAY)["alice"].bytes_in == KB
        shown = a.conn.execute("SHOW idle_session_timeout").fetchone()  # type: ignore[attr-defined]
        assert shown == ("1s",)  # the new session is told again
    finally:
        a.close()
        d.close()


def test_a_pop_s_daemon_may_be_silent_two_intervals_and_a_minute(
    tmp_path: Path, database: str
) -> None:
    """What the daemon tells its writer (interval 5 minutes): 11 minutes; in a batch, 2."""

    async def run() -> None:
        async with pop(tmp_path, "adelaide", database, ManualClock(T0)) as a:
            conn = a.ledger.conn  # type: ignore[attr-defined]
            assert [conn.execute(f"SHOW {name}").fetchone()[0] for name in
                    ("idle_session_timeout", "idle_in_transaction_session_timeout")
                    ] == ["11min", "2min"]  # fmt: skip

    asyncio.run(run())


def test_a_writer_hung_inside_a_batch_holds_the_others_up_only_a_while(
    database: str,
) -> None:
    """Stopped inside a batch, a POP's writer holds the commit record's lock every commit
    takes its turn on: the server ends its session after its in-batch silence, and the
    other POP's commit, which waited, goes through; the hung one's batch is not kept."""
    import threading
    import time

    a = Ledger.open_writer(database, [DAY], pop="adelaide")
    d = Ledger.open_writer(database, [DAY], pop="darwin")
    a.expire_when_silent(30.0, in_batch=1.0)
    held = threading.Event()
    failed: list[BaseException] = []

    def hang_in_a_batch() -> None:
        try:
            with a.batch():
                a.commit(T0, [Sample("alice", int(T0), 5 * KB, 0)])
                held.set()
                time.sleep(2.5)  # stopped here, the meta row locked
        except BaseException as error:
            failed.append(error)
        finally:
            held.set()

    thread = threading.Thread(target=hang_in_a_batch)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with d.batch():
            d.commit(T0 + 1, [Sample("bob", int(T0) + 1, KB, 0)])
        waited = time.monotonic() - started
        thread.join(10)
        assert 0.5 < waited < 10 and len(failed) == 1
        assert {name: t.bytes_in for name, t in d.totals(DAY).items()} == {"bob": KB}
    finally:
        thread.join(10)
        a.close()
        d.close()


def test_a_pop_whose_plans_differ_from_the_ledger_s_is_told_which(
    tmp_path: Path, database: str
) -> None:
    from nmsquota.commands.common import quota_records
    from nmsquota.commands.run import kept_otherwise

    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a, \
                pop(tmp_path, "darwin", database, clock) as d:  # fmt: skip
            with a.ledger.batch():
                subscribers, plans = quota_records(a.config)
                assert kept_otherwise(a.ledger, subscribers, plans) == []  # none kept yet
                a.ledger.records.set_subscribers(subscribers)
                a.ledger.records.set_plans(plans)
            assert kept_otherwise(d.ledger, *quota_records(d.config)) == []  # the same
            changed = settings("darwin", 1, database)
            changed["plans"]["home"]["cap"] = "2MB"
            changed["subscribers"]["bob"]["addresses"] = ["10.60.1.9"]
            other = load_config(write_config(tmp_path / "darwin", **changed))
            assert kept_otherwise(d.ledger, *quota_records(other)) == [
                "plans home", "subscribers bob"]  # fmt: skip

    asyncio.run(run())
