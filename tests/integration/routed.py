"""A small routed network in namespaces for enforcement tests: server -> router -> subscribers.

    server (10.50.0.1, fd50::1) --- router --- sub1 (10.60.1.2, fd60:1::2)
                                          \\--- sub2 (10.60.2.2, fd60:2::2)

The router forwards; limits are installed there (nftables in its forward hook, HTB on its
subscriber-facing interfaces). Offloads are off on every veth: with GSO/TSO on, HTB at low
rates passes about twice its rate (FIELD-NOTES). Downloads are measured with tcp_bulk.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Namespaces, require

HERE = Path(__file__).resolve().parent
SUBSCRIBERS = {"sub1": ("10.60.1.2", "fd60:1::2"), "sub2": ("10.60.2.2", "fd60:2::2")}


class Routed:
    def __init__(self, spaces: Namespaces) -> None:
        self.spaces = spaces
        self.router = spaces.add("rtr", ipv6=True)
        self.server = spaces.add("srv", ipv6=True)
        self.subs = {name: spaces.add(name, ipv6=True) for name in SUBSCRIBERS}
        run = spaces.run
        self._link(self.server, "eth0", self.router, "to-srv")
        run(self.server, "ip", "addr", "add", "10.50.0.1/24", "dev", "eth0")
        run(self.server, "ip", "-6", "addr", "add", "fd50::1/64", "dev", "eth0", "nodad")
        run(self.router, "ip", "addr", "add", "10.50.0.2/24", "dev", "to-srv")
        run(self.router, "ip", "-6", "addr", "add", "fd50::2/64", "dev", "to-srv", "nodad")
        run(self.server, "ip", "route", "add", "default", "via", "10.50.0.2")
        run(self.server, "ip", "-6", "route", "add", "default", "via", "fd50::2")
        for n, (name, (v4, v6)) in enumerate(SUBSCRIBERS.items(), start=1):
            ns = self.subs[name]
            self._link(ns, "eth0", self.router, name)
            run(ns, "ip", "addr", "add", f"{v4}/24", "dev", "eth0")
            run(ns, "ip", "-6", "addr", "add", f"{v6}/64", "dev", "eth0", "nodad")
            run(self.router, "ip", "addr", "add", f"10.60.{n}.1/24", "dev", name)
            run(self.router, "ip", "-6", "addr", "add", f"fd60:{n}::1/64", "dev", name, "nodad")
            run(ns, "ip", "route", "add", "default", "via", f"10.60.{n}.1")
            run(ns, "ip", "-6", "route", "add", "default", "via", f"fd60:{n}::1")
        run(self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        run(self.router, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")

    def _link(self, a: str, a_name: str, b: str, b_name: str) -> None:
        run = self.spaces.run
        run(a, "ip", "link", "add", a_name, "type", "veth", "peer", "name", b_name, "netns", b)
        for ns, name in ((a, a_name), (b, b_name)):
            run(ns, require("ethtool"), "-K", name, "tso", "off", "gso", "off", "gro", "off")
            run(ns, "ip", "link", "set", name, "up")

    def download(self, name: str, seconds: float, skip: float = 0.0, v6: bool = False) -> float:
        """Bytes per second that reached subscriber `name` from the server over TCP,
        counted after the first `skip` seconds (a policer's burst)."""
        return self.downloads([name], seconds, skip, v6)[name]

    def downloads(
        self, names: list[str], seconds: float, skip: float = 0.0, v6: bool = False
    ) -> dict[str, float]:
        """The same for several subscribers downloading at once."""
        targets = {name: (name, SUBSCRIBERS[name][1 if v6 else 0]) for name in names}
        return self.downloads_to(targets, seconds, skip)

    def downloads_to(
        self, targets: dict[str, tuple[str, str]], seconds: float, skip: float = 0.0
    ) -> dict[str, float]:
        """Downloads at once to each label's (subscriber namespace, address)."""
        receivers, senders = {}, []
        try:
            for label, (name, address) in targets.items():
                receiver = self.spaces.start(
                    self.subs[name], sys.executable, str(HERE / "tcp_bulk.py"), "recv",
                    address, "5001", str(seconds), str(skip), stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                assert receiver.stdout is not None
                assert receiver.stdout.readline().strip() == "ready"
                receivers[label] = receiver
            for _name, address in targets.values():
                senders.append(self.spaces.start(
                    self.server, sys.executable, str(HERE / "tcp_bulk.py"), "send", address,
                    "5001", str(seconds + 2),
                ))  # fmt: skip
            rates = {}
            for name, receiver in receivers.items():
                assert receiver.stdout is not None
                rates[name] = float(json.loads(receiver.stdout.readline())["rate"])
                receiver.wait(timeout=30)
            return rates
        finally:
            for sender in senders:
                sender.kill()
                sender.wait(timeout=10)
