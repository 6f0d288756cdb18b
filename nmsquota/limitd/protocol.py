"""The limit protocol, one connection's worth: lines in, reply lines out (no sockets here).

    S: 220 nmsquota limitd ready; auth hmac-sha256; challenge 3f2a.1732364800.1
    C: LOGIN 5sQ...                 S: 230 logged in
                               or   S: 535 wrong response; challenge 3f2a.1732364801.2
    C: ADD 10.0.0.7 2001:db8::7     S: 250 2 limited
    C: ADD 10.0.0.9 RATE 64kbit     S: 250 1 limited
    C: REMOVE 10.0.0.7              S: 250 1 lifted
    C: LIST                         S: 250-10.0.0.9 64000
                                    S: 250 1 limited
    C: CLEAR                        S: 250 all lifted
    C: BYE                          S: 221 bye

The vocabulary is the paper's (HELP, LOGIN, BYE, ADD, REMOVE, CLEAR, LIST). Adding an
existing limit or removing a missing one is silently fine. Every command but HELP, LOGIN and
BYE is refused before login. Each LOGIN attempt uses up its challenge: a wrong response gets a
new one, and so does a replayed one. `delay` says how long the server should wait before
answering a failed login; it doubles with each failure.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from nmsquota import units
from nmsquota.enforcement.driver import Driver, DriverError, Limit, normalize_address
from nmsquota.limitd import mac

MAX_LINE = 1024
HELP = [
    "214-Commands:",
    "214-  LOGIN response        answer the challenge",
    "214-  ADD host... [RATE r]  limit hosts (addresses or prefixes)",
    "214-  REMOVE host...        lift their limits",
    "214-  LIST                  the limited hosts and their rates",
    "214-  CLEAR                 lift every limit",
    "214-  BYE                   end the session, limits stay",
    "214 HELP                  this text",
]


@dataclass
class Counter:
    """The challenge sequence and failed logins, shared by every connection of a server."""

    sequence: int = 0
    failures: int = 0

    def next(self) -> int:
        self.sequence += 1
        return self.sequence


@dataclass
class Reply:
    lines: list[str]
    close: bool = False
    delay: float = 0.0


@dataclass
class Connection:
    driver: Driver
    secret: str
    mode: mac.Mode
    clock: Callable[[], float]
    rate_bps: int = 3_000
    queue_bytes: int = 10_000
    counter: Counter = field(default_factory=Counter)
    base_delay: float = 0.5
    max_delay: float = 8.0
    logged_in: bool = False
    challenge: str = ""

    def greeting(self) -> str:
        self.challenge = self._new_challenge()
        return f"220 nmsquota limitd ready; auth {self.mode}; challenge {self.challenge}"

    def _new_challenge(self) -> str:
        return mac.challenge(os.getpid(), self.clock(), self.counter.next())

    def handle(self, line: str) -> Reply:
        words = line.split()
        if not words:
            return Reply(["500 empty line"])
        command, args = words[0].upper(), words[1:]
        if command == "HELP":
            return Reply(HELP)
        if command == "BYE":
            return Reply(["221 bye"], close=True)
        if command == "LOGIN":
            return self._login(args)
        if command not in ("ADD", "REMOVE", "CLEAR", "LIST"):
            return Reply([f"500 unknown command {command[:20]!r}; try HELP"])
        if not self.logged_in:
            return Reply(["530 log in first"])
        try:
            return getattr(self, f"_{command.lower()}")(args)
        except DriverError as error:
            return Reply([f"451 {error}"])

    def _login(self, args: list[str]) -> Reply:
        if self.logged_in:
            return Reply(["503 already logged in"])
        used, self.challenge = self.challenge, self._new_challenge()
        if len(args) == 1 and used and mac.verify(self.mode, self.secret, used, args[0]):
            self.logged_in = True
            self.counter.failures = 0
            return Reply(["230 logged in"])
        self.counter.failures += 1
        delay = min(self.base_delay * 2 ** (self.counter.failures - 1), self.max_delay)
        return Reply([f"535 wrong response; challenge {self.challenge}"], delay=delay)

    def _hosts(self, args: list[str]) -> tuple[list[str], int] | Reply:
        rate = self.rate_bps
        if len(args) >= 2 and args[-2].upper() == "RATE":
            try:
                rate = units.parse_rate(args[-1])
            except units.UnitError as error:
                return Reply([f"501 {error}"])
            args = args[:-2]
        if not args:
            return Reply(["501 name at least one host"])
        hosts = []
        for arg in args:
            try:
                ipaddress.ip_network(arg, strict=False)
            except ValueError:
                return Reply([f"501 not an address or prefix: {arg[:60]!r}"])
            hosts.append(normalize_address(arg))
        return hosts, rate

    def _add(self, args: list[str]) -> Reply:
        parsed = self._hosts(args)
        if isinstance(parsed, Reply):
            return parsed
        hosts, rate = parsed
        limits = [Limit("", (host,), rate_bps=rate, queue_bytes=self.queue_bytes) for host in hosts]
        self.driver.add(limits)
        return Reply([f"250 {len(hosts)} limited"])

    def _remove(self, args: list[str]) -> Reply:
        parsed = self._hosts(args)
        if isinstance(parsed, Reply):
            return parsed
        hosts, _ = parsed
        self.driver.remove([Limit("", (host,)) for host in hosts])
        return Reply([f"250 {len(hosts)} lifted"])

    def _clear(self, args: list[str]) -> Reply:
        self.driver.clear()
        return Reply(["250 all lifted"])

    def _list(self, args: list[str]) -> Reply:
        rows = sorted(
            (address, limit.rate_bps)
            for limit in self.driver.installed()
            for address in limit.addresses
        )
        lines = [f"250-{address} {rate}" for address, rate in rows]
        return Reply([*lines, f"250 {len(rows)} limited"])
