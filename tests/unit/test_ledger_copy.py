"""`nmsquota ledger copy` (nmsquota/ledger/copy.py): a TinyDB ledger copied to each store
(`ledger_at` is the target) reads as the source, window by window; a target that holds a
ledger, or is the source, is refused untouched; and the check after the copy fails when the
copy differs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fixtures import commit_plans as plans
from fixtures.commit_plans import commit_plans
from fixtures.copy_ledger import FIXTURE
from fixtures.fresh_ledger import PG_EXAMPLES, fresh_locations
from hypothesis import given, settings
from hypothesis import strategies as st

from nmsquota.cli import main
from nmsquota.ledger import FreeHours, Ledger, Monthly, Sample, Tally
from nmsquota.ledger.backends import shown, store_for
from nmsquota.ledger.base import Location
from nmsquota.ledger.codec import KINDS
from nmsquota.ledger.copy import (
    CopyMismatch,
    CopyRefused,
    check_copy,
    copy_ledger,
)
from nmsquota.ledger.records import EventKind, EventRecord, OverrideRecord, SubscriberRecord

T0 = 1_700_000_000  # 2023-11-14, a Tuesday
HOUR = Tally(3600)
DAY = Tally(86400)
NIGHTS_FREE = Tally(2 * 3600, FreeHours(0, 6 * 60, "Australia/Adelaide"))
# Resets on the 15th, local time: a day after T0, so commits cross a reset.
MONTH = Tally(31 * 86400, period=Monthly(15, "Australia/Adelaide"))
TALLIES = [HOUR, DAY, NIGHTS_FREE, MONTH]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """ledger-v0's files (a real daemon's, from before records had types), a TinyDB source."""
    return Path(shutil.copytree(FIXTURE / "ledger", tmp_path / "recording"))


@pytest.fixture
def fresh_ledger(
    ledger_at: Location, request: pytest.FixtureRequest
) -> Callable[[], AbstractContextManager[Location]]:
    return fresh_locations(ledger_at, request)


def assert_reads_the_same(source: Location, target: Location) -> None:
    """The copy compared by the tests themselves, not by copy.check_copy."""
    with Ledger.open_reader(source) as old, Ledger.open_reader(target) as new:
        assert new.as_of == old.as_of
        assert {t.key for t in new.tallies()} >= {t.key for t in old.tallies()}
        for tally in old.tallies():
            assert new.totals(tally) == old.totals(tally), tally.key
            # An exact prune leaves the source's edge at its cutoff, past no sample; the
            # copy's is where its last commit puts it.
            if old.as_of is not None:
                assert new.edge(tally) == tally.edge_at(old.as_of) <= old.edge(tally)
        for kind in KINDS:
            assert new.records.read(kind) == old.records.read(kind), kind.table
        assert new.counter_states() == old.counter_states()
        assert sorted(map(row, new.samples())) == sorted(map(row, old.samples()))


def row(sample: Sample) -> tuple[int, str, int, int]:
    return (sample.time, sample.subscriber, sample.bytes_in, sample.bytes_out)


# -- what a copy carries ------------------------------------------------------------------


def test_the_recorded_ledger_copies_to_each_store_and_reads_as_recorded(
    recording: Path, ledger_at: Location
) -> None:
    copied = copy_ledger(recording, ledger_at)
    assert (copied.samples, copied.subscribers, sorted(copied.tallies)) == (16, 6, ["1d", "1h"])
    assert copied.records["standings"] == 7 and copied.records["overrides"] == 4
    assert copied.access_servers == 1
    assert_reads_the_same(recording, ledger_at)
    with Ledger.open_reader(ledger_at) as new:
        assert new.counter_state("bras") != {}


# After each commit, the poller's baselines for an access server, if any; samples as old
# as 40 days: older than every window.
steps = commit_plans(
    st.one_of(st.none(), st.sampled_from(["bras-1", "bras-2"])),
    names=("alice", "bob", "carol", "dave"),
    moves=(300, 300, 300, 0),
    jumps=(-3 * plans.HOUR, 2 * plans.DAY),
    oldest=40 * plans.DAY,
    per_cycle=5,
    commits=20,
)


def write_source(location: Path, plan: list[Any], prune_at: int | None) -> None:
    """A TinyDB ledger written by `plan`'s commits, with an event per commit and, with
    `prune_at`, retired exactly up to that many seconds before its last commit."""
    with Ledger.open_writer(location, TALLIES) as ledger:
        now = T0
        for n, (move, rows, access_server) in enumerate(plan):
            now += move
            with ledger.batch():
                ledger.commit(now, [Sample(name, now - age, i, o) for name, age, i, o in rows])
                if access_server:
                    ledger.set_counter_state(access_server, {"eth0": [n, now]})
                ledger.records.add_events(
                    [EventRecord(time=now, kind=EventKind.SESSION_UP, text=f"up {n}")]
                )
        ledger.records.set_overrides(
            [OverrideRecord(subscriber="bob", kind="exempt", reason="the mayor", since=T0)]
        )
        if prune_at is not None:
            ledger.prune(now - prune_at, lambda _retired: None)


def test_a_ledger_of_several_windows_copies_exactly(
    fresh_ledger: Callable[[], AbstractContextManager[Location]],
    ledger_at: Location,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Free hours, a calendar month, samples older than every window, a clock that went
    # back, and an exact prune that leaves the source's edges at its cutoff.
    def check(plan: list[Any], prune_at: int | None) -> None:
        source = tmp_path_factory.mktemp("source")
        write_source(source, plan, prune_at)
        with fresh_ledger() as target:
            copy_ledger(source, target)
            assert_reads_the_same(source, target)

    prunes = st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 86400))
    if not isinstance(ledger_at, Path):
        check = settings(max_examples=PG_EXAMPLES)(check)
    given(steps, prunes)(check)()


def test_the_copy_is_cut_into_hours_of_samples(tmp_path: Path, ledger_at: Location) -> None:
    # A day of 5-minute samples: one commit per hour, the last at the source's now.
    source = tmp_path / "source"
    with Ledger.open_writer(source, [DAY]) as ledger:
        for n in range(1, 289):
            ledger.commit(T0 + 300 * n, [Sample("alice", T0 + 300 * n, n, 1)])
    copied = copy_ledger(source, ledger_at)
    with Ledger.open_reader(ledger_at) as new:
        commits = new.seq
    hours = len({(T0 + 300 * n) // 3600 for n in range(1, 289)})
    assert copied.commits == commits == hours + 1
    assert copied.samples == 288


def test_a_window_only_the_configuration_has_is_counted_from_the_copied_samples(
    recording: Path, ledger_at: Location
) -> None:
    week = Tally(7 * 86400)
    copied = copy_ledger(recording, ledger_at, tallies=[week])
    assert "7d" in copied.tallies
    with Ledger.open_reader(recording) as old, Ledger.open_reader(ledger_at) as new:
        assert old.as_of is not None
        edge = week.edge_at(old.as_of)
        assert new.edge(week) == edge
        assert new.totals(week) == old.recount(week, edge) != {}


def test_a_ledger_with_records_but_no_commit_copies_its_records(
    tmp_path: Path, ledger_at: Location
) -> None:
    source = tmp_path / "source"
    provisioned = [SubscriberRecord(name="gina", plan="home")]
    with Ledger.open_writer(source) as ledger:
        ledger.records.set_provisioned(provisioned)
    copied = copy_ledger(source, ledger_at)
    assert (copied.samples, copied.commits) == (0, 0)
    with Ledger.open_reader(ledger_at) as new:
        assert new.records.provisioned() == provisioned and new.as_of is None


# -- what it refuses ---------------------------------------------------------------------


def holding_a_sample(ledger: Ledger) -> None:
    ledger.commit(T0, [Sample("alice", T0, 1, 1)])


def holding_a_record(ledger: Ledger) -> None:
    ledger.records.set_provisioned([SubscriberRecord(name="gina", plan="home")])


def holding_baselines(ledger: Ledger) -> None:
    with ledger.batch():
        ledger.set_counter_state("bras", {"eth0": [1, 2]})


def holding_an_empty_commit(ledger: Ledger) -> None:
    ledger.commit(T0)


@pytest.mark.parametrize(
    "hold", [holding_a_sample, holding_a_record, holding_baselines, holding_an_empty_commit]
)
def test_a_target_that_holds_a_ledger_is_refused_untouched(
    recording: Path, ledger_at: Location, hold: Callable[[Ledger], None]
) -> None:
    with Ledger.open_writer(ledger_at, [Tally(5 * 86400)]) as there:
        hold(there)
    with Ledger.open_reader(ledger_at) as before:
        kept = (before.seq, [t.key for t in before.tallies()], list(before.samples()))
        where = before.where
    with pytest.raises(CopyRefused, match="already holds a ledger") as refused:
        copy_ledger(recording, ledger_at)
    assert where in str(refused.value)
    with Ledger.open_reader(ledger_at) as after:
        assert (after.seq, [t.key for t in after.tallies()], list(after.samples())) == kept
        assert after.records.standings() == []


def test_a_directory_holding_other_files_is_refused(recording: Path, tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    with pytest.raises(CopyRefused, match="not a ledger"):
        copy_ledger(recording, target)
    assert [path.name for path in target.iterdir()] == ["notes.txt"]


def test_the_source_itself_is_refused(recording: Path) -> None:
    before = sorted((p.name, p.stat().st_mtime_ns) for p in recording.rglob("*"))
    with pytest.raises(CopyRefused, match="onto itself"):
        copy_ledger(recording, recording.parent / "." / recording.name)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in recording.rglob("*")) == before


# -- the check ---------------------------------------------------------------------------


def test_the_check_names_a_window_that_differs_and_for_how_many(
    recording: Path, ledger_at: Location
) -> None:
    copy_ledger(recording, ledger_at)
    with Ledger.open_reader(ledger_at) as new:
        as_of = new.as_of
    assert as_of is not None
    # The copy changed behind the check's back: one more sample, in every window.
    with Ledger.open_writer(ledger_at) as there:
        there.commit(as_of, [Sample("alice", as_of, 5, 5)])
    with pytest.raises(CopyMismatch) as mismatch:
        check_copy(recording, ledger_at)
    message = str(mismatch.value)
    assert "the 1h window's totals differ for 1 of" in message
    assert "the 1d window's totals differ for 1 of" in message and "(alice)" in message
    assert "the samples of 1 subscriber (alice) differ in 1 hour of sample time" in message


def test_the_check_names_records_and_baselines_that_differ(
    recording: Path, ledger_at: Location
) -> None:
    copy_ledger(recording, ledger_at)
    with Ledger.open_writer(ledger_at) as there, there.batch():
        there.records.set_overrides(there.records.overrides()[1:])
        there.set_counter_state("bras", {"moved": [1, 2]})
    with pytest.raises(CopyMismatch) as mismatch:
        check_copy(recording, ledger_at)
    message = str(mismatch.value)
    assert "overrides: 3 records, the source has 4" in message
    assert "the counter baselines of 1 access server differ (bras)" in message
    assert "window" not in message.split(": ", 1)[1].split(". Remove")[0]


def test_a_copy_that_reads_back_differently_fails_its_own_check(
    recording: Path, ledger_at: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check inside copy_ledger reads the target through its store; a store that loses
    # a subscriber's total there must not be reported as a copy done.
    store = store_for(ledger_at)
    honest = store.totals

    def losing(self: Ledger, tally: Tally | None = None) -> Any:
        found = honest(self, tally)
        if self.where != str(recording) and not self.writable:
            found.pop("carol", None)
        return found

    monkeypatch.setattr(store, "totals", losing)
    with pytest.raises(CopyMismatch, match=r"the 1h window's totals differ for 1 of \d+ subscr"):
        copy_ledger(recording, ledger_at)


# -- the command -------------------------------------------------------------------------


def test_the_command_copies_the_configured_ledger_and_says_what_it_checked(
    recording: Path, ledger_at: Location, capsys: pytest.CaptureFixture[str]
) -> None:
    config = FIXTURE / "nmsquota.toml"
    argv = ["-c", str(config), "ledger", "copy", "--ledger", str(recording)]
    assert main([*argv, "--to", str(ledger_at)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"copied {recording} to {shown(ledger_at)}:"
    assert "  samples: 16 of 6 subscribers" in out[1]
    assert out[2] == "  windows: 1d, 1h"
    assert out[3].startswith("  records: subscribers 6, provisioned 1, plans 2, overrides 4,")
    assert out[4] == "  counter baselines: 1 access server"
    assert out[5].startswith("checked: every window's totals agree")
    assert_reads_the_same(recording, ledger_at)
    # Again: the target now holds a ledger.
    assert main([*argv, "--to", str(ledger_at)]) == 2
    assert "already holds a ledger" in capsys.readouterr().err


def test_the_command_refuses_the_source_as_target_and_a_missing_source(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "copy", "--ledger", str(recording), "--to", str(recording)]) == 2
    assert "onto itself" in capsys.readouterr().err
    missing = tmp_path / "nothing"
    assert main(["ledger", "copy", "--ledger", str(missing), "--to", str(tmp_path / "b")]) == 2
    assert f"no ledger at {missing} to copy" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_the_command_exits_1_when_the_copy_does_not_check(
    recording: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nmsquota.ledger import copy

    def spoilt(old: Ledger, new: Ledger, progress: Any) -> list[str]:
        return ["the 1h window's totals differ for 1 of 6 subscribers (carol)"]

    monkeypatch.setattr(copy, "_differences", spoilt)
    target = tmp_path / "copy"
    assert main(["ledger", "copy", "--ledger", str(recording), "--to", str(target)]) == 1
    captured = capsys.readouterr()
    assert "does not read as the ledger" in captured.err and "checked" not in captured.out
