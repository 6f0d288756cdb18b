"""How far past the cap a subscriber gets before the limit lands, end to end: `nmsquota run`
on the router of a routed namespace network (integration/routed.py), polling the router's
snmpd every `interval`, enforcing with nftables in the router's forward hook, while the
server sends sub1 a paced UDP stream at a known rate.

The stream starts just after the daemon's first cycle, and the cap is crossed `cross_after`
seconds after that cycle was due (its time is read from the daemon's log). Overshoot = the bytes
the router sent sub1 (its kernel counter) once the limit is in place, minus the cap; the
limit lets a trickle through (8 kbit/s) until the stream stops, counted in the overshoot.
Used by tests/integration/test_overshoot_namespaces.py and bench/bench_overshoot_ns.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conftest import Namespaces, snmpd_command, wait_for_snmp
from fixtures.config_file import access_server, if_name, write_config
from integration.routed import Routed

PORT = 16100
ADDRESS = "10.60.1.2"  # sub1's, on the router's interface "sub1"

PACED = """
import socket, sys, time
address, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
size = 1000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
sent = 0
while (elapsed := time.monotonic() - start) < seconds:
    # Catch up to the rate from the start: a late wake-up sends a short burst, so the
    # average holds on a busy machine.
    while sent < rate * elapsed:
        s.sendto(b"x" * size, (address, 9))
        sent += size + 28  # the IP and UDP headers the router's counter also sees
    time.sleep(0.002)
"""


@dataclass
class Overshoot:
    rate: float
    """Bytes per second the router sent sub1 before the limit, as its kernel counted."""
    cap: int
    overshoot: int
    """Bytes past the cap when the stream stopped, a second or more after the limit."""
    by_look: bool
    """The limit landed on a projected look (False: on a cycle)."""
    limited_after: float
    """Seconds from the first cycle's due time to the limit seen in nftables (within 0.2 s):
    the second cycle is due at one interval, the third at two."""

    @property
    def seconds(self) -> float:
        """The overshoot as seconds of the stream."""
        return self.overshoot / self.rate


class OvershootRig:
    def __init__(self, spaces: Namespaces, directory: Path, nmsquota: tuple[str, ...] = ()) -> None:
        self.spaces = spaces
        self.nmsquota = nmsquota or (sys.executable, "-m", "nmsquota")
        """How to start nmsquota (a benchmark may run another version of it)."""
        self.directory = directory
        self.net = Routed(spaces)
        conf = directory / "snmpd.conf"
        conf.write_text("rocommunity public 127.0.0.1\n")
        spaces.start(self.net.router, *snmpd_command(conf, PORT), stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for_snmp(PORT, ("ip", "netns", "exec", self.net.router))
        self.runs = 0

    def sent(self) -> int:
        """Bytes the router has sent sub1 (its download)."""
        out = self.spaces.run(self.net.router, "cat", "/sys/class/net/sub1/statistics/tx_bytes")
        return int(out)

    def limited(self) -> bool:
        out = self.spaces.run(self.net.router, "nft", "list", "ruleset")
        return ADDRESS in out

    def run(self, interval: float, rate: float, cross_after: float, projection: bool,
            give_up: float = 40.0) -> Overshoot:  # fmt: skip
        """One download toward the cap, from a fresh ledger and no limit in place; the cap
        is crossed `cross_after` seconds after the first cycle was due."""
        self.runs += 1
        here = self.directory / f"run{self.runs}"
        here.mkdir()
        cap = int(rate * (cross_after - LAG))
        config = write_config(
            here, interval=f"{interval:g}s", projection=projection,
            plans={"home": {"cap": f"{cap}B", "window": "1h",
                            "limit": {"rate": "8kbit", "queue": "2KB"}}},
            subscribers={"sub1": {"plan": "home", "addresses": [ADDRESS]}},
            access_servers={"router": access_server(PORT, match=[if_name("(?P<user>sub1)")])},
            drivers={"edge": {"type": "nftables"}},
        )  # fmt: skip
        log = here / "daemon.log"
        daemon = self.spaces.start(
            self.net.router, *self.nmsquota, "-c", str(config), "run", "--log-file", str(log),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        sender = None
        try:
            _wait_for(lambda: log.exists() and "cycle 1:" in log.read_text(), 15)
            due = _first_due(log.read_text())
            time.sleep(max(0.0, due + LAG - time.time()))
            base, started = self.sent(), time.time()
            sender = self.spaces.start(self.net.server, sys.executable, "-c", PACED, ADDRESS,
                                       str(rate), str(give_up))  # fmt: skip
            time.sleep(max(0.0, due + cross_after - 2 - time.time()))
            measured = (self.sent() - base) / (time.time() - started)
            _wait_for(self.limited, give_up, step=0.2)
            landed = time.time()
            time.sleep(1.0)  # the trickle the limit lets through is in the figure too
            sender.kill()
            sender.wait(timeout=10)
            overshoot = self.sent() - base - cap
        finally:
            if sender is not None and sender.poll() is None:
                sender.kill()
            daemon.terminate()
            daemon.wait(timeout=15)
            self.spaces.run(self.net.router, "nft", "flush", "ruleset")
        by_look = "on a projected look" in log.read_text()
        return Overshoot(measured, cap, overshoot, by_look, landed - due)


LAG = 0.5
"""Seconds after the first cycle was due that the stream starts: the cycle is over by then."""

CYCLE_LINE = re.compile(r"^(\S+ \S+) INFO nmsquota.daemon: cycle 1: ([0-9.]+)s, ([0-9.]+)s late",
                        re.MULTILINE)  # fmt: skip


def _first_due(log: str) -> float:
    """When the daemon's first cycle was due (its clock: this machine's), from the log line
    it writes at the end of it: the line's time, less how long the cycle took and how late
    it started (to 0.1 s, as the log says them)."""
    match = CYCLE_LINE.search(log)
    assert match is not None, log
    stamp = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return stamp - float(match[2]) - float(match[3])


def _wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> float:
    """Until `condition()` holds; returns time.monotonic() when it did."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {seconds:g} s: {condition}")
        time.sleep(step)
    return time.monotonic()
