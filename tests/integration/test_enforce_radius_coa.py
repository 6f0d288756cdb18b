"""The radius_coa driver against a real RADIUS peer (pyrad's server) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_udp_port

from nmsquota.enforcement.driver import DriverError, Limit, make_driver
from nmsquota.enforcement.reconcile import Enforcer

HERE = Path(__file__).resolve().parent
SECRET = "nas-secret"


@pytest.fixture
def nas(tmp_path: Path):
    log = tmp_path / "coa.jsonl"
    port = free_udp_port()
    process = subprocess.Popen([sys.executable, str(HERE / "radius_nas.py"), str(port), SECRET,
                                str(log)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield port, log
    finally:
        process.kill()
        process.wait(timeout=10)


def requests(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def mikrotik(port: int, tmp_path: Path, **options: object):
    return make_driver("nas1", "radius_coa", {
        "host": "127.0.0.1", "port": port, "secret": SECRET, "timeout": 0.5, "retries": 1,
        "apply": {"Mikrotik-Rate-Limit": "{rate_kbit}k/{rate_kbit}k"},
        "lift": {"Mikrotik-Rate-Limit": "100M/100M"},
        "state_file": str(tmp_path / "coa-state.json"), **options,
    })  # fmt: skip


def test_apply_and_lift_per_session_with_vendor_attributes(nas, tmp_path: Path) -> None:
    port, log = nas
    driver = mikrotik(port, tmp_path)
    alice = Limit("alice", ("10.0.0.7",), rate_bps=64_000, session="81a0001f")
    driver.add([alice])
    assert driver.installed() == [alice]
    # A restart remembers what the NAS was told (it cannot be asked).
    assert mikrotik(port, tmp_path).installed() == [alice]
    # A step to another rate is one CoA with the new rate, with no lift between.
    slower = Limit("alice", ("10.0.0.7",), rate_bps=3_000, session="81a0001f")
    Enforcer(driver).cycle([slower])
    assert driver.installed() == [slower]
    driver.remove([slower])
    assert driver.installed() == []
    assert requests(log) == [
        {"User-Name": ["alice"], "Acct-Session-Id": ["81a0001f"],
         "Mikrotik-Rate-Limit": ["64k/64k"]},
        {"User-Name": ["alice"], "Acct-Session-Id": ["81a0001f"],
         "Mikrotik-Rate-Limit": ["3k/3k"]},
        {"User-Name": ["alice"], "Acct-Session-Id": ["81a0001f"],
         "Mikrotik-Rate-Limit": ["100M/100M"]},
    ]  # fmt: skip


def test_cisco_av_pairs_repeat(nas, tmp_path: Path) -> None:
    port, log = nas
    driver = mikrotik(port, tmp_path, apply={"Cisco-AVPair": [
        "subscriber:sub-qos-policy-out=LIMITED", "subscriber:rate={rate}"]})  # fmt: skip
    driver.add([Limit("bob", session="7")])
    assert requests(log)[0]["Cisco-AVPair"] == ["subscriber:sub-qos-policy-out=LIMITED",
                                                "subscriber:rate=3000"]  # fmt: skip


def test_a_nak_and_a_silent_nas_name_the_subscriber_and_the_others_are_done(
    nas, tmp_path: Path
) -> None:
    port, log = nas
    driver = mikrotik(port, tmp_path)
    with pytest.raises(DriverError) as error:
        driver.add([Limit("ghost", session="1"), Limit("alice", session="2"),
                    Limit("mute", session="3")])  # fmt: skip
    message = str(error.value)
    assert "ghost: CoA-NAK (Error-Cause 503: Session Context Not Found)" in message
    assert "mute: no answer from 127.0.0.1:" in message and "within 1s" in message
    assert set(error.value.failed) == {"ghost", "mute"}
    assert [lim.subscriber for lim in driver.installed()] == ["alice"]
    assert [r["User-Name"] for r in requests(log)].count(["mute"]) == 2  # sent, then retried


def test_a_wrong_secret_gets_no_answer(nas, tmp_path: Path) -> None:
    port, _ = nas
    driver = mikrotik(port, tmp_path, secret="wrong")
    with pytest.raises(DriverError, match="no answer"):
        driver.add([Limit("alice", session="2")])
