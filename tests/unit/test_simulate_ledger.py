"""`simulate`'s ledger lives as long as the run: written whole, never fsynced."""

from __future__ import annotations

import argparse
import os

from nmsquota.commands.simulate import simulate


def test_a_run_writes_its_ledger_without_fsync_and_leaves_fsync_on(monkeypatch, tmp_path) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    args = argparse.Namespace(subscribers=2, days=1, before=0, seed=1, interval="1h",
                              snmp=False, price=0.20, transport="pysnmp")  # fmt: skip
    outcome = simulate(args, "63MB", "7d", "3kbit", True, "the plan")
    assert outcome.cycles == 25  # one a simulated hour, the first at the start
    assert len(synced) == 1  # the writer lock's, once when the ledger opens; no write's
    from nmsquota.ledger.storage import write_json_atomically

    write_json_atomically(tmp_path / "after.json", {"after": True})
    assert len(synced) == 1 + 2  # after the run, a write is fsynced again (file, directory)
