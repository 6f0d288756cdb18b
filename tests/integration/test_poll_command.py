"""`nmsquota poll --once` against a real snmpd and a silent agent, through each transport
(the access servers' `transport` key, from the `transport` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig, access_server

from nmsquota.cli import main
from nmsquota.clock import ManualClock


def access_servers(live: int, silent: int, transport: str = "pysnmp") -> dict[str, dict]:
    """bras1 on a live agent; mute on one that never answers, given up on quickly."""
    return {
        "bras1": access_server(live, interfaces={"lo": "alice"}, transport=transport),
        "mute": access_server(silent, timeout="1s", retries=0, deadline="3s", transport=transport),
    }


def test_poll_once_shows_each_device_and_reports_a_dead_one(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config_file: WriteConfig,
    snmpd_loopback: int,
    silent_agent: int,
    transport: str,
) -> None:
    config = config_file(access_servers=access_servers(snmpd_loopback, silent_agent, transport))
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
    assert "No SNMP response" in devices["mute"]["error"]
    assert not ledger.exists()  # poll --once writes nothing

    status = main(
        ["-c", str(config), "poll", "--once", "--device", "bras1", "--ledger", str(ledger)]
    )
    table = capsys.readouterr().out.splitlines()
    assert status == 0
    assert table[0].split()[:3] == ["DEVICE", "INTERFACE", "SUBSCRIBER"]
    assert table[1].split()[:3] == ["bras1", "lo", "alice"]


def test_poll_names_an_unknown_device(
    capsys: pytest.CaptureFixture[str], config_file: WriteConfig
) -> None:
    config = config_file(access_servers=access_servers(161, 162))
    status = main(["-c", str(config), "poll", "--once", "--device", "bras9"])
    assert status == 2
    assert "no access server named 'bras9' (bras1, mute)" in capsys.readouterr().err
