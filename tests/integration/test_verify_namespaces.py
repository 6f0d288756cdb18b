"""Limits proven to bite, with real rules and real traffic: the daemon polls snmpd on the
router that forwards the subscribers' downloads. A limit installed where the traffic does
not pass (nftables in another namespace) is flagged "limit not effective" from the
router's own counters; once the driver is pointed at the router (a reload), the measured
rate falls to the limited one and the flag clears."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Namespaces, require, snmpd_command, wait_for_counters, wait_for_snmp
from fixtures.config_file import access_server, if_name, write_config
from integration.routed import Routed

HERE = Path(__file__).resolve().parent
SPAN = 20.0  # seconds between measured cycles: several of snmpd's 5 s counter refreshes
PORT = 16100


def settings(namespace: str | None) -> dict[str, Any]:
    """sub1 and sub2 on a 1 MB plan limited to 64 kbit/s, counted by the router's snmpd;
    the driver's rules in `namespace` (None: the router's own, where the daemon runs)."""
    edge = {"type": "nftables", **({"options": {"namespace": namespace}} if namespace else {})}
    return {
        "plans": {"home": {"cap": "1MB", "window": "1h",
                           "limit": {"rate": "64kbit", "queue": "16KB"}}},
        # snmpd's counters lag by up to 5 s at each end of a SPAN: a wide margin.
        "verify": {"margin": "50%", "cycles": 2},
        "subscribers": {"sub1": {"plan": "home", "addresses": ["10.60.1.2"]},
                        "sub2": {"plan": "home", "addresses": ["10.60.2.2"]}},
        "access_servers": {"router": access_server(PORT, match=[if_name("(?P<user>sub[12])")])},
        "drivers": {"edge": edge},
    }  # fmt: skip


@pytest.mark.slow
def test_a_limit_where_the_traffic_does_not_pass_is_flagged_and_cleared_when_right(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    require("nft")
    net = Routed(namespaces)
    elsewhere = namespaces.add("void")  # where a misconfigured driver puts its rules
    conf = tmp_path / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\n")
    on_router = ("ip", "netns", "exec", net.router)
    namespaces.start(net.router, *snmpd_command(conf, PORT), stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)  # fmt: skip
    wait_for_snmp(PORT, on_router)
    wrong = write_config(tmp_path, name="wrong.toml", **settings(elsewhere))
    right = write_config(tmp_path, name="right.toml", **settings(None))
    daemon = namespaces.start(
        net.router, sys.executable, str(HERE / "ns_daemon.py"), str(wrong), str(tmp_path / "l"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip

    def say(line: str) -> dict:
        assert daemon.stdin is not None and daemon.stdout is not None
        daemon.stdin.write(line + "\n")
        daemon.stdin.flush()
        return json.loads(daemon.stdout.readline())

    def downloading(seconds: float) -> threading.Thread:
        thread = threading.Thread(target=net.download, args=("sub1", seconds))
        thread.start()
        return thread

    say("cycle")
    net.download("sub1", 2)  # over the 1 MB cap at full speed
    wait_for_counters(PORT, ["sub1"], on_router)  # in snmpd's counter cache
    assert say("cycle")["limited"] == ["sub1"]  # limited, in the wrong namespace
    assert "10.60.1.2" in namespaces.run(elsewhere, "nft", "list", "ruleset")

    traffic = downloading(2 * SPAN + 4)
    measured = []
    for _ in range(2):
        time.sleep(SPAN)  # the traffic at whatever rate it gets, for the check to measure
        measured.append(say("cycle"))
    traffic.join()
    assert [m["not_effective"] for m in measured] == [[], ["sub1"]]
    assert measured[-1]["checks"]["sub1"] > 10 * 64_000  # nothing held it back

    wait_for_counters(PORT, ["sub1"], on_router)  # the last of it, before the next span
    assert say(f"reload {right}") == {"ok": True}
    assert "nmsquota" not in namespaces.run(elsewhere, "nft", "list", "tables")  # lifted
    first = say("cycle")  # the limit lands on the router now
    assert first["limited"] == ["sub1"] and first["drivers"]["edge"]["added"] == ["sub1"]
    traffic = downloading(SPAN + 4)
    time.sleep(SPAN)  # the traffic at the limited rate, for the check to measure
    second = say("cycle")
    traffic.join()
    assert second["not_effective"] == [], (first["checks"], second["checks"])
    # Near 64 kbit/s as the router's counters see it: TCP under a policer, the headers, and
    # counters up to 5 s stale at either end of the span.
    assert 0.3 * 64_000 < second["checks"]["sub1"] < 1.5 * 64_000, second["checks"]
