"""Reading a ledger quickly (issue 20: the console reads 100,000 subscribers every cycle)
without reading it any less carefully: a refresh reads again only the files the writer
replaced, and still sees every change; the fast JSON parser reads exactly what json reads;
what does not fit is still refused with the file and the kind named."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from nmsquota import gcpause
from nmsquota.ledger import Ledger, LedgerCorrupt, LedgerRecordError, Sample, Tally, Totals
from nmsquota.ledger import storage as storage_module
from nmsquota.ledger.records import HealthRecord, SubscriberRecord
from nmsquota.ledger.shards import SHARD_SECONDS, shard_name
from nmsquota.ledger.storage import read_json

T0 = 1_800_000_000 - 1_800_000_000 % SHARD_SECONDS  # the start of an hour
DAY = Tally(86400)


def commit(directory: Path, now: int, **usage: int) -> None:
    with Ledger.open_writer(directory, [DAY]) as ledger:
        ledger.commit(now, [Sample(name, now, used, 0) for name, used in usage.items()])


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files read from now on."""
    names: list[str] = []
    real = storage_module.read_json

    def counted(path: Path) -> object:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(storage_module, "read_json", counted)
    return names


def test_a_refresh_reads_again_only_the_usage_files_the_writer_replaced(
    ledger_dir: Path, reads: list[str]
) -> None:
    commit(ledger_dir, T0 + 300, alice=100)
    commit(ledger_dir, T0 + SHARD_SECONDS + 300, alice=10)
    reader = Ledger.open_reader(ledger_dir)
    assert sum(s.bytes_in for s in reader.samples()) == 110
    reads.clear()
    commit(ledger_dir, T0 + SHARD_SECONDS + 600, alice=1)  # the second hour's file only
    reads.clear()
    reader.refresh()
    samples = list(reader.samples())
    assert [s.bytes_in for s in samples] == [100, 10, 1]
    assert reader.totals(DAY) == {"alice": Totals(111, 0)}
    # The first hour's file was not replaced: what was read of it stands.
    assert shard_name(T0) not in reads
    assert reads.count(shard_name(T0 + SHARD_SECONDS)) == 1


def test_a_refresh_sees_an_hour_file_deleted_behind_it(ledger_dir: Path) -> None:
    commit(ledger_dir, T0 + 300, alice=100)
    commit(ledger_dir, T0 + SHARD_SECONDS + 300, alice=10)
    reader = Ledger.open_reader(ledger_dir)
    assert len(list(reader.samples())) == 2
    (ledger_dir / "usage" / shard_name(T0)).unlink()  # as a prune beside the daemon does
    commit(ledger_dir, T0 + SHARD_SECONDS + 600)
    reader.refresh()
    assert [s.bytes_in for s in reader.samples()] == [10]


def test_a_refresh_with_no_new_commit_reads_nothing(ledger_dir: Path, reads: list[str]) -> None:
    commit(ledger_dir, T0 + 300, alice=100)
    reader = Ledger.open_reader(ledger_dir)
    list(reader.samples())
    reads.clear()
    reader.refresh()
    assert list(reader.samples()) == [Sample("alice", T0 + 300, 100, 0)]
    assert reads == []


def write_state(directory: Path, text: str) -> None:
    (directory / "state.json").write_text(text)


def test_a_count_beyond_64_bits_is_read_as_the_integer_it_is(ledger_dir: Path) -> None:
    # The fast parser would make it a float (and the record then unreadable): json reads it.
    commit(ledger_dir, T0 + 300, alice=100)
    path = ledger_dir / "state.json"
    data = json.loads(path.read_text())
    data["tallies"]["1"]["totals"]["alice"] = [2**70, 0]
    path.write_text(json.dumps(data))
    assert Ledger.open_reader(ledger_dir).totals(DAY) == {"alice": Totals(2**70, 0)}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN, "b": Infinity}',  # json's extensions, which the writer may write
        '{"a": "\\ud800"}',  # a lone surrogate
        '{"a": 1.5e308, "b": -0.0, "c": 5e-324, "d": 0.1, "e": 12345678901234567890123}',
        '{"a": 1, "a": 2}',  # the last one wins
    ],
)
def test_the_ledger_files_parse_exactly_as_json_parses_them(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(text)
    got, expected = read_json(path), json.loads(text)
    assert repr(got) == repr(expected)  # repr: 1 and 1.0 and True differ


@pytest.mark.parametrize("text", ['{"a": 1', "[1, 2", "\xff\xfe", '{"a": 1} x'])
def test_a_file_that_does_not_parse_is_named_with_json_s_reason(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(LedgerCorrupt) as refused:
        read_json(path)
    assert str(path) in str(refused.value) and "is not valid JSON" in str(refused.value)


def test_a_document_that_is_not_a_record_is_refused_naming_the_file_and_the_kind(
    ledger_dir: Path,
) -> None:
    with Ledger.open_writer(ledger_dir, [DAY]) as ledger, ledger.batch():
        ledger.records.set_provisioned([SubscriberRecord(name="bob", plan="home")])
    path = ledger_dir / "state.json"
    data = json.loads(path.read_text())
    data["provisioned"]["2"] = ["not", "a", "record"]
    path.write_text(json.dumps(data))
    with pytest.raises(LedgerRecordError) as refused:
        Ledger.open_reader(ledger_dir).records.provisioned()
    assert refused.value.kind == "provisioned"
    assert f"ledger file {path} holds provisioned records" in str(refused.value)
    assert "record 2: it is not a record" in str(refused.value)


def test_a_reader_refreshed_onto_a_spoilt_record_refuses_it(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [DAY]) as ledger, ledger.batch():
        ledger.records.set_health(HealthRecord(
            number=1, started=T0, due=T0, seconds=1.0, devices_failed={}, drivers={}))  # fmt: skip
    reader = Ledger.open_reader(ledger_dir)
    assert reader.records.health() is not None
    path = ledger_dir / "state.json"
    data = json.loads(path.read_text())
    data["daemon"]["1"]["number"] = True  # equal to 1 in Python, not a number in a record
    path.write_text(json.dumps(data) + " ")  # a new size: the file was replaced
    reader.refresh()
    with pytest.raises(LedgerRecordError, match="daemon"):
        reader.records.health()


def test_the_collector_is_left_as_it_was_found() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block did not turn it back on
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # someone else turned it off: it stays off
    finally:
        gc.enable()
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError
    assert gc.isenabled()


def provision(directory: Path, *records: SubscriberRecord) -> None:
    with Ledger.open_writer(directory, [DAY]) as ledger, ledger.batch():
        ledger.records.set_provisioned(records)


def test_a_refresh_onto_a_commit_that_left_a_kind_as_it_was_keeps_its_records(
    ledger_dir: Path,
) -> None:
    provision(ledger_dir, SubscriberRecord(name="bob", plan="home"))
    reader = Ledger.open_reader(ledger_dir)
    before = reader.records.provisioned()
    commit(ledger_dir, T0 + 300, bob=5)  # usage only: the provisioned table is unchanged
    reader.refresh()
    assert reader.as_of == T0 + 300
    assert reader.records.provisioned()[0] is before[0]  # not validated again


def test_a_refresh_onto_a_changed_record_reads_the_change(ledger_dir: Path) -> None:
    provision(ledger_dir, SubscriberRecord(name="bob", plan="home"))
    reader = Ledger.open_reader(ledger_dir)
    assert reader.records.provisioned()[0].plan == "home"
    provision(ledger_dir, SubscriberRecord(name="bob", plan="gold"))
    reader.refresh()
    assert reader.records.provisioned() == [SubscriberRecord(name="bob", plan="gold")]


def test_a_refresh_onto_a_record_spoilt_with_an_equal_value_of_another_type_refuses_it(
    ledger_dir: Path,
) -> None:
    # In Python False == 0 and 1 == 1.0 == True: the documents compare equal, but the
    # record wants a boolean (exempt) and a count (version), exactly.
    provision(ledger_dir, SubscriberRecord(name="bob", plan="home"))
    reader = Ledger.open_reader(ledger_dir)
    reader.records.provisioned()
    path = ledger_dir / "state.json"
    for field, value in (("exempt", 0), ("version", 1.0)):
        data = json.loads(path.read_text())
        data["provisioned"]["1"] = {**data["provisioned"]["1"], field: value}
        path.write_text(json.dumps(data) + " " * len(field))  # a new size: replaced
        reader.refresh()
        with pytest.raises(LedgerRecordError, match=f"provisioned.*{field}"):
            reader.records.provisioned()
        provision(ledger_dir, SubscriberRecord(name="bob", plan="home"))
        reader.refresh()
        assert reader.records.provisioned() == [SubscriberRecord(name="bob", plan="home")]
