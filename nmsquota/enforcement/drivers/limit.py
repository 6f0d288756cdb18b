"""`limit`: a client of `nmsquota limitd` (the paper's remote limiter) over TCP.

Each batch is one connection: read the challenge, LOGIN with the response the shared secret
gives, ADD/REMOVE/LIST/CLEAR, BYE. The daemon applies the limits through a driver of its
own, on the router it runs on. A refused login or an error reply is a DriverError that names
this driver and the hosts in question.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from nmsquota.enforcement.driver import Driver, DriverError, Limit, Options, normalize_address
from nmsquota.limitd import mac

HOSTS_PER_LINE = 40  # well under the daemon's 1,024-byte lines


class LimitOptions(Options):
    host: str
    port: int = Field(default=7431, ge=1, le=65535)
    secret: str = Field(min_length=1)
    auth: Literal["hmac-sha256", "des"] = "hmac-sha256"
    timeout: float = Field(default=10.0, gt=0)


class LimitClient(Driver):
    type = "limit"
    options_model = LimitOptions
    options: LimitOptions

    def add(self, limits: Sequence[Limit]) -> None:
        by_rate: dict[int, list[str]] = {}
        for limit in limits:
            by_rate.setdefault(limit.rate_bps, []).extend(map(normalize_address, limit.addresses))
        with self._session() as session:
            for rate, hosts in sorted(by_rate.items()):
                for start in range(0, len(hosts), HOSTS_PER_LINE):
                    chunk = hosts[start : start + HOSTS_PER_LINE]
                    session.command(f"ADD {' '.join(chunk)} RATE {rate}bit", limits)

    def remove(self, limits: Sequence[Limit]) -> None:
        hosts = [normalize_address(a) for limit in limits for a in limit.addresses]
        with self._session() as session:
            for start in range(0, len(hosts), HOSTS_PER_LINE):
                session.command(f"REMOVE {' '.join(hosts[start : start + HOSTS_PER_LINE])}", limits)

    def installed(self) -> list[Limit]:
        with self._session() as session:
            lines = session.command("LIST", ())
        limits = []
        for line in lines[:-1]:
            address, rate = line[4:].split()
            limits.append(Limit("", (address,), rate_bps=int(rate)))
        return limits

    def clear(self) -> None:
        with self._session() as session:
            session.command("CLEAR", ())

    def check(self) -> str:
        count = len(self.installed())
        return f"limitd at {self.options.host}:{self.options.port}: {count} hosts limited"

    def _session(self) -> _Session:
        return _Session(self)


class _Session:
    def __init__(self, client: LimitClient) -> None:
        self.client = client
        self.options = client.options
        self.sock: socket.socket | None = None
        self.buffer = b""

    def __enter__(self) -> _Session:
        o = self.options
        try:
            self.sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
            greeting = self._line()
        except OSError as error:
            raise self._error(f"cannot reach limitd at {o.host}:{o.port}: {error}") from None
        if not greeting.startswith("220 ") or "challenge " not in greeting:
            raise self._error(f"not a limitd greeting: {greeting[:80]!r}")
        if f"auth {o.auth};" not in greeting:
            raise self._error(f"limitd does not use auth {o.auth}: {greeting[:80]!r}")
        challenge = greeting.rsplit("challenge ", 1)[1].strip()
        self.command(f"LOGIN {mac.response(o.auth, o.secret, challenge)}", ())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.sendall(b"BYE\r\n")
            self.sock.close()

    def command(self, line: str, limits: Sequence[Limit]) -> list[str]:
        """Send one command; its reply lines (continuations "NNN-" then the last "NNN ")."""
        assert self.sock is not None
        try:
            self.sock.sendall(line.encode() + b"\r\n")
            lines = [self._line()]
            while len(lines[-1]) > 3 and lines[-1][3] == "-":
                lines.append(self._line())
        except OSError as error:
            raise self._error(f"limitd connection failed: {error}", limits) from None
        if lines[-1][:1] != "2":
            verb = line.split()[0]
            raise self._error(f"limitd refused {verb}: {lines[-1]}", limits)
        return lines

    def _line(self) -> str:
        assert self.sock is not None
        while b"\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("limitd closed the connection")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace").rstrip("\r")

    def _error(self, message: str, limits: Sequence[Limit] = ()) -> DriverError:
        return DriverError(self.client.name, message, {lim.subscriber: "" for lim in limits})
