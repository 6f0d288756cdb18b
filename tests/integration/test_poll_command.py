"""`nmsquota poll --once` against a real snmpd and a silent agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nmsquota.cli import main
from nmsquota.clock import ManualClock


def write_config(tmp_path: Path, live: int, silent: int) -> Path:
    path = tmp_path / "nmsquota.toml"
    path.write_text(
        f"""
[access_servers.bras1]
host = "127.0.0.1"
port = {live}
interfaces = {{ lo = "alice" }}

[access_servers.mute]
host = "127.0.0.1"
port = {silent}
timeout = "1s"
retries = 0
deadline = "3s"
"""
    )
    return path


def test_poll_once_shows_each_device_and_reports_a_dead_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snmpd_loopback: int, silent_agent: int
) -> None:
    config = write_config(tmp_path, snmpd_loopback, silent_agent)
    ledger = tmp_path / "none"
    status = main(
        ["-c", str(config), "poll", "--once", "--json", "--ledger", str(ledger)],
        clock=ManualClock(1e9),
    )
    out = capsys.readouterr().out
    assert status == 1  # one access server could not be read
    devices = {device["name"]: device for device in json.loads(out)}
    (row,) = devices["bras1"]["rows"]
    assert (row["interface"], row["subscriber"], row["verdict"]) == ("lo", "alice", "baseline")
    assert isinstance(row["octets_out"], int) and row["width"] == 64
    assert "mute (127.0.0.1" in devices["mute"]["error"]
    assert not ledger.exists()  # poll --once writes nothing

    status = main(
        ["-c", str(config), "poll", "--once", "--device", "bras1", "--ledger", str(ledger)]
    )
    table = capsys.readouterr().out.splitlines()
    assert status == 0
    assert table[0].split()[:3] == ["DEVICE", "INTERFACE", "SUBSCRIBER"]
    assert table[1].split()[:3] == ["bras1", "lo", "alice"]


def test_poll_names_an_unknown_device(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, 161, 162)
    status = main(["-c", str(config), "poll", "--once", "--device", "bras9"])
    assert status == 2
    assert "no access server named 'bras9' (bras1, mute)" in capsys.readouterr().err
