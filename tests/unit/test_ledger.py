"""The ledger: incremental windows, commits, readers, the writer lock, corrupt files.

A test taking `ledger_at` runs once per store; one taking `ledger_dir` is about the TinyDB
store's files (hour files, state.json, intent.json, crash recovery, salvage, pruning beside
the writer), and the store-neutral half of what it checks is in test_ledger_store.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fixtures.commit_plans import commit_plans
from fixtures.fresh_ledger import PG_EXAMPLES, fresh_locations
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsquota.ledger import (
    FreeHours,
    Ledger,
    LedgerCorrupt,
    LedgerError,
    LedgerLocked,
    LedgerReadOnly,
    LedgerUnusable,
    Limit,
    Monthly,
    Sample,
    Tally,
    Totals,
)
from nmsquota.ledger.base import Location
from nmsquota.ledger.ledger import DAWN, TinyStore
from nmsquota.ledger.records import SubscriberRecord
from nmsquota.ledger.shards import SHARD_SECONDS, shard_name

T0 = 1_700_000_000  # 2023-11-14, a Tuesday
WEEK = Tally(7 * 86400)
HOUR = Tally(3600)
NIGHTS_FREE = Tally(2 * 3600, FreeHours(0, 6 * 60, "Australia/Adelaide"))
# Resets on the 15th, local time: a day after T0, so the property test crosses resets.
MONTH = Tally(31 * 86400, period=Monthly(15, "Australia/Adelaide"))


def cycle(now: int, **usage: tuple[int, int]) -> list[Sample]:
    return [Sample(name, now, bytes_in, bytes_out) for name, (bytes_in, bytes_out) in usage.items()]


# -- rolling windows -------------------------------------------------------------------------

# Each commit may be followed by reopening the writer.
steps = commit_plans(st.booleans())


@pytest.fixture
def fresh_ledger(
    ledger_at: Location, request: pytest.FixtureRequest
) -> Callable[[], AbstractContextManager[Location]]:
    """A new, empty ledger location of `ledger_at`'s store at each call (fixtures.fresh_ledger)."""
    return fresh_locations(ledger_at, request)


def test_incremental_window_totals_equal_a_full_recount(
    fresh_ledger: Callable[[], AbstractContextManager[Location]], ledger_at: Location
) -> None:
    # Several windows at once, as a plan with several caps keeps them (1d, 7d, 30d, ...).
    tallies = [WEEK, HOUR, NIGHTS_FREE, MONTH, Tally(86400), Tally(30 * 86400)]

    def check(plan: list) -> None:
        with fresh_ledger() as location:
            ledger = Ledger.open_writer(location, tallies)
            now = T0
            try:
                for move, rows, reopen in plan:
                    now += move
                    samples = [Sample(name, now - age, i, o) for name, age, i, o in rows]
                    ledger.commit(now, samples)
                    if reopen:
                        ledger.close()
                        ledger = Ledger.open_writer(location, tallies)
                    for tally in tallies:
                        assert ledger.edge(tally) == tally.edge_at(now)
                        assert ledger.totals(tally) == ledger.recount(tally, tally.edge_at(now))
            finally:
                ledger.close()

    if not isinstance(ledger_at, Path):
        check = settings(max_examples=PG_EXAMPLES)(check)
    given(steps)(check)()


def test_a_sample_leaves_the_window_after_exactly_the_window(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [HOUR]) as ledger:
        ledger.commit(T0, cycle(T0, alice=(1000, 10)))
        ledger.commit(T0 + 3599, [])
        assert ledger.totals() == {"alice": Totals(1000, 10)}
        ledger.commit(T0 + 3600, [])
        assert ledger.totals() == {}


def test_clock_going_back_brings_aged_out_samples_back(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [HOUR]) as ledger:
        ledger.commit(T0, cycle(T0, alice=(1000, 10)))
        ledger.commit(T0 + 7200, [])
        assert ledger.totals() == {}
        ledger.commit(T0 + 1800, [])
        assert ledger.totals() == {"alice": Totals(1000, 10)}


def test_off_peak_usage_does_not_count(ledger_at: Location) -> None:
    # 2023-11-14 00:30 in Adelaide (UTC+10:30) is 2023-11-13 14:00 UTC.
    night = 1_699_884_000
    with Ledger.open_writer(ledger_at, [NIGHTS_FREE, WEEK]) as ledger:
        ledger.commit(night, cycle(night, alice=(5000, 50)))
        ledger.commit(night + 6 * 3600, cycle(night + 6 * 3600, alice=(7, 1)))
        assert ledger.totals(NIGHTS_FREE) == {"alice": Totals(7, 1)}
        assert ledger.recount(NIGHTS_FREE, night - 3600) == {"alice": Totals(7, 1)}
        assert ledger.totals(WEEK) == {"alice": Totals(5007, 51)}


def test_a_new_window_starts_from_a_recount_of_history(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [HOUR]) as ledger:
        for i in range(5):
            ledger.commit(T0 + i * 300, cycle(T0 + i * 300, alice=(100, 1)))
    with Ledger.open_writer(ledger_at, [HOUR, WEEK]) as ledger:
        assert ledger.totals(WEEK) == {"alice": Totals(500, 5)}
        assert [t.key for t in ledger.tallies()] == ["1h", "7d"]


def test_a_subscriber_whose_usage_aged_out_leaves_the_totals(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [HOUR]) as ledger:
        ledger.commit(T0, cycle(T0, alice=(100, 1)))
        ledger.commit(T0 + 7200, cycle(T0 + 7200, bob=(5, 5)))
    state = json.loads((ledger_dir / "state.json").read_text())
    (tally,) = state["tallies"].values()
    assert tally["totals"] == {"bob": [5, 5]}


def test_samples_are_stored_in_hour_files(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        for i in range(24):
            ledger.commit(T0 + i * 300, cycle(T0 + i * 300, alice=(1, 1)))
    files = sorted(p.name for p in (ledger_dir / "usage").iterdir())
    hours = sorted({(T0 + i * 300) // SHARD_SECONDS * SHARD_SECONDS for i in range(24)})
    assert files == [shard_name(h) for h in hours]


# -- readers and the writer -----------------------------------------------------------------


def test_a_reader_sees_what_the_writer_committed(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        writer.commit(T0, cycle(T0, alice=(100, 1)))
        reader = Ledger.open_reader(ledger_at)
        assert reader.totals() == {"alice": Totals(100, 1)}
        writer.commit(T0 + 300, cycle(T0 + 300, alice=(50, 1)))
        reader.refresh()
        assert reader.totals() == {"alice": Totals(150, 2)}
        assert reader.as_of == T0 + 300
        assert [s.bytes_in for s in reader.samples(["alice"])] == [100, 50]


def test_a_reader_cannot_write(ledger_at: Location) -> None:
    Ledger.open_writer(ledger_at, [WEEK]).close()
    reader = Ledger.open_reader(ledger_at)
    with pytest.raises(LedgerReadOnly):
        reader.commit(T0, [])


def test_a_second_writer_is_refused_with_the_holders_pid(ledger_at: Location) -> None:
    import os

    with Ledger.open_writer(ledger_at, [WEEK]) as first, pytest.raises(LedgerLocked) as refused:
        Ledger.open_writer(ledger_at, [WEEK])
    assert f"process {os.getpid()}" in str(refused.value)
    assert first.where in str(refused.value)  # the directory, or the database
    # Once the first writer has gone, a new one may open.
    Ledger.open_writer(ledger_at, [WEEK]).close()


def test_the_cycle_in_flight_is_rolled_back_on_reopen(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        ledger.commit(T0, cycle(T0, alice=(100, 1)))
    # What a writer killed between writing the shard and the state leaves behind:
    shard = ledger_dir / "usage" / shard_name(T0 - T0 % SHARD_SECONDS)
    data = json.loads(shard.read_text())
    data["_default"]["2"] = {"t": T0 + 300, "seq": 2, "names": ["alice"], "in": [999], "out": [9]}
    shard.write_text(json.dumps(data))
    (ledger_dir / "intent.json").write_text(json.dumps({"seq": 2, "shards": [shard.name]}))

    reader = Ledger.open_reader(ledger_dir)
    assert [s.bytes_in for s in reader.samples()] == [100]  # not committed: not visible
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        assert [s.bytes_in for s in ledger.samples()] == [100]
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge()) == {"alice": Totals(100, 1)}
    assert "999" not in shard.read_text()


def test_leftover_temporary_files_are_removed_by_the_writer_only(ledger_dir: Path) -> None:
    Ledger.open_writer(ledger_dir, [WEEK]).close()
    leftover = ledger_dir / ".state.json.12345.tmp"
    leftover.write_text('{"half": ')
    Ledger.open_reader(ledger_dir)
    assert leftover.exists()
    Ledger.open_writer(ledger_dir, [WEEK]).close()
    assert not leftover.exists()


@pytest.mark.parametrize("content", ['{"ledger": {"1": {"format": 1, "seq"', "[1, 2]", "\x00\x01"])
def test_a_corrupt_state_file_is_reported_and_left_alone(ledger_dir: Path, content: str) -> None:
    Ledger.open_writer(ledger_dir, [WEEK]).close()
    state = ledger_dir / "state.json"
    state.write_text(content)
    for opener in (
        lambda: Ledger.open_writer(ledger_dir, [WEEK]),
        lambda: Ledger.open_reader(ledger_dir),
    ):
        with pytest.raises(LedgerCorrupt) as error:
            opener()
        assert str(state) in str(error.value)
    assert state.read_text() == content


def test_a_corrupt_usage_file_stops_the_commit_that_would_overwrite_it(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        ledger.commit(T0, cycle(T0, alice=(100, 1)))
        shard = ledger_dir / "usage" / shard_name(T0 - T0 % SHARD_SECONDS)
        shard.write_text(
            '{"_default": {"1": {"t": 1, "seq": 1, "names": ["alice"], "in": [-5], "out": [0]}}}'
        )
        ledger.shards.forget()
        with pytest.raises(LedgerCorrupt, match="not a valid sample"):
            ledger.commit(T0 + 300, cycle(T0 + 300, alice=(1, 1)))
        assert "-5" in shard.read_text()
        # The failed commit changed nothing: the totals are still the last committed ones.
        assert ledger.totals() == {"alice": Totals(100, 1)}
        assert ledger.seq == 1


def test_a_ledger_of_another_format_is_refused(ledger_dir: Path) -> None:
    Ledger.open_writer(ledger_dir, [WEEK]).close()
    state = ledger_dir / "state.json"
    data = json.loads(state.read_text())
    data["ledger"]["1"]["format"] = 99
    state.write_text(json.dumps(data))
    with pytest.raises(LedgerCorrupt, match="format 99; this nmsquota reads 1 and 2"):
        Ledger.open_writer(ledger_dir, [WEEK])


# -- enforcement state, records, counters ------------------------------------------------------


def test_limits_counters_and_records_are_committed_with_the_cycle(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as ledger, ledger.batch():
        ledger.commit(T0, cycle(T0, alice=(100, 1)))
        ledger.set_limit(Limit("alice", T0, "63.0 MB in 1w", "log", 3000))
        ledger.set_counter_state("bras1", {"7": [123, 456]})
        ledger.records.set_subscribers([SubscriberRecord(name="alice", plan="home")])
    reader = Ledger.open_reader(ledger_at)
    assert reader.limits() == [Limit("alice", T0, "63.0 MB in 1w", "log", 3000)]
    assert reader.counter_state("bras1") == {"7": [123, 456]}
    assert reader.records.subscribers() == [SubscriberRecord(name="alice", plan="home")]
    with Ledger.open_writer(ledger_at, [WEEK]) as ledger:
        ledger.set_limit(Limit("alice", T0 + 5, "again", "log"))
        ledger.clear_limit("nobody")
        assert [limit.reason for limit in ledger.limits()] == ["again"]
        ledger.clear_limit("alice")
        assert ledger.limits() == []


# -- pruning ---------------------------------------------------------------------------------


def test_prune_retires_old_records_to_the_archive_and_out_of_the_windows(
    ledger_at: Location,
) -> None:
    archived: list[Sample] = []
    with Ledger.open_writer(ledger_at, [WEEK]) as ledger:
        for i in range(48):
            now = T0 + i * 1800
            ledger.commit(now, cycle(now, alice=(100, 1)))
        result = ledger.prune(T0 + 10 * 1800, archived.extend)
        assert result.records == 11 and result.complete
        assert [s.time for s in archived] == [T0 + i * 1800 for i in range(11)]
        assert ledger.totals() == {"alice": Totals(3700, 37)}
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge())
        assert min(s.time for s in ledger.samples()) == T0 + 11 * 1800
        ledger.commit(T0 + 48 * 1800, [])
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge())


def test_prune_beside_a_running_writer_only_drops_hours_no_window_reaches(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [HOUR]) as writer:
        for i in range(12):
            now = T0 + i * 1800
            writer.commit(now, cycle(now, alice=(100, 1)))
        archived: list[Sample] = []
        reader = Ledger.open_reader(ledger_dir)
        result = reader.prune(T0 + 12 * 1800, archived.extend)
        assert not result.complete  # the last hour still counts in the window
        edge = writer.edge()
        assert all(s.time <= edge for s in archived)
        assert {s.time for s in archived} | {s.time for s in writer.samples()} == {
            T0 + i * 1800 for i in range(12)
        }
        writer.commit(T0 + 12 * 1800, [])
        assert writer.totals() == writer.recount(HOUR, writer.edge())


# -- failures that must not leave anything behind (from review) ------------------------------


def test_a_commit_that_fails_leaves_no_samples_for_the_next_to_adopt(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nmsquota.ledger.storage as storage

    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        ledger.commit(T0, cycle(T0, a=(100, 1)))
        real = storage.write_json_atomically

        def disk_full(path: Path, data: object) -> None:
            if path.name == "state.json":
                raise OSError(28, "No space left on device")
            real(path, data)

        monkeypatch.setattr(storage, "write_json_atomically", disk_full)
        with pytest.raises(OSError):
            ledger.commit(T0 + 300, cycle(T0 + 300, a=(7, 7)))
        monkeypatch.setattr(storage, "write_json_atomically", real)
        ledger.commit(T0 + 600, cycle(T0 + 600, a=(1, 0)))
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge()) == {"a": Totals(101, 1)}
        assert [s.bytes_in for s in ledger.samples()] == [100, 1]


def test_a_full_disk_mid_commit_leaves_the_last_commit_and_counts_nothing_twice_after(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    import nmsquota.ledger.storage as storage

    refused: list[str] = []

    def full_from_state_json(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        # The usage file goes through; state.json (the commit point) is refused, and from
        # then on everything, so that taking the uncommitted samples back out fails too.
        if "w" in mode and (refused or ".state.json" in str(file)):
            refused.append(str(file))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return open(file, mode, *args, **kwargs)

    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        ledger.commit(T0, cycle(T0, a=(100, 1)))
        monkeypatch.setattr(storage, "open", full_from_state_json, raising=False)
        with pytest.raises(LedgerUnusable) as failed:
            ledger.commit(T0 + 300, cycle(T0 + 300, a=(7, 7)))
        assert failed.value.path == ledger_dir / "state.json"
        assert str(failed.value).startswith(
            f"ledger: cannot write {ledger_dir / 'state.json'}: No space left on device"
        )
        assert len(refused) == 2  # state.json, then the rollback of the usage file
        # What the writer believes is what is on disk: the last commit.
        assert ledger.seq == Ledger.open_reader(ledger_dir).seq == 1
        assert ledger.totals() == {"a": Totals(100, 1)}
        monkeypatch.undo()
        ledger.commit(T0 + 600, cycle(T0 + 600, a=(1, 0)))
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge()) == {"a": Totals(101, 1)}
        assert [s.bytes_in for s in ledger.samples()] == [100, 1]


def test_two_commits_in_one_batch_are_refused(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as ledger:
        with pytest.raises(LedgerError, match="one commit per batch"), ledger.batch():
            ledger.commit(T0, cycle(T0, a=(1, 1)))
            ledger.commit(T0 + 300, cycle(T0 + 300, a=(50, 1)))
        assert ledger.seq == 0 and list(ledger.samples()) == []


@pytest.mark.parametrize(
    "sample",
    [Sample("two words", T0, 1, 1), Sample("", T0, 1, 1), Sample("a", T0 + 0.5, 1, 1)],  # type: ignore[arg-type]
)
def test_samples_the_text_forms_could_not_carry_are_refused(
    ledger_at: Location, sample: Sample
) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as ledger, pytest.raises(ValueError):
        ledger.commit(T0, [sample])


def test_a_missing_state_file_beside_usage_files_is_refused_then_rebuilt(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK, HOUR]) as ledger:
        for i in range(6):
            ledger.commit(T0 + i * 300, cycle(T0 + i * 300, a=(100, 1)))
    (ledger_dir / "state.json").rename(ledger_dir / "state.json.bad")
    with pytest.raises(LedgerCorrupt, match="is missing, but"):
        Ledger.open_writer(ledger_dir, [WEEK])
    with Ledger.open_writer(ledger_dir, [WEEK], rebuild=True) as ledger:
        assert len(list(ledger.samples())) == 6
        ledger.commit(T0 + 6 * 300, [])
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge()) == {"a": Totals(600, 6)}


def test_rebuild_recounts_after_a_usage_file_was_moved_aside(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        for i in range(24):
            ledger.commit(T0 + i * 300, cycle(T0 + i * 300, a=(100, 1)))
    first = sorted((ledger_dir / "usage").iterdir())[0]
    first.rename(ledger_dir / "moved-aside.json")
    with Ledger.open_writer(ledger_dir, rebuild=True) as ledger:
        assert [t.key for t in ledger.tallies()] == ["7d"]
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge())
        assert ledger.totals()["a"].bytes_in < 2400


def test_a_bad_commit_record_is_reported_as_corrupt(ledger_dir: Path) -> None:
    Ledger.open_writer(ledger_dir, [WEEK]).close()
    state = ledger_dir / "state.json"
    data = json.loads(state.read_text())
    del data["ledger"]["1"]["seq"]
    state.write_text(json.dumps(data))
    for opener in (Ledger.open_reader, Ledger.open_writer):
        with pytest.raises(LedgerCorrupt, match="bad commit record"):
            opener(ledger_dir)


def test_prune_beside_the_writer_does_not_leave_its_cache_behind(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [HOUR]) as writer:
        for i in range(12):
            writer.commit(T0 + i * 1800, cycle(T0 + i * 1800, a=(100, 1)))
        writer.recount(HOUR, DAWN)  # the writer has every hour file in memory now
        Ledger.open_reader(ledger_dir).prune(T0 + 12 * 1800, lambda samples: None)
        writer.commit(T0 + 3 * 3600, [])  # the clock steps back over pruned hours
        assert writer.totals() == writer.recount(HOUR, writer.edge())
        writer.commit(T0 + 2 * 3600 + 60, cycle(T0 + 2 * 3600 + 60, late=(1, 1)))
        assert {s.subscriber for s in writer.samples(until=T0 + 2 * 3600 + 60)} <= {"late"}


# -- replace: the repair path is one commit ----------------------------------------------------


def week_of_a(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        for i in range(24):
            ledger.commit(T0 + i * 300, cycle(T0 + i * 300, a=(100, 1)))


def test_replace_swaps_every_record_and_archives_the_old_ones(ledger_dir: Path) -> None:
    week_of_a(ledger_dir)
    archived: list[Sample] = []
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        ledger.replace(T0 + 7200, cycle(T0 + 60, b=(5, 5)), archived.extend)
        assert [s.subscriber for s in ledger.samples()] == ["b"]
        assert ledger.totals() == ledger.recount(WEEK, ledger.edge()) == {"b": Totals(5, 5)}
    assert len(archived) == 24
    assert len(list((ledger_dir / "usage").iterdir())) == 1


def test_a_replace_killed_after_its_commit_point_is_finished_on_reopen(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    week_of_a(ledger_dir)

    def killed(self: Ledger, replaced_through: int) -> None:
        raise KeyboardInterrupt  # stands in for the kill

    monkeypatch.setattr(TinyStore, "_finish_replace", killed)
    writer = Ledger.open_writer(ledger_dir, [WEEK])
    with pytest.raises(KeyboardInterrupt):
        writer.replace(T0 + 7200, cycle(T0 + 60, b=(5, 5)), lambda old: None)
    writer.close()
    reader = Ledger.open_reader(ledger_dir)  # the old documents are still in the files...
    assert [s.subscriber for s in reader.samples()] == ["b"]  # ...but no longer visible
    assert reader.totals() == {"b": Totals(5, 5)}
    monkeypatch.undo()
    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        assert [s.subscriber for s in ledger.samples()] == ["b"]
        ledger.commit(T0 + 7500, [])
    assert all('"a"' not in p.read_text() for p in (ledger_dir / "usage").iterdir())


def test_a_replace_that_fails_before_its_commit_point_changes_nothing(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nmsquota.ledger.storage as storage

    week_of_a(ledger_dir)
    real = storage.write_json_atomically

    def disk_full(path: Path, data: object) -> None:
        if path.name == "state.json":
            raise OSError(28, "No space left on device")
        real(path, data)

    with Ledger.open_writer(ledger_dir, [WEEK]) as ledger:
        monkeypatch.setattr(storage, "write_json_atomically", disk_full)
        with pytest.raises(OSError):
            ledger.replace(T0 + 7200, cycle(T0 + 60, b=(5, 5)), lambda old: None)
        monkeypatch.undo()
        assert {s.subscriber for s in ledger.samples()} == {"a"}
        assert ledger.totals() == {"a": Totals(2400, 24)}


def test_a_monthly_period_counts_from_the_reset_day_in_local_time(ledger_at: Location) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Australia/Adelaide")

    def at(*parts: int) -> int:
        return int(datetime(*parts, tzinfo=zone).timestamp())

    month = Tally(31 * 86400, period=Monthly(reset_day=15, timezone="Australia/Adelaide"))
    assert month.edge_at(at(2026, 3, 20, 12)) == at(2026, 3, 15) - 1
    assert month.edge_at(at(2026, 3, 14, 23, 59)) == at(2026, 2, 15) - 1
    assert month.edge_at(at(2026, 1, 3)) == at(2025, 12, 15) - 1
    with Ledger.open_writer(ledger_at, [month]) as ledger:
        ledger.commit(at(2026, 3, 14, 23), [Sample("a", at(2026, 3, 14, 23), 100, 1)])
        ledger.commit(at(2026, 3, 14, 23, 30), [Sample("a", at(2026, 3, 14, 23, 30), 50, 0)])
        assert ledger.totals(month)["a"] == Totals(150, 1)
        # Midnight of the 15th, local time: the month resets, whatever happened before.
        ledger.commit(at(2026, 3, 15, 0, 5), [Sample("a", at(2026, 3, 15, 0, 5), 7, 0)])
        assert ledger.totals(month) == {"a": Totals(7, 0)}
    with Ledger.open_writer(ledger_at, [month]) as again:  # the period survives a reopen
        assert again.tallies()[0].period == Monthly(15, "Australia/Adelaide")
        assert again.totals(month) == {"a": Totals(7, 0)}
