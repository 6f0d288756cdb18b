"""Saturation you can see: the cycle's CPU, walks queued, devices answered, skipped and failed
by cause, in the read API and `status`, which warns when a cycle overran or skipped devices
(issue 27). On a copy of the data directory written before the read API."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.ledger import Ledger
from nmsquota.standings import Reader

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
NOW = T0 + 12 * 300 + 60


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


def a_cycle(data: Path, **load: object) -> None:
    """The fixture's last cycle, healthy but for what `load` says."""
    with Ledger.open_writer(data / "ledger") as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None
        drivers = {name: replace(d, errors=(), installed=()) for name, d in health.drivers.items()}
        healthy = {"drivers": drivers, "devices_failed": {}, "not_effective": ()}
        ledger.records.set_health(replace(health, **{**healthy, **load}))


def status(data: Path, *more: str) -> list[str]:
    return ["-c", str(data / "nmsquota.toml"), "status", "--tz", "UTC",
            "--ledger", str(data / "ledger"), *more]  # fmt: skip


MEASURED = {"cpu": 41.5, "queued": 12, "device_cost": 0.9, "capacity": 333}


def test_status_says_what_the_poll_cost_and_how_many_devices_the_machine_can_poll(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_cycle(data, **MEASURED, devices_ok=("bras1", "bras2"))
    assert main(status(data), clock=ManualClock(NOW)) == 0
    out = capsys.readouterr().out
    assert ("load: 41.5s CPU, 12 walks queued; 2 answered, 0 skipped for load, 0 failed; "
            "at 0.90s CPU a device, this machine polls about 333 devices of this size per "
            "300s interval\n") in out  # fmt: skip
    assert "WARNING" not in out


def test_status_warns_of_devices_skipped_for_load_and_counts_failures_by_cause(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_cycle(data, **MEASURED, devices_ok=("bras1",), devices_skipped=("bras4", "bras5"),
            devices_failed={"bras2": "bras2: walk not finished within 30s",
                            "bras3": "bras3: No SNMP response received before timeout"},
            causes={"bras2": "deadline", "bras3": "timeout"})  # fmt: skip
    assert main(status(data), clock=ManualClock(NOW)) == 1
    out = capsys.readouterr().out
    assert "  bras2 (deadline): bras2: walk not finished within 30s\n" in out
    assert "1 answered, 2 skipped for load, 2 failed (1 deadline, 1 timeout)" in out
    assert ("WARNING: 2 access servers skipped for load (polled first in the next cycle; "
            "their bytes are charged then): bras4, bras5\n") in out  # fmt: skip
    assert main(status(data, "--json"), clock=ManualClock(NOW)) == 1
    load = json.loads(capsys.readouterr().out)["cycle"]["load"]
    assert load["skipped"] == ["bras4", "bras5"]
    assert load["failed_by"] == {"deadline": 1, "timeout": 1}
    assert load["cpu"] == 41.5 and load["queued"] == 12 and load["capacity"] == 333


def test_status_warns_of_a_cycle_that_overran_its_interval(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_cycle(data, **MEASURED, seconds=340.0)
    assert main(status(data), clock=ManualClock(NOW)) == 1
    assert (
        "WARNING: the cycle took 340s, longer than its 300s interval\n" in capsys.readouterr().out
    )


def test_the_read_api_shows_the_cycle_s_load(data: Path) -> None:
    a_cycle(data, **MEASURED, devices_skipped=("bras4",), causes={"bras2": "timeout"},
            devices_failed={"bras2": "no answer"})  # fmt: skip
    cycle = Reader.open(data / "ledger", None).snapshot().cycle
    assert cycle is not None
    assert cycle.devices_skipped == ("bras4",) and cycle.overloaded and not cycle.overran
    assert cycle.failed_by() == {"timeout": 1}
    assert (cycle.cpu, cycle.queued, cycle.capacity) == (41.5, 12, 333)
