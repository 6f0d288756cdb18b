"""Two POPs' `nmsquota run` processes on one PostgreSQL ledger (issue 24), polling one
snmpd on loopback as two access servers: the first to start decides, the other enforces;
kill -9 of the deciding one hands deciding to the other within a cycle, and the ledger
keeps every limit decided."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from fixtures.config_file import access_server, write_config
from integration.test_daemon_process import Running, nmsquota


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


def configured(tmp_path: Path, pop: str, port: int, url: str, interval: str = "10s") -> Path:
    """A POP's daemon: its own data_dir and access server, the shared plans and ledger.
    lo's own SNMP traffic is over the 1 KB cap within a cycle."""
    home = tmp_path / pop
    home.mkdir()
    return write_config(home, data_dir=home / "data", interval=interval,
                        plans={"home": {"cap": "1KB", "window": "1d"}},
                        subscribers={"alice": {"plan": "home"}},
                        access_servers={f"lo-{pop}": access_server(port,
                                                                   interfaces={"lo": "alice"})},
                        ledger={"url": url, "pop": pop})  # fmt: skip


@pytest.mark.slow
def test_kill_9_of_the_deciding_pop_hands_deciding_to_the_other(
    tmp_path: Path, snmpd_loopback: int, database: str
) -> None:
    adelaide = configured(tmp_path, "adelaide", snmpd_loopback, database)
    darwin = configured(tmp_path, "darwin", snmpd_loopback, database)
    first = Running(adelaide)
    second: Running | None = None
    try:
        first.wait_for("POP adelaide decides for every subscriber now")
        first.wait_for("cycle 2:")  # alice over the cap, limited by the decider
        second = Running(darwin)
        second.wait_for("POP darwin enforces the decisions of another POP's daemon")
        line = second.wait_for("cycle 2:")
        assert "1 limited" in line  # alice is online at Darwin too: its driver holds her
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        second.wait_for("POP darwin decides for every subscriber now", timeout=60)
        second.wait_for("cycle")
        status = nmsquota(darwin, "status", "--json")
        assert status.returncode in (0, 1), status.stderr
        limits = [limit["subscriber"] for limit in json.loads(status.stdout)["limits"]]
        assert limits == ["alice"]
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=30) == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()


@pytest.mark.slow
def test_a_limit_decided_at_one_pop_reaches_the_other_pop_s_driver_within_seconds(
    tmp_path: Path, snmpd_loopback: int, database: str
) -> None:
    """Cycles 10 minutes apart: an operator's limit at the deciding POP reaches the other
    POP's driver told by the ledger's notice, long before either's next cycle."""
    adelaide = configured(tmp_path, "adelaide", snmpd_loopback, database, interval="10m")
    darwin = configured(tmp_path, "darwin", snmpd_loopback, database, interval="10m")
    first = Running(adelaide)
    second: Running | None = None
    try:
        first.wait_for("POP adelaide decides for every subscriber now")
        first.wait_for("cycle 1:")
        second = Running(darwin)
        second.wait_for("POP darwin enforces the decisions of another POP's daemon")
        second.wait_for("cycle 1:")  # alice is online at Darwin too (the same lo)
        asked = time.monotonic()
        limited = nmsquota(adelaide, "limit", "alice", "--reason", "a test")
        assert limited.returncode == 0, limited.stderr
        second.wait_for("log: would limit alice (lo)", timeout=10)
        took = time.monotonic() - asked
        line = second.wait_for("POP darwin follows the limits committed at POP adelaide")
        assert "1 limited here" in line
        assert took < 5, took  # the command's own start is most of it
        print(f"`nmsquota limit` at Adelaide to Darwin's driver: {took:.2f} s")
        assert not any("cycle 2:" in seen for seen in second.seen)
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=30) == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()
