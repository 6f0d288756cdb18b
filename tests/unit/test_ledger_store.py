"""What every ledger store keeps (nmsquota/ledger/base.py), held against each store through
`Ledger.open_writer/open_reader(ledger_at)` and nothing else: a reader sees one commit until it
refreshes; a batch commits whole or not at all; records keep their order and are replaced
whole; events are numbered without gaps; one writer at a time. The TinyDB store's own file
behaviour (crash recovery, corrupt files, salvage) is in test_ledger.py and test_rebuild_*.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nmsquota.ledger import (
    Ledger,
    LedgerError,
    LedgerLocked,
    LedgerMissing,
    LedgerReadOnly,
    LedgerRecordError,
    Limit,
    Sample,
    Tally,
    Totals,
)
from nmsquota.ledger.base import Location
from nmsquota.ledger.codec import SESSIONS, STANDINGS
from nmsquota.ledger.records import EventKind, EventRecord, SessionRecord, StandingRecord
from nmsquota.verdict import State

T0 = 1_800_000_000
WEEK = Tally(7 * 86400)
HOUR = Tally(3600)


def cycle(now: int, **usage: tuple[int, int]) -> list[Sample]:
    return [Sample(name, now, bytes_in, bytes_out) for name, (bytes_in, bytes_out) in usage.items()]


def standing(name: str, state: State = State.OK) -> StandingRecord:
    return StandingRecord(subscriber=name, state=state)


def event(text: str) -> EventRecord:
    return EventRecord(time=T0, kind=EventKind.SESSION_UP, text=text)


def seen(ledger: Ledger) -> dict[str, Any]:
    """Everything a reader can be shown of one commit."""
    return {
        "seq": ledger.seq,
        "as_of": ledger.as_of,
        "edge": ledger.edge(WEEK),
        "totals": ledger.totals(WEEK),
        "samples": list(ledger.samples()),
        "columns": {name: list(mine) for name, mine in ledger.sample_columns().items()},
        "standings": ledger.records.standings(),
        "events": [(e.seq, e.text) for e in ledger.records.events()],
        "baselines": ledger.counter_state("bras"),
        "every_baseline": ledger.counter_states(),
    }


def first_commit(writer: Ledger) -> None:
    with writer.batch():
        writer.commit(T0, cycle(T0, alice=(100, 1)))
        writer.set_counter_state("bras", {"7": [100, 1]})
        writer.records.set_standings([standing("alice")])
        writer.records.add_events([event("first")])


FIRST = {
    "seq": 1,
    "as_of": T0,
    "edge": WEEK.edge_at(T0),
    "totals": {"alice": Totals(100, 1)},
    "samples": [Sample("alice", T0, 100, 1)],
    "columns": {"alice": [Sample("alice", T0, 100, 1)]},
    "standings": [standing("alice")],
    "events": [(1, "first")],
    "baselines": {"7": [100, 1]},
    "every_baseline": {"bras": {"7": [100, 1]}},
}
"""What `first_commit` leaves."""


# -- a reader sees one commit ------------------------------------------------------------------


def test_a_reader_sees_one_commit_until_it_refreshes(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with Ledger.open_reader(ledger_at) as reader:
            assert seen(reader) == FIRST
            with writer.batch():
                writer.commit(T0 + 300, cycle(T0 + 300, alice=(50, 1), bob=(7, 0)))
                writer.set_counter_state("bras", {"7": [150, 2], "8": [7, 0]})
                writer.records.set_standings([standing("alice", State.WARNED), standing("bob")])
                writer.records.add_events([event("second")])
            assert seen(reader) == FIRST  # every read, after the writer's commit
            reader.refresh()
            second = seen(reader)
            assert second == seen(writer)
            assert second["seq"] == 2 and second["as_of"] == T0 + 300
            assert second["totals"] == {"alice": Totals(150, 2), "bob": Totals(7, 0)}
            assert second["events"] == [(1, "first"), (2, "second")]
            assert second["baselines"] == {"7": [150, 2], "8": [7, 0]}
            assert second["every_baseline"] == {"bras": {"7": [150, 2], "8": [7, 0]}}
            assert [s.state for s in second["standings"]] == [State.WARNED, State.OK]


def test_every_access_servers_baselines_are_listed_by_name(ledger_at: Location) -> None:
    # What `nmsquota ledger copy` carries over: every access server the poller stored
    # baselines for, none for one whose state is empty.
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        assert writer.counter_states() == {}
        with writer.batch():
            writer.commit(T0)
            writer.set_counter_state("bras", {"7": [100, 1]})
            writer.set_counter_state("old-bras", {"eth0": [5, 6], "eth1": [0, 0]})
            writer.set_counter_state("gone", {})
        with Ledger.open_reader(ledger_at) as reader:
            assert reader.counter_states() == {
                "bras": {"7": [100, 1]},
                "old-bras": {"eth0": [5, 6], "eth1": [0, 0]},
            }
            assert reader.counter_states()["bras"] == reader.counter_state("bras")


def test_a_reader_refreshing_with_no_new_commit_sees_the_same_one(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with Ledger.open_reader(ledger_at) as reader:
            reader.refresh()
            assert seen(reader) == FIRST


# -- a batch commits whole or not at all -------------------------------------------------------


class Failed(Exception):
    """What a cycle's block raised after writing (a driver, a full disk...)."""


def test_a_batch_that_fails_leaves_the_last_commit_and_the_writer_goes_on(
    ledger_at: Location,
) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with pytest.raises(Failed), writer.batch():
            writer.commit(T0 + 300, cycle(T0 + 300, alice=(999, 9), bob=(5, 5)))
            writer.set_counter_state("bras", {"7": [1099, 10]})
            writer.set_counter_state("bras2", {"1": [5, 5]})
            writer.records.set_standings([standing("alice", State.LIMITED)])
            writer.records.add_events([event("lost")])
            raise Failed
        # Samples and baselines both, or neither: here neither, nor anything else.
        assert seen(writer) == FIRST
        assert writer.counter_state("bras2") == {}
        with Ledger.open_reader(ledger_at) as reader:
            assert seen(reader) == FIRST
        with writer.batch():
            assert writer.commit(T0 + 600, cycle(T0 + 600, alice=(1, 0))) == 2
            writer.set_counter_state("bras", {"7": [101, 1]})
            (added,) = writer.records.add_events([event("next")])
        assert added.seq == 2  # the failed batch's event took no number
        assert writer.totals(WEEK) == writer.recount(WEEK, writer.edge(WEEK))
        assert writer.totals(WEEK) == {"alice": Totals(101, 1)}
        assert [s.bytes_in for s in writer.samples()] == [100, 1]
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.seq == 2 and reader.counter_state("bras") == {"7": [101, 1]}
        assert [e.text for e in reader.records.events()] == ["first", "next"]
        assert reader.records.standings() == [standing("alice")]


def test_records_written_in_a_failed_batch_without_a_commit_are_not_kept(
    ledger_at: Location,
) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with pytest.raises(Failed), writer.batch():
            writer.records.set_standings([])
            writer.records.set_sessions([SessionRecord(subscriber="alice", online=True)])
            raise Failed
        assert writer.records.standings() == [standing("alice")]
        assert writer.records.sessions() == []
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.records.standings() == [standing("alice")]
        assert reader.records.sessions() == []


def test_one_commit_per_batch_and_the_refused_batch_commits_nothing(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with pytest.raises(LedgerError, match="one commit per batch"), writer.batch():
            writer.commit(T0 + 300, cycle(T0 + 300, alice=(1, 1)))
            writer.records.set_standings([])
            writer.commit(T0 + 600, cycle(T0 + 600, alice=(2, 2)))
        assert seen(writer) == FIRST
        assert writer.commit(T0 + 900, cycle(T0 + 900, alice=(3, 3))) == 2
        assert writer.totals(WEEK) == {"alice": Totals(103, 4)}


@pytest.mark.parametrize(
    "bad",
    [
        Sample("alice", T0, -1, 0),
        Sample("alice", T0, 0, -5),
        Sample("two words", T0, 1, 1),
        Sample("", T0, 1, 1),
        Sample("alice", T0 + 0.5, 1, 1),  # type: ignore[arg-type]
        Sample("alice", T0, 1.0, 1),  # type: ignore[arg-type]
    ],
)
def test_a_commit_refuses_a_bad_sample_and_commits_nothing(
    ledger_at: Location, bad: Sample
) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
        with pytest.raises(ValueError):
            writer.commit(T0 + 300, [Sample("bob", T0 + 300, 5, 5), bad])
        assert seen(writer) == FIRST
        assert writer.commit(T0 + 600, cycle(T0 + 600, bob=(5, 5))) == 2
        assert writer.totals(WEEK) == {"alice": Totals(100, 1), "bob": Totals(5, 5)}


# -- records ---------------------------------------------------------------------------------


def test_write_keeps_the_order_given_and_replaces_the_kind_whole(ledger_at: Location) -> None:
    sessions = [SessionRecord(subscriber=name, online=name != "bo", access_server="bras")
                for name in ("cy", "ann", "bo", "dee")]  # fmt: skip
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        with writer.batch():
            writer.records.write(SESSIONS, sessions)
            writer.records.write(STANDINGS, [standing("zed"), standing("amy")])
        assert writer.records.read(SESSIONS) == sessions
        with Ledger.open_reader(ledger_at) as reader:
            assert reader.records.read(SESSIONS) == sessions
            assert [s.subscriber for s in reader.records.standings()] == ["zed", "amy"]
        shuffled = [sessions[3], sessions[1]]
        with writer.batch():
            writer.records.write(SESSIONS, shuffled)
        with Ledger.open_reader(ledger_at) as reader:
            assert reader.records.read(SESSIONS) == shuffled
            # The other kind is untouched by a write of this one.
            assert [s.subscriber for s in reader.records.standings()] == ["zed", "amy"]
        with writer.batch():
            writer.records.write(SESSIONS, [])
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.records.read(SESSIONS) == []
        assert [s.subscriber for s in reader.records.standings()] == ["zed", "amy"]


def test_read_gives_a_list_the_caller_may_change(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        writer.records.set_standings([standing("ann")])
        writer.records.standings().append(standing("bo"))
        assert writer.records.standings() == [standing("ann")]


def test_records_from_elsewhere_are_checked_as_if_read_here(ledger_at: Location) -> None:
    # The codec every store reads with: a newer record version and a record that does not
    # fit its kind are refused naming the ledger and the kind; an old one is migrated.
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        records = writer.records
        current = {"subscriber": "bob", "state": "ok", "version": 1}
        assert records.parse(STANDINGS, [current]) == [standing("bob")]
        for spoilt, expected in (
            ({**current, "version": 2}, "it is version 2, written by a newer nmsquota"),
            ({**current, "state": "sleepy"}, "state: Input should be 'ok'"),
        ):
            with pytest.raises(LedgerRecordError) as refused:
                records.parse(STANDINGS, [current, spoilt])
            assert refused.value.kind == "standings" and expected in str(refused.value)
            assert writer.where in str(refused.value)
        old = {"subscriber": "bob", "limited": False, "reason": ""}  # before versions
        assert records.parse(STANDINGS, [old]) == [standing("bob")]


def test_events_are_numbered_without_gaps_across_batches_and_kept_to_the_latest(
    ledger_at: Location,
) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        numbered = []
        for texts in (["a", "b", "c"], [], ["d", "e"], ["f"]):
            with writer.batch():
                writer.commit(T0)
                numbered += writer.records.add_events([event(t) for t in texts], keep=4)
        assert [(e.seq, e.text) for e in numbered] == list(enumerate("abcdef", start=1))
        assert [(e.seq, e.text) for e in writer.records.events()] == [
            (3, "c"), (4, "d"), (5, "e"), (6, "f")]  # fmt: skip
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:  # a new writer goes on counting
        (later,) = writer.records.add_events([event("g")], keep=4)
        assert later.seq == 7
    with Ledger.open_reader(ledger_at) as reader:
        assert [e.seq for e in reader.records.events()] == [4, 5, 6, 7]
        assert [e.text for e in reader.records.events(since=5)] == ["f", "g"]
        assert reader.records.events(since=7) == []


# -- one writer; readers only read -----------------------------------------------------------


def test_a_second_writer_is_refused_until_the_first_closes(ledger_at: Location) -> None:
    first = Ledger.open_writer(ledger_at, [WEEK])
    try:
        first.commit(T0, cycle(T0, alice=(1, 1)))
        with pytest.raises(LedgerLocked) as refused:
            Ledger.open_writer(ledger_at, [WEEK])
        assert first.where in str(refused.value)
        assert first.commit(T0 + 300) == 2  # the refusal took nothing from the writer
    finally:
        first.close()
    with Ledger.open_writer(ledger_at, [WEEK]) as second:
        assert second.seq == 2
        assert second.commit(T0 + 600) == 3


def test_a_reader_cannot_write(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        first_commit(writer)
    with Ledger.open_reader(ledger_at) as reader:
        attempts = [
            lambda: reader.commit(T0 + 300, cycle(T0 + 300, alice=(1, 1))),
            lambda: reader.set_counter_state("bras", {}),
            lambda: reader.records.set_standings([]),
            lambda: reader.records.add_events([event("no")]),
            lambda: reader.set_limit(Limit("alice", T0, "over", "log")),
            lambda: reader.batch().__enter__(),
            lambda: reader.replace(T0 + 300, [], lambda old: None),
        ]
        for attempt in attempts:
            with pytest.raises(LedgerReadOnly):
                attempt()
        assert seen(reader) == FIRST
    with Ledger.open_reader(ledger_at) as again:
        assert seen(again) == FIRST


def test_no_ledger_before_a_writer_made_one(ledger_at: Location) -> None:
    assert not Ledger.exists(ledger_at)
    with pytest.raises(LedgerMissing) as missing:
        Ledger.open_reader(ledger_at)
    # Named: the directory, or the database (its URL's last part, before any options).
    assert str(ledger_at).split("?")[0].rsplit("/", 1)[-1] in str(missing.value)
    Ledger.open_writer(ledger_at, [WEEK]).close()
    assert Ledger.exists(ledger_at)
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.seq == 0 and reader.as_of is None
        assert list(reader.samples()) == [] and reader.records.standings() == []


# -- windows ---------------------------------------------------------------------------------


def test_commits_number_from_one_and_move_every_windows_edge(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK, HOUR]) as writer:
        for n, now in enumerate((T0, T0 + 300, T0 + 7200, T0 + 1800, T0 + 86400), start=1):
            assert writer.commit(now) == n  # the clock may go back: the edge follows it
            assert (writer.seq, writer.as_of) == (n, now)
            assert [writer.edge(t) for t in (WEEK, HOUR)] == [WEEK.edge_at(now),
                                                              HOUR.edge_at(now)]  # fmt: skip
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.edge(HOUR) == HOUR.edge_at(T0 + 86400)
        assert [t.key for t in reader.tallies()] == ["7d", "1h"]


def test_totals_leave_out_subscribers_at_zero(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [HOUR, WEEK]) as writer:
        writer.commit(T0, cycle(T0, idle=(0, 0), alice=(100, 1)))
        writer.commit(T0 + 1800, cycle(T0 + 1800, bob=(5, 0)))
        assert writer.totals(HOUR) == {"alice": Totals(100, 1), "bob": Totals(5, 0)}
        writer.commit(T0 + 3600, [])  # alice's usage leaves the hour
        assert writer.totals(HOUR) == {"bob": Totals(5, 0)}
        assert writer.totals(WEEK) == {"alice": Totals(100, 1), "bob": Totals(5, 0)}
        assert writer.recount(HOUR, writer.edge(HOUR)) == writer.totals(HOUR)
    with Ledger.open_reader(ledger_at) as reader:
        assert reader.totals(HOUR) == {"bob": Totals(5, 0)}


def test_totals_of_a_window_the_ledger_does_not_keep_are_refused(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        writer.commit(T0, cycle(T0, alice=(1, 1)))
        with pytest.raises(LedgerError, match="1h"):
            writer.totals(HOUR)


def test_a_window_new_at_reopen_is_recounted_and_one_not_asked_for_dropped(
    ledger_at: Location,
) -> None:
    with Ledger.open_writer(ledger_at, [HOUR]) as writer:
        for i in range(30):  # 2.5 hours
            now = T0 + i * 300
            writer.commit(now, cycle(now, alice=(100, 1), bob=(i, 0)))
    as_of = T0 + 29 * 300
    with Ledger.open_writer(ledger_at, [HOUR, WEEK]) as writer:
        assert [t.key for t in writer.tallies()] == ["1h", "7d"]
        assert writer.edge(WEEK) == WEEK.edge_at(as_of)
        assert writer.totals(WEEK) == {"alice": Totals(3000, 30), "bob": Totals(435, 0)}
        assert writer.totals(HOUR) == writer.recount(HOUR, HOUR.edge_at(as_of))
        writer.commit(as_of + 300, cycle(as_of + 300, alice=(1, 0)))
        assert writer.totals(WEEK) == {"alice": Totals(3001, 30), "bob": Totals(435, 0)}
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        assert [t.key for t in writer.tallies()] == ["7d"]
        with pytest.raises(LedgerError):
            writer.totals(HOUR)
    with Ledger.open_reader(ledger_at) as reader:
        assert [t.key for t in reader.tallies()] == ["7d"]
        assert reader.totals(WEEK) == {"alice": Totals(3001, 30), "bob": Totals(435, 0)}


def test_samples_come_in_time_order_between_after_and_until(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        writer.commit(T0 + 600, cycle(T0 + 600, bo=(6, 0), ann=(6, 0)))
        # A late sample (an import, a slow device) committed after a newer one.
        writer.commit(T0 + 900, [Sample("ann", T0 + 300, 3, 0), Sample("ann", T0 + 900, 9, 0)])
    with Ledger.open_reader(ledger_at) as reader:
        assert [(s.subscriber, s.time) for s in reader.samples()] == [
            ("ann", T0 + 300), ("bo", T0 + 600), ("ann", T0 + 600), ("ann", T0 + 900)]  # fmt: skip
        assert [s.time for s in reader.samples(["ann"], after=T0 + 300, until=T0 + 600)] == [
            T0 + 600]  # fmt: skip
        assert list(reader.samples(["nobody"])) == []
        assert [s.bytes_in for s in reader.sample_columns(["ann"])["ann"]] == [3, 6, 9]


# -- prune and replace -----------------------------------------------------------------------


def test_prune_archives_the_old_samples_before_it_removes_them(ledger_at: Location) -> None:
    archived: list[Sample] = []
    cutoff = T0 + 10 * 1800
    with Ledger.open_writer(ledger_at, [WEEK, HOUR]) as writer:
        for i in range(48):
            now = T0 + i * 1800
            writer.commit(now, cycle(now, alice=(100, 1), bob=(i + 1, 0)))

        def archive(samples: Any) -> None:
            handed = list(samples)
            # Still in the ledger while they are handed over: a failed archive loses nothing.
            assert list(writer.samples(until=cutoff)) == handed
            archived.extend(handed)

        result = writer.prune(cutoff, archive)
        assert result.records == 22 and result.complete
        assert {s.time for s in archived} == {T0 + i * 1800 for i in range(11)}
        assert min(s.time for s in writer.samples()) == T0 + 11 * 1800
        for tally in (WEEK, HOUR):
            assert writer.totals(tally) == writer.recount(tally, writer.edge(tally))
        assert writer.totals(WEEK) == {"alice": Totals(3700, 37),
                                       "bob": Totals(sum(range(12, 49)), 0)}  # fmt: skip
        writer.commit(T0 + 48 * 1800, [])
        assert writer.totals(WEEK) == writer.recount(WEEK, writer.edge(WEEK))
    with Ledger.open_reader(ledger_at) as reader:
        assert len(list(reader.samples())) == 2 * 37
        assert reader.totals(WEEK) == {"alice": Totals(3700, 37),
                                       "bob": Totals(sum(range(12, 49)), 0)}  # fmt: skip


def test_replace_swaps_every_sample_in_one_commit_archiving_the_old(ledger_at: Location) -> None:
    archived: list[Sample] = []
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        for i in range(24):
            writer.commit(T0 + i * 300, cycle(T0 + i * 300, a=(100, 1)))
        assert writer.replace(T0 + 7200, cycle(T0 + 60, b=(5, 5)), archived.extend) == 25
        with Ledger.open_reader(ledger_at) as reader:
            assert [s.subscriber for s in reader.samples()] == ["b"]
            assert (reader.seq, reader.as_of) == (25, T0 + 7200)
            assert reader.totals(WEEK) == {"b": Totals(5, 5)}
        assert [(s.subscriber, s.time) for s in archived] == [("a", T0 + i * 300)
                                                              for i in range(24)]  # fmt: skip
        assert writer.totals(WEEK) == writer.recount(WEEK, writer.edge(WEEK)) == {"b": Totals(5, 5)}
        with pytest.raises(LedgerError), writer.batch():  # a commit of its own
            writer.replace(T0 + 7500, [], archived.extend)
        assert writer.commit(T0 + 7500, cycle(T0 + 7500, b=(1, 0))) == 26
        assert writer.totals(WEEK) == {"b": Totals(6, 5)}


def test_a_reader_keeps_its_commit_while_a_replace_removes_the_old_samples(
    ledger_at: Location, request: pytest.FixtureRequest
) -> None:
    if isinstance(ledger_at, Path):
        # TinyDB readers keep state.json's commit, not the hour files: the replace deletes
        # the files of the samples it replaced, and a reader that has not refreshed finds
        # none (the same for prune). Strict: this fails the day TinyDB keeps them.
        request.applymarker(pytest.mark.xfail(strict=True, reason="TinyDB readers keep no "
                                              "hour files of their commit"))  # fmt: skip
    with Ledger.open_writer(ledger_at, [WEEK]) as writer:
        for i in range(24):
            writer.commit(T0 + i * 300, cycle(T0 + i * 300, a=(100, 1)))
        with Ledger.open_reader(ledger_at) as reader:
            assert (reader.seq, reader.totals(WEEK)) == (24, {"a": Totals(2400, 24)})
            writer.replace(T0 + 7200, cycle(T0 + 60, b=(5, 5)), lambda old: None)
            # Its samples, read only now, are still those of the commit it was shown.
            assert list(reader.samples()) == [Sample("a", T0 + i * 300, 100, 1)
                                              for i in range(24)]  # fmt: skip
            assert (reader.seq, reader.totals(WEEK)) == (24, {"a": Totals(2400, 24)})
