"""`nmsquota snmp-extend`: the envelope LibreNMS reads through Net-SNMP `extend`, one line
of JSON whose `data` is an object even when the ledger cannot be read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.standings import Reader

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
NOW = T0 + 12 * 300 + 60


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


def extend(data: Path, capsys: pytest.CaptureFixture[str], ledger: str = "ledger",
           config: Path | None = None) -> tuple[int, dict[str, object]]:  # fmt: skip
    argv = ["-c", str(config or data / "nmsquota.toml"), "snmp-extend",
            "--ledger", str(data / ledger)]  # fmt: skip
    status = main(argv, clock=ManualClock(NOW))
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one line: snmpd's extend hands LibreNMS every line"
    return status, json.loads(out)


def test_the_envelope_carries_the_counts_the_cycle_and_each_driver(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, found = extend(data, capsys)
    snap = Reader.open(data / "ledger", load_config(data / "nmsquota.toml")).snapshot()
    cycle = snap.cycle
    assert status == 0 and cycle is not None
    assert (found["version"], found["error"], found["errorString"]) == (1, 0, "")
    got = found["data"]
    assert isinstance(got, dict)
    assert got["subscribers"] == len(snap.subscribers)
    assert got["limited"] == len(snap.limited) == 5
    assert got["stepped"] == 2 and got["not_effective"] == 1
    assert got["cycle"] == {
        "recorded": 1, "number": cycle.number, "age": round(NOW - cycle.started, 3),
        "duration": round(cycle.seconds, 3), "lateness": round(cycle.lateness, 3),
        "stale": 0, "devices_ok": len(cycle.devices_ok),
        "devices_failed": len(cycle.devices_failed), "devices_skipped": 0,
    }  # fmt: skip
    assert got["drivers"] == {
        driver.name: {"health": driver.health, "ok": int(driver.ok),
                      "errors": len(driver.errors), "repairs": len(driver.drift),
                      "not_effective": len(driver.not_effective)}
        for driver in cycle.drivers
    }  # fmt: skip
    assert got["drivers"]["shaper"]["health"] == "failing"


def test_no_ledger_is_error_1_with_an_empty_data_object(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, found = extend(data, capsys, ledger="elsewhere")
    assert status == 1
    assert found["error"] == 1 and found["data"] == {}
    assert "no ledger" in str(found["errorString"])


def test_a_corrupt_ledger_is_error_2_with_the_reason(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data / "ledger" / "state.json").write_text("{ not json")
    status, found = extend(data, capsys)
    assert status == 1
    assert found["error"] == 2 and found["data"] == {}
    assert "state.json" in str(found["errorString"])


def test_a_ledger_file_it_cannot_read_is_error_2(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Unreadable even for root (the tests run as root in CI, which reads any mode).
    (data / "ledger" / "state.json").unlink()
    (data / "ledger" / "state.json").mkdir()
    status, found = extend(data, capsys)
    assert status == 1 and found["error"] == 2 and found["data"] == {}
    assert "state.json" in str(found["errorString"])


def test_a_bad_configuration_is_error_3_naming_the_file(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = data / "bad.toml"
    bad.write_text('interval = "soon"\n')
    status, found = extend(data, capsys, config=bad)
    assert status == 1
    assert found["error"] == 3 and found["data"] == {}
    assert str(bad) in str(found["errorString"]) and "interval" in str(found["errorString"])
