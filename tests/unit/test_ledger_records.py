"""The ledger's typed records: what goes in comes out typed; what does not fit its kind is
refused with the file and the kind named, and nothing is changed; records written before
they had types are migrated, by readers in memory and by the first writer on disk.

Tests taking `ledger_at` run on each store; those editing state.json or reading the TinyDB
store's caches take `ledger_dir` (or the TinyDB fixture ledger-v0)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from nmsquota.ledger import Ledger, LedgerRecordError, Tally
from nmsquota.ledger.base import Location
from nmsquota.ledger.migration import MigrationError, reason_of
from nmsquota.ledger.records import (
    CapStanding,
    EventKind,
    EventRecord,
    OverrideRecord,
    SessionRecord,
    StandingRecord,
)
from nmsquota.verdict import Reason, ReasonKind, State

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000


@pytest.fixture
def old_ledger(tmp_path: Path) -> Path:
    """A copy of the data directory today's daemon wrote before records had types."""
    return Path(shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger"))


def edit_state(directory: Path, change: Any) -> bytes:
    """Rewrite state.json through `change(data)`; returns the new bytes."""
    path = directory / "state.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path.read_bytes()


def test_records_come_back_as_the_types_they_were_written_as(ledger_at: Location) -> None:
    standing = StandingRecord(
        subscriber="alice", state=State.STEPPED, since=T0,
        reason=Reason(ReasonKind.OVER, "1d", 80.0, 85, 100), warned=(80,), used=85, cap=100,
        cap_name="1d", step=0, step_at=80.0, rate=10**6,
        caps=(CapStanding(state=State.STEPPED, cap_name="1d", used=85, cap=100),),
    )  # fmt: skip
    override = OverrideRecord(subscriber="alice", kind="topup", reason="bought", since=T0,
                              bytes=10**9, cap="1d", author="noc")  # fmt: skip
    with Ledger.open_writer(ledger_at, [Tally(86400)]) as ledger, ledger.batch():
        ledger.records.set_standings([standing])
        ledger.records.set_overrides([override])
    reader = Ledger.open_reader(ledger_at)
    assert reader.records.standings() == [standing]
    assert reader.records.overrides() == [override]
    assert reader.records.health() is None


def test_a_record_that_does_not_fit_is_refused_naming_the_file_and_the_kind(
    old_ledger: Path,
) -> None:
    def spoil(data: dict) -> None:
        data["standings"]["3"]["caps"][0]["used"] = "lots"

    before = edit_state(old_ledger, spoil)
    reader = Ledger.open_reader(old_ledger)
    with pytest.raises(LedgerRecordError) as refused:
        reader.records.standings()
    message = str(refused.value)
    assert f"ledger file {old_ledger / 'state.json'} holds standings records" in message
    assert "record 3 (carol): caps.0.used: Input should be a valid integer" in message
    assert refused.value.kind == "standings"
    assert reader.records.overrides()  # the other kinds still read
    with pytest.raises(LedgerRecordError, match="standings"):
        Ledger.open_writer(old_ledger)  # the writer will not start on it either
    assert (old_ledger / "state.json").read_bytes() == before


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda doc: {**doc, "version": 2}, "it is version 2, written by a newer nmsquota"),
        (lambda doc: {**doc, "version": "1"}, "its version is '1'"),
        (lambda doc: {**doc, "colour": "red"}, "colour: Unexpected keyword argument"),
        (lambda doc: {**doc, "state": "sleepy"}, "state: Input should be 'ok', 'warned'"),
        # An old record (no version) whose reason is not one the policy ever wrote.
        (lambda doc: {"subscriber": "bob", "limited": True, "reason": "over the moon"},
         "record 1: a reason nmsquota never wrote: 'over the moon'"),
    ],
)  # fmt: skip
def test_what_nmsquota_did_not_write_is_refused_not_guessed(
    ledger_dir: Path, spoil: Any, expected: str
) -> None:
    with Ledger.open_writer(ledger_dir) as ledger, ledger.batch():
        ledger.records.set_standings([StandingRecord(subscriber="bob", state=State.OK)])

    def change(data: dict) -> None:
        data["standings"]["1"] = spoil(data["standings"]["1"])

    edit_state(ledger_dir, change)
    with pytest.raises(LedgerRecordError, match="standings") as refused:
        Ledger.open_reader(ledger_dir).records.standings()
    assert expected in str(refused.value)


def test_the_event_log_keeps_the_latest_and_numbers_them_for_ever(ledger_at: Location) -> None:
    def event(n: int) -> EventRecord:
        return EventRecord(time=T0 + n, kind=EventKind.SESSION_UP, text=f"up {n}",
                           subscriber="alice")  # fmt: skip

    with Ledger.open_writer(ledger_at) as ledger, ledger.batch():
        added = ledger.records.add_events([event(n) for n in range(5)], keep=3)
    assert [e.seq for e in added] == [1, 2, 3, 4, 5]
    reader = Ledger.open_reader(ledger_at)
    assert [(e.seq, e.text) for e in reader.records.events()] == [(3, "up 2"), (4, "up 3"),
                                                                  (5, "up 4")]  # fmt: skip
    assert [e.seq for e in reader.records.events(since=4)] == [5]
    with Ledger.open_writer(ledger_at) as ledger, ledger.batch():
        (later,) = ledger.records.add_events([event(9)], keep=3)
    assert later.seq == 6  # after a restart too, the numbers only grow


def test_sessions_and_devices_are_kept_as_written(ledger_at: Location) -> None:
    session = SessionRecord(subscriber="alice", online=True, access_server="bras",
                            interface="<pppoe-alice>", addresses=("100.64.0.9",), since=T0,
                            seen=T0 + 300)  # fmt: skip
    with Ledger.open_writer(ledger_at) as ledger, ledger.batch():
        ledger.records.set_sessions([session])
    assert Ledger.open_reader(ledger_at).records.sessions() == [session]


def test_old_records_are_read_with_their_state_and_reason_typed(old_ledger: Path) -> None:
    reader = Ledger.open_reader(old_ledger)
    standings = {r.subscriber: r for r in reader.records.standings()}
    assert {name: r.state for name, r in standings.items()} == {
        "alice": State.LIMITED, "bob": State.EXEMPT, "carol": State.LIMITED,
        "dave": State.EXEMPT, "erin": State.FORCED, "frank": State.STEPPED,
        "gina": State.STEPPED,
    }  # fmt: skip
    assert standings["gina"].reason == Reason(ReasonKind.OVER, "", 80.0, 820_000, 1_000_000)
    assert standings["carol"].reason == Reason(ReasonKind.OVER, "1h", None, 1_200_000, 10**6)
    assert [c.state for c in standings["carol"].caps] == [State.LIMITED, State.OK]
    assert standings["bob"].reason == Reason(ReasonKind.EXEMPT, note="the mayor's office")
    assert standings["alice"].check is not None and standings["alice"].check.flagged
    overrides = reader.records.overrides()
    assert [(o.kind, o.cap, o.author) for o in overrides] == [
        ("exempt", None, None), ("force", None, None), ("topup", "1d", None),
        ("exempt", None, None)]  # fmt: skip
    (provisioned,) = reader.records.provisioned()
    assert (provisioned.name, provisioned.plan) == ("frank", "home")
    plans = reader.records.plans()
    assert [len(p.caps) for p in plans] == [2, 0] and {p.plan for p in plans} == {None}
    health = reader.records.health()
    assert health is not None and health.not_effective == ("alice",)
    assert [limit.subscriber for limit in reader.limits()] == [
        "alice", "carol", "erin", "frank", "gina"]  # fmt: skip


def test_the_first_writer_rewrites_old_records_once_losing_nothing(old_ledger: Path) -> None:
    reader = Ledger.open_reader(old_ledger)
    kinds = ("subscribers", "plans", "provisioned", "overrides", "standings", "limits")
    before = {kind: getattr(reader.records, kind)() for kind in kinds}
    health = reader.records.health()
    with Ledger.open_writer(old_ledger):
        pass
    stored = json.loads((old_ledger / "state.json").read_text())
    for kind in (*kinds, "daemon"):
        assert stored[kind] and all(doc["version"] == 1 for doc in stored[kind].values()), kind
    assert [stored["ledger"]["1"]["format"]] == [2]
    after = Ledger.open_reader(old_ledger)
    assert {kind: getattr(after.records, kind)() for kind in kinds} == before
    assert after.records.health() == health


def test_every_override_has_an_id_that_a_rewrite_and_a_migration_keep(old_ledger: Path) -> None:
    # The records predate ids (and versions): they get one all the same.
    before = [o.id for o in Ledger.open_reader(old_ledger).records.overrides()]
    assert len(set(before)) == 4
    assert all(len(id_) == 8 and int(id_, 16) >= 0 for id_ in before)
    with Ledger.open_writer(old_ledger):  # migrates them to version 1 on disk
        pass
    assert [o.id for o in Ledger.open_reader(old_ledger).records.overrides()] == before


def test_an_overrides_id_names_what_it_says(ledger_at: Location) -> None:
    topup = OverrideRecord(subscriber="alice", kind="topup", reason="bought", since=T0,
                           bytes=10**9, cap="1d", author="noc")  # fmt: skip
    with Ledger.open_writer(ledger_at) as ledger, ledger.batch():
        ledger.records.set_overrides([topup])
    (stored,) = Ledger.open_reader(ledger_at).records.overrides()
    assert stored.id == topup.id
    # Any field that differs, a different override: a different id.
    others = [replace(topup, subscriber="bob"), replace(topup, kind="exempt", bytes=0),
              replace(topup, reason="gift"), replace(topup, since=T0 + 1),
              replace(topup, until=T0 + 60), replace(topup, bytes=2 * 10**9),
              replace(topup, cap=None), replace(topup, author=None)]  # fmt: skip
    assert len({topup.id, *(other.id for other in others)}) == 1 + len(others)


@pytest.mark.parametrize(
    ("text", "step_at", "expected"),
    [
        ("", None, None),
        ("over cap: 5 of 4 bytes", None, {"kind": "over", "cap_name": "", "step_at": None,
                                          "used": 5, "cap": 4}),
        ("over 80% of cap 1d: 5 of 6 bytes", 80.0, {"kind": "over", "cap_name": "1d",
                                                    "step_at": 80.0, "used": 5, "cap": 6}),
        ("over 33.3333% of cap: 5 of 6 bytes", 100 / 3, {"kind": "over", "cap_name": "",
                                                         "step_at": 100 / 3, "used": 5,
                                                         "cap": 6}),
        ("forced: ticket: 17", None, {"kind": "forced", "note": "ticket: 17"}),
        ("exempt: the mayor", None, {"kind": "exempt", "note": "the mayor"}),
    ],
)  # fmt: skip
def test_old_reason_texts_are_read_back_into_their_parts(
    text: str, step_at: float | None, expected: dict | None
) -> None:
    assert reason_of(text, step_at) == expected


def test_an_old_reason_text_of_another_shape_is_an_error() -> None:
    with pytest.raises(MigrationError, match="never wrote"):
        reason_of("63.0 MB in 1w")


def test_a_migrated_ledger_is_marked_so_that_an_older_nmsquota_refuses_it(old_ledger: Path) -> None:
    # nmsquota before typed records checked `format == 1` and refused anything else by name:
    # marking the migrated ledger 2 is what keeps it from misreading the new records.
    assert json.loads((old_ledger / "state.json").read_text())["ledger"]["1"]["format"] == 1
    with Ledger.open_writer(old_ledger):
        pass
    assert json.loads((old_ledger / "state.json").read_text())["ledger"]["1"]["format"] == 2
    assert Ledger.open_reader(old_ledger).records.health() is not None


def test_a_kind_written_leaves_state_json_as_tinydb_would_and_inserts_go_on_after_it(
    ledger_dir: Path, tmp_path: Path
) -> None:
    # The store sets a kind's table in one step; the file is what TinyDB's truncate() and
    # insert_multiple() made of it (ids 1 to n), and a later single insert takes id n + 1,
    # not the one TinyDB counted to before the table was set.
    from tinydb import TinyDB

    from nmsquota.ledger.codec import LIMITS
    from nmsquota.ledger.records import Limit

    def limit(name: str) -> Limit:
        return Limit(subscriber=name, since=T0, reason="over", driver="sim")

    first, three, last = limit("first"), [limit(f"s{n}") for n in range(3)], limit("last")
    with Ledger.open_writer(ledger_dir, [Tally(86400)]) as ledger:
        ledger.records.set_limit(first)
        ledger.records.set_limits(three)
        ledger.records.set_limit(last)
        assert ledger.records.limits() == [*three, last]
    stored = json.loads((ledger_dir / "state.json").read_text())["limits"]

    def doc(record: Limit) -> Any:
        return LIMITS.adapter.dump_python([record], mode="json")[0]

    with TinyDB(tmp_path / "tiny.json") as tiny:
        table = tiny.table("limits")
        table.insert(doc(first))
        table.truncate()
        table.insert_multiple([doc(record) for record in three])
        table.insert(doc(last))
    assert list(stored) == ["1", "2", "3", "4"]
    assert stored == json.loads((tmp_path / "tiny.json").read_text())["limits"]
    assert Ledger.open_reader(ledger_dir).records.limits() == [*three, last]


def test_a_rewrite_dumps_only_the_records_it_did_not_write_before_and_writes_them_all(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The daemon rewrites every subscriber's standing, session and event tables each cycle,
    # and few records change: the same record object is the same document, dumped once.
    from nmsquota.ledger.codec import SESSIONS

    def session(name: str, seen: int) -> SessionRecord:
        return SessionRecord(subscriber=name, online=False, access_server="bras", seen=seen)

    dumped: list[str] = []
    dump = SESSIONS.adapter.dump_python

    def counting(records: list[SessionRecord], **options: Any) -> Any:
        dumped.extend(record.subscriber for record in records)
        return dump(records, **options)

    monkeypatch.setattr(SESSIONS.adapter, "dump_python", counting)
    kept = [session(f"s{n}", T0) for n in range(4)]
    with Ledger.open_writer(ledger_dir) as ledger:
        with ledger.batch():
            ledger.records.set_sessions(kept)
        assert dumped == ["s0", "s1", "s2", "s3"]
        dumped.clear()
        # s1 moved (a new record); s0, s2 and s3 are the same objects; s4 is new.
        again = [kept[0], session("s1", T0 + 300), kept[2], kept[3], session("s4", T0)]
        # An equal record that is another object is dumped too: only identity is trusted.
        again[3] = session("s3", T0)
        with ledger.batch():
            ledger.records.set_sessions(again)
        assert dumped == ["s1", "s3", "s4"]
    stored = json.loads((ledger_dir / "state.json").read_text())["sessions"]
    assert stored == {str(n): doc for n, doc in
                      enumerate(dump(again, mode="json"), start=1)}  # fmt: skip
    assert Ledger.open_reader(ledger_dir).records.sessions() == again


def test_the_documents_kept_for_rewrites_are_bounded_by_what_is_written(ledger_dir: Path) -> None:
    # The event log slides and standings change: the records no longer written are
    # forgotten, so a daemon running for months holds a bounded number of them.
    def event(n: int) -> EventRecord:
        return EventRecord(time=T0 + n, kind=EventKind.SESSION_UP, text=f"up {n}")

    with Ledger.open_writer(ledger_dir) as ledger:
        for n in range(500):
            with ledger.batch():
                ledger.records.add_events([event(n)], keep=10)
        assert len(ledger.records._written["events"]) <= 2 * 10 + 64
        assert [e.text for e in ledger.records.events()] == [f"up {n}" for n in range(490, 500)]
    assert [e.seq for e in Ledger.open_reader(ledger_dir).records.events()] == list(range(491, 501))
