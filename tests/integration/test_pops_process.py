"""Two POPs' `nmsquota run` processes on one PostgreSQL ledger (issue 24), polling one
snmpd on loopback as two access servers: the first to start decides, the other enforces;
kill -9 of the deciding one hands deciding to the other within a cycle, and the ledger
keeps every limit decided."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from fixtures.config_file import access_server, write_config
from integration.test_daemon_process import Running, nmsquota


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


def configured(tmp_path: Path, pop: str, port: int, url: str) -> Path:
    """A POP's daemon: its own data_dir and access server, the shared plans and ledger.
    lo's own SNMP traffic is over the 1 KB cap within a cycle."""
    home = tmp_path / pop
    home.mkdir()
    return write_config(home, data_dir=home / "data", interval="10s",
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
