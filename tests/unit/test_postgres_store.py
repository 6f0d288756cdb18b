"""The PostgreSQL ledger store against a real server (tests/fixtures/postgres.py): its
schema and migrations, the one writer, transactions, readers' snapshots, bad input and bad
databases. What it shares with the TinyDB store is specified in test_postgres_equality.py."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
from fixtures import postgres

from nmsquota.ledger import (
    Ledger,
    LedgerCorrupt,
    LedgerError,
    LedgerLocked,
    LedgerMissing,
    LedgerReadOnly,
    LedgerUnusable,
    Limit,
    Sample,
    Tally,
    Totals,
)
from nmsquota.ledger.errors import LedgerRecordError
from nmsquota.ledger.postgres import schema
from nmsquota.ledger.postgres import store as store_module
from nmsquota.ledger.postgres.schema import migrate
from nmsquota.ledger.records import EventKind, EventRecord, SubscriberRecord

T0 = 1_700_000_000
HOUR = Tally(3600)


@pytest.fixture
def bare(postgres_server: postgres.Server, postgres_database: str) -> str:
    """The URL of an empty database: no nmsquota tables."""
    return postgres.url_of(postgres_server, postgres_database)


@pytest.fixture
def url(bare: str) -> str:
    """The URL of a migrated, empty ledger."""
    migrate(bare)
    return bare


@pytest.fixture
def conn(postgres_database: str) -> Iterator[psycopg.Connection]:
    """A connection of the test's own to the same database, to look behind the store."""
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        yield conn


def limit(name: str, since: int = T0) -> Limit:
    return Limit(subscriber=name, since=since, reason="over cap", driver="log")


# -- the schema ------------------------------------------------------------------------------


def test_migrate_applies_each_version_once(bare: str) -> None:
    assert migrate(bare) == list(range(1, schema.LATEST + 1))
    assert migrate(bare) == []


def test_a_database_without_nmsquota_tables_is_no_ledger(bare: str) -> None:
    assert Ledger.exists(bare) is False
    for opening in (Ledger.open_reader, Ledger.open_writer):
        with pytest.raises(LedgerMissing, match="nmsquota ledger migrate"):
            opening(bare)


def test_a_database_that_does_not_exist_is_no_ledger(postgres_server: postgres.Server) -> None:
    url = postgres_server.url("nq_never_made")
    assert Ledger.exists(url) is False
    with pytest.raises(LedgerMissing, match="does not exist"):
        Ledger.open_reader(url)


def test_an_older_schema_is_refused_with_the_advice_to_migrate(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = schema.LATEST
    monkeypatch.setattr(schema, "LATEST", latest + 1)
    for opening in (Ledger.open_reader, Ledger.open_writer):
        with pytest.raises(
            schema.SchemaOutdated,
            match=rf"version {latest}, this nmsquota needs {latest + 1}.*migrate",
        ):
            opening(url)


def history(ledger: Ledger) -> tuple[object, ...]:
    """What a ledger's reader sees: every window's totals and edge, every sample, and a few
    subscribers' samples read as the console and the lift times read them."""
    windows = [(ledger.totals(t), ledger.edge(t)) for t in ledger.tallies()]
    return (
        ledger.seq,
        ledger.as_of,
        windows,
        list(ledger.samples()),
        list(ledger.samples(["bob"], after=T0 + 300)),
        {name: list(mine) for name, mine in ledger.sample_columns(["carol", "alice"]).items()},
    )


def commit_history(ledger: Ledger, start: int, cycles: int) -> None:
    """Cycles of three subscribers, given out of name order, one late sample among them."""
    for n in range(cycles):
        now = start + 300 * n
        ledger.commit(now, [Sample("carol", now, n, 1), Sample("alice", now, 10 * n, 2),
                            Sample("bob", now - 60, 7, n)])  # fmt: skip


def test_a_version_1_ledger_migrates_to_2_and_reads_the_same(
    url: str, conn: psycopg.Connection
) -> None:
    with Ledger.open_writer(url, [HOUR, Tally(86400)]) as writer:
        commit_history(writer, T0, 16)
        before = history(writer)
    postgres.as_version_1(url)
    with pytest.raises(schema.SchemaOutdated, match="version 1, this nmsquota needs"):
        Ledger.open_reader(url)
    assert migrate(url) == list(range(2, schema.LATEST + 1))
    indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
    assert "samples_by_subscriber" not in indexes and "sample_times_pkey" in indexes
    with Ledger.open_reader(url) as reader:
        assert history(reader) == before
    with Ledger.open_writer(url, [HOUR, Tally(86400)]) as writer:
        commit_history(writer, T0 + 300 * 16, 4)
        for tally in writer.tallies():
            assert writer.totals(tally) == writer.recount(tally, writer.edge(tally))


@pytest.mark.parametrize("by_time", [True, False])
def test_a_few_subscribers_samples_page_through_in_time_order(
    url: str, monkeypatch: pytest.MonkeyPatch, by_time: bool
) -> None:
    monkeypatch.setattr(store_module, "PAGE", 2)
    monkeypatch.setattr(store_module, "BY_TIME_NAMES", 10 if by_time else 1)
    with Ledger.open_writer(url, [HOUR]) as writer:
        commit_history(writer, T0, 5)
        writer.commit(T0 + 1500, [Sample("bob", T0 + 1200, 1, 1), Sample("alice", T0 + 1200, 2, 2),
                                  Sample("bob", T0 + 1200, 3, 3)])  # fmt: skip
        every = list(writer.samples())
        for names in (["bob"], ["bob", "alice"], ["nobody"]):
            for after in (T0 - 1, T0 + 300, T0 + 1200):
                assert list(writer.samples(names, after=after, until=T0 + 1200)) == [
                    s for s in every if s.subscriber in names and after < s.time <= T0 + 1200
                ], (names, after)


def test_a_newer_schema_is_refused_by_open_and_by_migrate(
    url: str, conn: psycopg.Connection
) -> None:
    conn.execute("INSERT INTO schema_version (version, nmsquota) VALUES (99, '9.9')")
    for refusing in (Ledger.open_reader, Ledger.open_writer, migrate):
        with pytest.raises(LedgerCorrupt, match=r"version 99.*Use the nmsquota that wrote it") as e:
            refusing(url)
        assert url.split("?")[0] in str(e.value)


# -- connections -----------------------------------------------------------------------------


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = "postgresql://nmsquota:s3cret@/ledger?host=/nonexistent-nq-socket-dir"
    with pytest.raises(LedgerUnusable) as refused:
        Ledger.open_writer(url)
    message = str(refused.value)
    assert "s3cret" not in message
    assert "cannot connect to postgresql://nmsquota@/ledger?host=/nonexistent" in message
    with pytest.raises(LedgerUnusable):
        Ledger.exists(url)


def test_a_password_in_the_parameters_is_not_shown_either() -> None:
    url = "postgresql:///ledger?host=/nonexistent-nq-socket-dir&password=s3cret"
    with pytest.raises(LedgerUnusable) as refused:
        Ledger.open_reader(url)
    assert "s3cret" not in str(refused.value)


def cut_off(conn: psycopg.Connection, role: str) -> None:
    """End the server side of this process's `role` connections, as a server restart would."""
    conn.execute(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = %s",
        (f"nmsquota {role} pid={os.getpid()}",),
    )


def test_a_lost_connection_fails_one_write_and_the_next_connects_again(
    url: str, conn: psycopg.Connection
) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger:
        ledger.commit(T0, [Sample("alice", T0, 1, 1)])
        cut_off(conn, "writer")
        with pytest.raises(LedgerUnusable, match=r"cannot write postgresql://postgres@/nq_"):
            ledger.commit(T0 + 300, [Sample("alice", T0 + 300, 2, 2)])
        assert ledger.seq == 1
        assert ledger.commit(T0 + 600, [Sample("alice", T0 + 600, 4, 4)]) == 2
        assert ledger.totals() == {"alice": Totals(5, 5)}
        with pytest.raises(LedgerLocked):  # the writer's lock was taken again
            Ledger.open_writer(url, [HOUR])


def test_a_reader_whose_connection_was_lost_reads_again_after_refresh(
    url: str, conn: psycopg.Connection
) -> None:
    with Ledger.open_writer(url, [HOUR]) as writer:
        writer.commit(T0, [Sample("alice", T0, 1, 1)])
    with Ledger.open_reader(url) as reader:
        cut_off(conn, "reader")
        with pytest.raises(LedgerUnusable):
            reader.totals()
        reader.refresh()
        assert reader.totals() == {"alice": Totals(1, 1)}


def test_a_reader_idle_past_the_server_s_limit_reads_the_latest_commit_at_refresh(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's snapshot left idle is ended by the server (so it cannot hold back vacuum
    for ever), and the reader carries on at its next refresh."""
    monkeypatch.setattr(store_module, "READER_IDLE_SECONDS", 1)
    with Ledger.open_writer(url, [HOUR]) as writer:
        writer.commit(T0, [Sample("alice", T0, 1, 1)])
        with Ledger.open_reader(url) as reader:
            assert reader.totals() == {"alice": Totals(1, 1)}
            writer.commit(T0 + 300, [Sample("alice", T0 + 300, 2, 2)])
            time.sleep(2.5)  # past the server's 1 s: it ends the idle session
            reader.refresh()
            assert reader.totals() == {"alice": Totals(3, 3)}
            assert reader.seq == 2


# -- the one writer --------------------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_first(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]):
        with pytest.raises(LedgerLocked) as locked:
            Ledger.open_writer(url, [HOUR])
        assert locked.value.pid == os.getpid()
        assert "PostgreSQL advisory lock, server process" in str(locked.value)
    with Ledger.open_writer(url, [HOUR]) as ledger:  # freed on close
        assert ledger.writable


def test_a_reader_may_not_write(url: str) -> None:
    Ledger.open_writer(url, [HOUR]).close()
    with Ledger.open_reader(url) as reader:
        with pytest.raises(LedgerReadOnly):
            reader.commit(T0, [])
        with pytest.raises(LedgerReadOnly):
            reader.set_limit(limit("alice"))
        with pytest.raises(LedgerReadOnly):
            reader.set_counter_state("nas1", {})


# -- transactions ----------------------------------------------------------------------------


def test_a_failed_batch_leaves_the_last_commit_whole(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger:
        ledger.commit(T0, [Sample("alice", T0, 100, 1)])
        ledger.set_counter_state("nas1", {"alice": 100})
        ledger.set_limit(limit("bob"))
        with pytest.raises(RuntimeError), ledger.batch():
            ledger.commit(T0 + 300, [Sample("alice", T0 + 300, 50, 5)])
            ledger.set_counter_state("nas1", {"alice": 150})
            ledger.set_limit(limit("carol"))
            ledger.records.add_events([EventRecord(time=T0, kind=EventKind.SESSION_UP, text="up")])
            raise RuntimeError("the cycle failed")
        assert ledger.seq == 1 and ledger.as_of == T0
        assert ledger.totals() == {"alice": Totals(100, 1)}
        assert list(ledger.samples()) == [Sample("alice", T0, 100, 1)]
        assert ledger.counter_state("nas1") == {"alice": 100}
        assert ledger.limits() == [limit("bob")]
        assert ledger.records.events() == []
        # The number is used again, and the commit after the failure counts once.
        assert ledger.commit(T0 + 300, [Sample("alice", T0 + 300, 50, 5)]) == 2
        assert ledger.totals() == {"alice": Totals(150, 6)}
    with Ledger.open_reader(url) as reader:
        assert reader.totals() == {"alice": Totals(150, 6)}
        assert reader.limits() == [limit("bob")]


def test_one_commit_per_batch(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger, ledger.batch():
        ledger.commit(T0, [])
        with pytest.raises(LedgerError, match="one commit per batch"):
            ledger.commit(T0 + 300, [])


def test_nested_batches_are_one_transaction(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger:
        with pytest.raises(RuntimeError), ledger.batch():
            with ledger.batch():
                ledger.set_limit(limit("alice"))
            raise RuntimeError("after the inner batch ended")
        assert ledger.limits() == []


def test_a_bad_sample_is_refused_and_nothing_is_stored(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger:
        with pytest.raises(ValueError, match="byte counts >= 0"):
            ledger.commit(T0, [Sample("alice", T0, 1, 1), Sample("bob", T0, -1, 0)])
        with pytest.raises(ValueError, match="login name"):
            ledger.commit(T0, [Sample("a b", T0, 1, 1)])
        with pytest.raises(ValueError, match="bigint"):
            ledger.commit(T0, [Sample("alice", T0, 2**63, 0)])
        assert ledger.seq == 0
        assert list(ledger.samples()) == []


# -- readers ---------------------------------------------------------------------------------


def test_a_reader_sees_one_commit_until_it_refreshes(url: str) -> None:
    with Ledger.open_writer(url, [HOUR]) as writer:
        writer.commit(T0, [Sample("alice", T0, 100, 1)])
        writer.set_counter_state("nas1", {"alice": 100})
        writer.set_limit(limit("alice"))
        with Ledger.open_reader(url) as reader:
            writer.commit(T0 + 300, [Sample("bob", T0 + 300, 7, 7)])
            writer.set_counter_state("nas1", {"alice": 100, "bob": 7})
            writer.set_limit(limit("bob"))
            with writer.batch():
                writer.commit(T0 + 3700, [Sample("carol", T0 + 3700, 1, 1)])
            assert reader.seq == 1 and reader.as_of == T0
            assert reader.edge() == T0 - 3600
            assert reader.totals() == {"alice": Totals(100, 1)}
            assert list(reader.samples()) == [Sample("alice", T0, 100, 1)]
            assert reader.counter_state("nas1") == {"alice": 100}
            assert reader.limits() == [limit("alice")]
            assert reader.refresh() is None
            assert reader.seq == 3 and reader.as_of == T0 + 3700
            assert reader.totals() == {"bob": Totals(7, 7), "carol": Totals(1, 1)}
            assert reader.limits() == [limit("alice"), limit("bob")]
            assert reader.counter_state("nas1") == {"alice": 100, "bob": 7}


# -- records ---------------------------------------------------------------------------------


def test_a_spoilt_record_is_refused_naming_the_database_and_kind(
    url: str, conn: psycopg.Connection
) -> None:
    with Ledger.open_writer(url, [HOUR]) as ledger:
        ledger.set_limit(limit("alice"))
    conn.execute(
        """UPDATE records SET doc = jsonb_set(doc, '{since}', '"yesterday"')
           WHERE kind = 'limits'"""
    )
    with Ledger.open_reader(url) as reader, pytest.raises(LedgerRecordError) as spoilt:
        reader.limits()
    assert spoilt.value.kind == "limits"
    assert "record 1 (alice): since" in spoilt.value.detail
    assert url.split("?")[0] in str(spoilt.value)


def test_records_keep_their_order_and_a_write_changes_only_what_differs(
    url: str, conn: psycopg.Connection
) -> None:
    names = [f"sub{n:03d}" for n in range(50)]
    records = [SubscriberRecord(name=name, plan="home") for name in names]
    with Ledger.open_writer(url, [HOUR]) as ledger:
        ledger.records.set_subscribers(records)
        before = dict(conn.execute("SELECT pos, xmin::text FROM records").fetchall())
        records[7] = SubscriberRecord(name="sub007", plan="business")
        ledger.records.set_subscribers([*records, SubscriberRecord(name="new", plan="home")])
        after = dict(conn.execute("SELECT pos, xmin::text FROM records").fetchall())
        rewritten = {pos for pos in after if before.get(pos) != after[pos]}
        assert rewritten == {8, 51}  # the changed one (positions count from 1) and the new
        ledger.records.set_subscribers(records[:10])
    with Ledger.open_reader(url) as reader:
        assert reader.records.subscribers() == records[:10]


def test_events_are_numbered_without_gaps_and_the_latest_kept(url: str) -> None:
    def events(first: int, count: int) -> list[EventRecord]:
        return [EventRecord(time=T0 + n, kind=EventKind.SESSION_UP, text=f"up {n}")
                for n in range(first, first + count)]  # fmt: skip

    with Ledger.open_writer(url, [HOUR]) as ledger:
        added = ledger.records.add_events(events(0, 3), keep=5)
        assert [e.seq for e in added] == [1, 2, 3]
        ledger.records.add_events(events(3, 4), keep=5)
        assert [e.seq for e in ledger.records.events()] == [3, 4, 5, 6, 7]
        assert [e.seq for e in ledger.records.events(since=5)] == [6, 7]
    with Ledger.open_writer(url, [HOUR]) as ledger:
        assert [e.seq for e in ledger.records.add_events(events(7, 1), keep=5)] == [8]
    with Ledger.open_reader(url) as reader:
        assert [e.text for e in reader.records.events()] == [f"up {n}" for n in range(3, 8)]


# -- totals ----------------------------------------------------------------------------------


def test_a_subscriber_whose_usage_aged_out_leaves_the_totals_table(
    url: str, conn: psycopg.Connection
) -> None:
    with Ledger.open_writer(url, [HOUR, Tally(7200)]) as ledger:
        ledger.commit(T0, [Sample("alice", T0, 100, 1)])
        ledger.commit(T0 + 3600, [Sample("bob", T0 + 3600, 5, 5)])
        assert ledger.totals(HOUR) == {"bob": Totals(5, 5)}  # alice still counts in 2h
        ledger.commit(T0 + 7200, [])
    rows = conn.execute("SELECT subscriber, bytes_in, bytes_out FROM totals").fetchall()
    assert rows == [("bob", [0, 5], [0, 5])]


def test_a_prune_beside_the_writer_is_exact(url: str) -> None:
    with Ledger.open_writer(url, [Tally(7200)]) as writer:
        writer.commit(T0, [Sample("alice", T0, 100, 1)])
        writer.commit(T0 + 3600, [Sample("alice", T0 + 3600, 5, 5)])
        archived: list[Sample] = []
        with Ledger.open_reader(url) as reader:
            result = reader.prune(T0, archived.extend)
        assert (result.records, result.complete) == (1, True)
        assert archived == [Sample("alice", T0, 100, 1)]
        writer.commit(T0 + 3900, [])
        assert writer.totals() == {"alice": Totals(5, 5)}
        assert writer.totals() == writer.recount(Tally(7200), writer.edge())
