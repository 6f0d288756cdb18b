"""Limits told across POPs as they commit (issue 24): LISTEN/NOTIFY on the PostgreSQL
ledger. A limit the deciding POP sets or lifts for a subscriber online only at another POP
reaches that POP's drivers at once, without its cycle; a batch that rolls back tells no one;
a burst of notices is one reconcile; a lost listening connection is opened again after the
next cycle, which catches up meanwhile. Two in-process daemons on one database, each with
its own simulated access server (test_pops.py's)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from integration.test_pops import KB, T0, Pop, pop

from nmsquota.clock import ManualClock
from nmsquota.daemon.following import follow_limits
from nmsquota.ledger import Ledger, Limit, Tally
from nmsquota.ledger.base import LimitsNotice
from nmsquota.ledger.postgres.listen import CHANNEL, notice_of

DAY = Tally(86400)
FOLLOWED = "follows the limits committed at POP"


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


async def until(condition: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until `condition` holds, letting the loop run (the listener's task); fails
    the test after `within`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not within {within} s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


def listener_backends(database: str, name: str) -> list[int]:
    """The server processes of POP `name`'s listening connections, once they listen."""
    with psycopg.connect(database, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s"
            " AND query LIKE 'LISTEN%%'",
            (f"nmsquota listener pop={name} %",),
        ).fetchall()
    return [row[0] for row in rows]


@asynccontextmanager
async def following(p: Pop, database: str) -> AsyncIterator[asyncio.Task[None]]:
    """POP `p`'s daemon listening for other POPs' limits (as Daemon.run has it do)."""
    task = asyncio.ensure_future(follow_limits(p.daemon))
    try:
        await until(lambda: bool(listener_backends(database, p.name)))
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def alice_online_only_at_darwin(a: Pop, d: Pop, clock: ManualClock) -> None:
    """Adelaide decides; alice's session is at Darwin, her 1.1 MB (over the 1 MB cap)
    counted by Darwin's last cycle, not decided on yet."""
    a.show(clock.now(), {3: ("bob", 0)})
    d.show(clock.now(), {9: ("alice", 0)})
    await a.daemon.cycle()  # the first to ask decides
    await d.daemon.cycle()
    assert a.daemon.deciding and d.daemon.deciding is False
    clock.advance(300)
    d.show(clock.now(), {9: ("alice", 1_100 * KB)})
    assert (await d.daemon.cycle()).limited == []  # nothing decided yet


async def lift_by_the_window(a: Pop, clock: ManualClock) -> None:
    """A day later alice's bytes have left the window: Adelaide's cycle lifts her limit."""
    clock.advance(86400 + 600)
    a.show(clock.now(), {3: ("bob", 0)})
    assert (await a.daemon.cycle()).limited == []


def test_a_limit_set_and_lifted_at_the_deciding_pop_reaches_the_other_pop_s_drivers_at_once(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nmsquota")

    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a, \
                pop(tmp_path, "darwin", database, clock) as d:  # fmt: skip
            await alice_online_only_at_darwin(a, d, clock)
            cycles = d.daemon.cycles
            async with following(d, database):
                clock.advance(300)
                a.show(clock.now(), {3: ("bob", 0)})
                assert (await a.daemon.cycle()).limited == ["alice"]
                # Darwin carries her session: its driver holds her without its cycle.
                waited = await until(lambda: d.limited() == {"alice"})
                assert a.limited() == set()
                followed = [r for r in caplog.records if FOLLOWED in r.getMessage()]
                assert len(followed) == 1 and followed[0].levelno == logging.INFO
                assert "POP darwin follows the limits committed at POP adelaide" in (
                    followed[0].getMessage()
                )
                print(f"limit: decider's commit to follower's driver {waited * 1000:.0f} ms")

                await lift_by_the_window(a, clock)
                waited = await until(lambda: d.limited() == set())
                print(f"lift: decider's commit to follower's driver {waited * 1000:.0f} ms")
            assert d.daemon.cycles == cycles  # no cycle of Darwin's did it

    asyncio.run(run())


def test_limits_are_told_only_when_a_batch_that_changes_them_commits(database: str) -> None:
    limit = Limit("alice", int(T0), "over the cap", "mem", 64_000)
    with psycopg.connect(database, autocommit=True) as heard, \
            Ledger.open_writer(database, [DAY], pop="adelaide") as ledger:  # fmt: skip
        heard.execute(f"LISTEN {CHANNEL}")

        class Refused(Exception):
            pass

        with pytest.raises(Refused), ledger.batch():
            ledger.set_limit(limit)
            raise Refused
        assert ledger.limits() == []
        assert list(heard.notifies(timeout=1.0)) == []  # rolled back: never told

        with ledger.batch():
            seq = ledger.commit(T0, [])
            ledger.set_limit(limit)
            ledger.set_limit(Limit("bob", int(T0), "over the cap", "mem", 64_000))
        told = list(heard.notifies(timeout=1.0))
        assert [json.loads(n.payload) for n in told] == [{"pop": "adelaide", "seq": seq}]

        with ledger.batch():
            ledger.records.set_limits(ledger.limits())  # the same limits: nothing to tell
        assert list(heard.notifies(timeout=1.0)) == []

        ledger.clear_limit("bob")  # a write outside a batch is a transaction of its own
        (lifted,) = heard.notifies(timeout=5.0, stop_after=1)
        assert json.loads(lifted.payload) == {"pop": "adelaide", "seq": seq}


def test_a_burst_of_notices_is_one_reconcile_and_a_decider_ignores_them(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nmsquota")

    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a, \
                pop(tmp_path, "darwin", database, clock) as d:  # fmt: skip
            await alice_online_only_at_darwin(a, d, clock)
            async with following(d, database), following(a, database):
                with psycopg.connect(database, autocommit=True) as other:
                    # Five commits of a writer with no POP, 5 ms apart (well within the
                    # burst's 200 ms): each is heard before the next is sent.
                    for seq in range(5):
                        other.execute("SELECT pg_notify(%s, %s)",
                                      (CHANNEL, json.dumps({"pop": "", "seq": seq})))  # fmt: skip
                        await asyncio.sleep(0.005)
                    await until(lambda: any(FOLLOWED in r.getMessage() for r in caplog.records))
                    await asyncio.sleep(1.0)  # time for any second reconcile to show
                    # Darwin's own writer's notices: it knows what it wrote.
                    other.execute("SELECT pg_notify(%s, %s)",
                                  (CHANNEL, json.dumps({"pop": "darwin", "seq": 9})))  # fmt: skip
                    await asyncio.sleep(0.5)
            followed = [r.getMessage() for r in caplog.records if FOLLOWED in r.getMessage()]
            assert followed == ["POP darwin follows the limits committed at POP (no POP) "
                                "(commit 4): 0 limited here"]  # fmt: skip

    asyncio.run(run())


def test_a_lost_listening_connection_is_opened_again_after_the_next_cycle(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nmsquota")

    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a, \
                pop(tmp_path, "darwin", database, clock) as d:  # fmt: skip
            await alice_online_only_at_darwin(a, d, clock)
            async with following(d, database) as task:
                (backend,) = listener_backends(database, "darwin")
                with psycopg.connect(database, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
                lost = "POP darwin does not hear other POPs' limits as they commit"
                await until(lambda: any(lost in r.getMessage() for r in caplog.records))
                # Decided meanwhile, not heard: Darwin's next cycle catches up.
                clock.advance(300)
                a.show(clock.now(), {3: ("bob", 0)})
                assert (await a.daemon.cycle()).limited == ["alice"]
                await asyncio.sleep(0.5)
                assert d.limited() == set()
                d.show(clock.now(), {9: ("alice", 1_100 * KB)})
                assert (await d.daemon.cycle()).limited == ["alice"]
                assert d.limited() == {"alice"}
                # ... and listens again: the lift reaches its driver without its cycle.
                await until(lambda: listener_backends(database, "darwin") not in ([], [backend]))
                await lift_by_the_window(a, clock)
                await until(lambda: d.limited() == set())
                assert not task.done()
            assert not any(r.exc_info for r in caplog.records)  # said, never a traceback
            again = "POP darwin hears other POPs' limits as they commit again"
            assert any(again in r.getMessage() for r in caplog.records)

    asyncio.run(run())


def test_only_a_pop_s_writer_on_a_database_listens(tmp_path: Path, database: str) -> None:
    with Ledger.open_writer(tmp_path / "ledger", [DAY]) as tiny:
        assert tiny.limits_listener() is None  # one daemon: no one to hear
    with Ledger.open_writer(database, [DAY]) as alone:
        assert alone.limits_listener() is None  # a database ledger with no POP named
    with Ledger.open_writer(database, [DAY], pop="adelaide") as writer:
        assert writer.limits_listener() is not None


def test_a_notice_not_in_nmsquota_s_form_is_a_change_by_an_unknown_writer() -> None:
    assert notice_of('{"pop":"adelaide","seq":42}') == LimitsNotice("adelaide", 42)
    for payload in ("", "hello", "[1]", '{"pop": 7, "seq": 1}', '{"seq": 1}'):
        assert notice_of(payload) == LimitsNotice("?", None)  # followed all the same
