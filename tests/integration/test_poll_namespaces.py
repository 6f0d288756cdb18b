"""The poller against snmpd in a network namespace, with real traffic through veth pairs.

An "access server" namespace holds one veth pair per subscriber (sub-NAME on its side, eth0
in the subscriber's own namespace) and runs snmpd. Traffic is sent through the pairs, and
the bytes the poller charges each subscriber must equal what the kernel counted on the
access server's side of their interface; interfaces come and go between polls. Through
both transports side by side (issue 23): two pollers, one per library, against the same
agent and traffic, each held to the kernel's counts (one namespace and one wait for snmpd's
route cache, which is most of the test's minute, for both).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Namespaces, snmpd_command, wait_for_counters, wait_for_snmp

HERE = Path(__file__).resolve().parent
SEND = (
    "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
    "n=int(sys.argv[2]); [s.sendto(b'x'*1000,(sys.argv[1],9)) for _ in range(n//1000)]"
)


class AccessServer:
    def __init__(self, spaces: Namespaces, tmp_path: Path) -> None:
        self.spaces = spaces
        self.ns = spaces.add("bras")
        self.peers: dict[str, tuple[str, int]] = {}
        self.added = 0
        self.port = 16100
        conf = tmp_path / "snmpd.conf"
        conf.write_text("rocommunity public 127.0.0.1\n")
        spaces.start(
            self.ns,
            *snmpd_command(conf, self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_snmp(self.port, ("ip", "netns", "exec", self.ns))

    def add_subscriber(self, name: str) -> None:
        self.added += 1
        n = self.added
        peer = self.spaces.add(f"s{n}")
        run = self.spaces.run
        run(
            self.ns,
            "ip",
            "link",
            "add",
            f"sub-{name}",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            peer,
        )
        run(self.ns, "ip", "addr", "add", f"10.99.{n}.1/24", "dev", f"sub-{name}")
        run(self.ns, "ip", "link", "set", f"sub-{name}", "up")
        # A host route to the session, as an access server installs: its address is learned.
        run(self.ns, "ip", "route", "add", f"10.99.{n}.2/32", "dev", f"sub-{name}")
        run(peer, "ip", "addr", "add", f"10.99.{n}.2/24", "dev", "eth0")
        run(peer, "ip", "link", "set", "eth0", "up")
        self.peers[name] = (peer, n)

    def remove_subscriber(self, name: str) -> None:
        self.spaces.run(self.ns, "ip", "link", "del", f"sub-{name}")
        del self.peers[name]

    def download(self, name: str, size: int) -> None:
        _, n = self.peers[name]
        self.spaces.run(self.ns, sys.executable, "-c", SEND, f"10.99.{n}.2", str(size))

    def upload(self, name: str, size: int) -> None:
        peer, n = self.peers[name]
        self.spaces.run(peer, sys.executable, "-c", SEND, f"10.99.{n}.1", str(size))

    def served(self) -> None:
        """Until snmpd serves the kernel's counters of every subscriber's interface: it
        serves them from a cache refreshed about every 5 s."""
        names = [f"sub-{name}" for name in self.peers]
        wait_for_counters(self.port, names, ("ip", "netns", "exec", self.ns), exact=True)

    def kernel(self) -> dict[str, tuple[int, int]]:
        """(download, upload) as the kernel counted them: tx and rx of sub-NAME."""
        counts = {}
        for name in self.peers:
            stats = f"/sys/class/net/sub-{name}/statistics"
            tx, rx = self.spaces.run(
                self.ns, "cat", f"{stats}/tx_bytes", f"{stats}/rx_bytes"
            ).split()
            counts[name] = (int(tx), int(rx))
        return counts


TRANSPORTS = ("pysnmp", "netsnmp")


@pytest.mark.slow
def test_charges_match_the_kernels_counters_as_sessions_come_and_go(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    bras = AccessServer(namespaces, tmp_path)
    bras.add_subscriber("alice")
    bras.add_subscriber("bob")
    pollers = {
        transport: namespaces.start(
            bras.ns,
            sys.executable,
            str(HERE / "ns_poll.py"),
            str(bras.port),
            transport,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for transport in TRANSPORTS
    }

    def poll() -> dict[str, dict]:
        """One poll by each transport's poller: transport -> what it saw."""
        for poller in pollers.values():
            poller.stdin.write("poll\n")
            poller.stdin.flush()
        return {name: json.loads(poller.stdout.readline()) for name, poller in pollers.items()}

    bras.served()  # snmpd sees the new interfaces
    before = bras.kernel()
    firsts = poll()
    for first in firsts.values():
        assert first["samples"] == {}
        assert first["verdicts"] == {"alice": "baseline", "bob": "baseline"}
        assert first["addresses"] == {"alice": ["10.99.1.2"], "bob": ["10.99.2.2"]}

    bras.download("alice", 1_500_000)
    bras.upload("alice", 300_000)
    bras.download("bob", 700_000)
    bras.served()
    after = bras.kernel()
    seconds = poll()
    for transport, second in seconds.items():
        for name in ("alice", "bob"):
            expected = [after[name][0] - before[name][0], after[name][1] - before[name][1]]
            assert second["samples"][name] == expected, transport
        assert second["samples"]["alice"][0] >= 1_500_000
        assert second["samples"]["alice"][1] >= 300_000
        # Nothing came or went: counters and names only, addresses from the last walk.
        assert not second["identity_walked"], transport
        assert second["addresses"] == firsts[transport]["addresses"], transport

    # bob's session ends, carol's starts: carol's first reading is a baseline.
    bras.remove_subscriber("bob")
    bras.add_subscriber("carol")
    bras.download("alice", 400_000)
    bras.download("carol", 100_000)
    bras.served()
    final = bras.kernel()
    thirds = poll()
    for transport, third in thirds.items():
        # Net-SNMP may go on listing a deleted interface for a while, down and not moving:
        # reported as such and charged nothing.
        assert third["verdicts"].pop("bob", "down") == "down", transport
        assert third["verdicts"] == {"alice": "charged", "carol": "baseline"}, transport
        assert third["identity_walked"], transport
        assert third["samples"] == {
            "alice": [final["alice"][0] - after["alice"][0], final["alice"][1] - after["alice"][1]]
        }, transport

    # snmpd caches its route table for about a minute, apart from the interfaces, so a new
    # session's host route shows up in a later cycle; the cycle walks routes every time.
    learned: dict[str, list[str]] = {}
    deadline = time.monotonic() + 90
    while len(learned) < len(TRANSPORTS):
        assert time.monotonic() < deadline, f"carol's host route was never learned: {learned}"
        time.sleep(1)  # each try a whole poll; the route cache runs out in its own time
        for transport, seen in poll().items():
            if "carol" in seen["addresses"]:
                learned.setdefault(transport, seen["addresses"]["carol"])
    assert learned == {transport: ["10.99.3.2"] for transport in TRANSPORTS}
