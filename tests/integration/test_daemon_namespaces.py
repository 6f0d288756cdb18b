"""The daemon end to end in a namespace: snmpd, real traffic, the nftables driver.

A subscriber downloads past the cap and is limited within one cycle by a real nftables
rule on the access server; the window rolls past (the daemon's clock moved on) and the
limit lifts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Namespaces, require
from fixtures.config_file import WriteConfig, access_server, if_name
from integration.test_poll_namespaces import AccessServer

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_limited_within_a_cycle_and_released_when_the_window_rolls(
    namespaces: Namespaces, tmp_path: Path, config_file: WriteConfig
) -> None:
    require("nft")
    bras = AccessServer(namespaces, tmp_path)
    bras.add_subscriber("alice")
    bras.add_subscriber("bob")
    config = config_file(
        plans={"home": {"cap": "1MB", "window": "1h"}},
        subscribers={"alice": {"plan": "home"}, "bob": {"plan": "home"}},
        access_servers={"bras": access_server(bras.port, match=[if_name("sub-(?P<user>.+)")],
                                              learn_addresses="inet-cidr-route")},
        drivers={"edge": {"type": "nftables"}},
    )  # fmt: skip
    daemon = namespaces.start(
        bras.ns, sys.executable, str(HERE / "ns_daemon.py"), str(config), str(tmp_path / "l"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip

    def say(line: str) -> dict:
        daemon.stdin.write(line + "\n")
        daemon.stdin.flush()
        return json.loads(daemon.stdout.readline())

    def nft() -> str:
        return namespaces.run(bras.ns, "nft", "list", "table", "inet", "nmsquota")

    bras.served()
    assert say("cycle") == {
        "limited": [],
        "changed": [],
        "failed": {},
        "drivers": {
            "edge": {
                "added": [],
                "removed": [],
                "unenforceable": [],
                "drift": [],
                "errors": [],
                "drifting": None,
            }
        },
        "not_effective": [],
        "checks": {},
    }
    bras.download("alice", 2_000_000)
    bras.download("bob", 200_000)
    bras.served()
    second = say("cycle")
    assert second["limited"] == ["alice"] and second["drivers"]["edge"]["added"] == ["alice"]
    assert "10.99.1.2" in nft() and "10.99.2.2" not in nft()  # learned from its host route

    assert say("advance 7200") == {"ok": True}
    third = say("cycle")
    assert third["limited"] == [] and third["changed"] == ["alice"]
    assert "10.99.1.2" not in nft()


@pytest.mark.slow
def test_a_flushed_chain_is_repaired_by_the_next_cycle_and_the_repair_kept_in_the_ledger(
    namespaces: Namespaces, tmp_path: Path, config_file: WriteConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    require("nft")
    bras = AccessServer(namespaces, tmp_path)
    bras.add_subscriber("alice")
    config = config_file(
        plans={"home": {"cap": "1MB", "window": "1h"}},
        subscribers={"alice": {"plan": "home"}},
        access_servers={"bras": access_server(bras.port, match=[if_name("sub-(?P<user>.+)")],
                                              learn_addresses="inet-cidr-route")},
        drivers={"edge": {"type": "nftables"}},
    )  # fmt: skip
    ledger = tmp_path / "l"
    daemon = namespaces.start(
        bras.ns, sys.executable, str(HERE / "ns_daemon.py"), str(config), str(ledger),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip

    def say(line: str) -> dict:
        daemon.stdin.write(line + "\n")
        daemon.stdin.flush()
        return json.loads(daemon.stdout.readline())

    def chain() -> str:
        return namespaces.run(bras.ns, "nft", "list", "chain", "inet", "nmsquota", "forward")

    bras.served()
    say("cycle")
    bras.download("alice", 2_000_000)
    bras.served()
    assert say("cycle")["limited"] == ["alice"] and "@capped4_" in chain()
    namespaces.run(bras.ns, "nft", "flush", "chain", "inet", "nmsquota", "forward")
    assert "@capped4_" not in chain()  # the sets and alice's address in them are still there

    repaired = say("cycle")["drivers"]["edge"]
    assert repaired["errors"] == [] and "@capped4_" in chain()
    assert [line.split(": ")[-1] for line in repaired["drift"]] == [
        "rules reinstalled, limits re-applied"]  # fmt: skip
    assert repaired["drifting"]["cycles"] == 1
    from nmsquota.cli import main
    from nmsquota.standings import EventKind, Reader

    events = Reader.open(ledger, None).snapshot().events
    assert [e.text for e in events if e.kind is EventKind.REPAIR] == [
        f"edge: {line}" for line in repaired["drift"]]  # fmt: skip
    assert main(["-c", str(config), "status", "--ledger", str(ledger)]) == 0
    assert "driver edge: drift (1 cycle since " in capsys.readouterr().out

    whole = say("cycle")["drivers"]["edge"]  # found whole: the drift is cleared
    assert whole["drift"] == [] and whole["drifting"] is None
    assert main(["-c", str(config), "status", "--ledger", str(ledger)]) == 0
    assert "driver edge: ok" in capsys.readouterr().out
