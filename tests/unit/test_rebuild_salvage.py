"""`nmsquota rebuild` on a state.json that does not read (issue 19): it keeps every table of
it that still reads (overrides, limits in force, standings, the event log, counter
baselines...), moves the file aside rather than losing it, says what it could not keep and
what that costs; and the error that sends an operator to rebuild says so first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.ledger import Ledger, Limit, Sample, Tally, Totals
from nmsquota.ledger.records import EventKind, EventRecord, OverrideRecord

T0 = 1_800_000_000
DAY = Tally(86400)


def build(directory: Path, commits: int = 3) -> None:
    """Three cycles of alice and bob, with what the daemon and the operator keep beside
    them: a force override, a limit in force, an event, the poller's baselines."""
    with Ledger.open_writer(directory, [DAY]) as ledger:
        for n in range(commits):
            with ledger.batch():
                ledger.commit(T0 + n * 300, [Sample("alice", T0 + n * 300, 1000, 1),
                                             Sample("bob", T0 + n * 300, 10, 1)])  # fmt: skip
                ledger.set_counter_state("bras", {"alice": n})
        with ledger.batch():
            ledger.records.set_overrides([OverrideRecord(subscriber="bob", kind="force",
                                                         reason="abuse", since=T0)])  # fmt: skip
            ledger.set_limit(Limit("bob", T0, "forced: abuse", "nftables", 3000))
            ledger.records.add_events([EventRecord(time=T0, kind=EventKind.OVERRIDE,
                                                   text="force bob: abuse")])  # fmt: skip


def damage(state: Path, table: str) -> bytes:
    """state.json with one table's value broken mid-way (as a bad sector or a bad edit
    would), every other table whole. Returns the damaged bytes."""
    text = state.read_text()
    key = json.dumps(table) + ":"
    assert key in text
    broken = text.replace(key, key + '{"1":{"seq":', 1).encode()
    state.write_bytes(broken)
    return broken


def rebuild(capsys: pytest.CaptureFixture[str], directory: Path) -> tuple[int, list[str]]:
    status = main(["rebuild", "--ledger", str(directory)], clock=ManualClock(T0 + 900))
    return status, capsys.readouterr().err.splitlines()


def test_the_advice_for_an_unreadable_state_json_says_what_rebuild_keeps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    damage(directory / "state.json", "events")
    status = main(["usage", "--ledger", str(directory)], clock=ManualClock(T0 + 900))
    err = capsys.readouterr().err
    assert status == 1 and len(err.splitlines()) == 1
    assert "is not valid JSON" in err
    assert ("run `nmsquota rebuild`: it moves this file aside, recounts every window from "
            "the usage files, and keeps of this file every table that still reads (overrides, "
            "limits in force, standings, the event log, counter baselines, provisioned "
            "subscribers); it lists what it could not keep and what that costs") in err  # fmt: skip


def test_rebuild_keeps_every_table_that_still_reads_and_lists_the_one_lost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    broken = damage(directory / "state.json", "events")
    status, lines = rebuild(capsys, directory)
    assert status == 0
    (aside,) = directory.glob("state.json.unreadable-*")
    assert aside.read_bytes() == broken  # kept for the operator, as it was
    assert lines[0] == f"state.json is not valid JSON ({lines[0].split('(', 1)[1]}"
    assert lines[0].endswith(f"; moved to {aside}")
    assert lines[1].startswith("kept: ")
    for kept in ("overrides (force, exempt, top-ups) (1)", "limits in force (1)",
                 "the poller's counter baselines (1)"):  # fmt: skip
        assert kept in lines[1]
    assert lines[2] == ("lost: the event log (not in the part of the file that still reads): "
                        "the log starts empty")  # fmt: skip
    ledger = Ledger.open_reader(directory)
    assert [(o.subscriber, o.kind) for o in ledger.records.overrides()] == [("bob", "force")]
    assert [(lim.subscriber, lim.rate_bps) for lim in ledger.limits()] == [("bob", 3000)]
    assert ledger.counter_state("bras") == {"alice": 2}
    assert ledger.records.events() == []
    assert ledger.totals(DAY) == {"alice": Totals(3000, 3), "bob": Totals(30, 3)}


def test_a_kind_of_record_that_does_not_validate_is_the_only_one_lost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    state = directory / "state.json"
    data = json.loads(state.read_text())
    data["overrides"]["1"]["since"] = "yesterday"
    state.write_text(json.dumps(data))
    status, lines = rebuild(capsys, directory)
    assert status == 0
    assert lines[0].startswith("state.json holds overrides records nmsquota cannot read")
    assert [line for line in lines if line.startswith("lost: ")] == [
        "lost: overrides (force, exempt, top-ups) (record 1 (bob): since: Input should be a "
        "valid integer): set them again"
    ]
    ledger = Ledger.open_reader(directory)
    assert ledger.records.overrides() == []  # readable again: the daemon can start
    assert [lim.subscriber for lim in ledger.limits()] == ["bob"]
    assert [event.text for event in ledger.records.events()] == ["force bob: abuse"]


def test_baselines_older_than_the_usage_files_are_not_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    older = (directory / "state.json").read_bytes()
    with Ledger.open_writer(directory, [DAY]) as ledger:
        ledger.commit(T0 + 900, [Sample("alice", T0 + 900, 5, 0)])
    # A state.json restored from before the last commit, and damaged besides.
    (directory / "state.json").write_bytes(older)
    damage(directory / "state.json", "events")
    status, lines = rebuild(capsys, directory)
    assert status == 0
    assert ("lost: the poller's counter baselines (older than the usage files' last commit): "
            "the bytes between the last commit and the daemon's next poll are not "
            "counted") in lines  # fmt: skip
    ledger = Ledger.open_reader(directory)
    assert ledger.counter_state("bras") == {}
    assert ledger.totals(DAY)["alice"] == Totals(3005, 3)


def test_a_state_json_cut_short_keeps_the_tables_before_the_cut(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    state = directory / "state.json"
    text = state.read_text()
    cut = text.index('"events":')
    state.write_text(text[: cut + 20])
    status, lines = rebuild(capsys, directory)
    assert status == 0
    tables = json.loads(text)
    before = list(tables)[: list(tables).index("events")]
    ledger = Ledger.open_reader(directory)
    assert ("overrides" in before) == (ledger.records.overrides() != [])
    assert ledger.totals(DAY)["alice"] == Totals(3000, 3)
    assert any(line.startswith("lost: the event log") for line in lines)


def test_a_missing_state_json_is_rebuilt_and_the_advice_and_report_say_what_is_lost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    build(directory)
    (directory / "state.json").unlink()
    status = main(["import", "--ledger", str(directory), "/dev/null"], clock=ManualClock(T0))
    err = capsys.readouterr().err
    assert status == 1 and "is missing, but" in err
    assert ("what only state.json held is lost (overrides, limits in force, standings, the "
            "event log, counter baselines, provisioned subscribers), unless a copy is "
            "restored instead") in err  # fmt: skip
    status, lines = rebuild(capsys, directory)
    assert status == 0
    assert lines[:2] == ["state.json was missing", "kept: nothing but the usage files"]
    assert "lost: overrides (force, exempt, top-ups) (no state.json): set them again" in lines
    week = Tally(7 * 86400)  # no window recorded and no configuration: the paper's week
    assert Ledger.open_reader(directory).totals(week)["bob"] == Totals(30, 3)
