"""`nmsquota limitd` over real TCP (and under inetd), applying limits with nftables rules in
a namespace; the `limit` driver as its client; garbage, long lines and replays refused."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, Namespaces, require
from fixtures.config_file import secret, write_config

from nmsquota.enforcement.driver import DriverError, Limit, make_driver
from nmsquota.limitd import mac

SECRET = "a-sixteen-byte-secret"


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def limitd_config(tmp_path: Path, namespace: str, port: int, auth: str) -> Path:
    """limitd on 127.0.0.1:port applying limits with nftables in `namespace`."""
    return write_config(
        tmp_path,
        secrets={"limitd": SECRET},
        drivers={"edge": {"type": "nftables", "options": {"namespace": namespace}}},
        limitd={"driver": "edge", "secret": secret("limitd"), "auth": auth,
                "listen": f"127.0.0.1:{port}"},
    )  # fmt: skip


class Daemon:
    def __init__(self, namespaces: Namespaces, tmp_path: Path, auth: str = "hmac-sha256"):
        require("nft")
        self.namespace = namespaces.add("rtr")
        self.port = free_tcp_port()
        self.config = limitd_config(tmp_path, self.namespace, self.port, auth)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nmsquota", "-c", str(self.config), "limitd"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
        )  # fmt: skip
        namespaces.processes.append(self.process)
        assert self.process.stdout is not None
        assert "listening" in self.process.stdout.readline()
        self.namespaces = namespaces

    def elements(self) -> str:
        return self.namespaces.run(self.namespace, "nft", "list", "table", "inet", "nmsquota")

    def client(self, **options: object):
        return make_driver("remote", "limit", {"host": "127.0.0.1", "port": self.port,
                                               "secret": SECRET, **options})  # fmt: skip


class Raw:
    """A bare TCP conversation with the daemon."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.file = self.sock.makefile("rwb")
        self.greeting = self.read()

    @property
    def challenge(self) -> str:
        return self.greeting.rsplit("challenge ", 1)[1]

    def read(self) -> str:
        return self.file.readline().decode().rstrip("\r\n")

    def send(self, data: bytes) -> str:
        self.file.write(data)
        self.file.flush()
        return self.read()

    def login(self) -> str:
        return self.send(
            f"LOGIN {mac.response('hmac-sha256', SECRET, self.challenge)}\r\n".encode()
        )


@pytest.fixture
def daemon(namespaces: Namespaces, tmp_path: Path) -> Daemon:
    return Daemon(namespaces, tmp_path)


def test_the_limit_driver_adds_lists_removes_and_clears_through_the_daemon(daemon: Daemon):
    remote = daemon.client()
    alice = Limit("alice", ("10.60.1.2", "2001:db8::7"), rate_bps=64_000)
    remote.add([alice, Limit("bob", ("10.60.2.2",))])
    remote.add([alice])  # already there: fine
    listed = {(lim.addresses[0], lim.rate_bps) for lim in remote.installed()}
    assert listed == {("10.60.1.2", 64_000), ("2001:db8::7", 64_000), ("10.60.2.2", 3_000)}
    assert "10.60.1.2" in daemon.elements()  # real rules on the router
    # A new rate is one ADD, with no REMOVE first; the router's own driver changes it.
    remote.add([Limit("alice", alice.addresses, rate_bps=3_000)])
    assert {(lim.addresses[0], lim.rate_bps) for lim in remote.installed()} == {
        ("10.60.1.2", 3_000), ("2001:db8::7", 3_000), ("10.60.2.2", 3_000)}  # fmt: skip
    remote.remove([alice, Limit("carol", ("10.9.9.9",))])  # carol was never limited: fine
    assert {lim.addresses[0] for lim in remote.installed()} == {"10.60.2.2"}
    remote.clear()
    assert remote.installed() == []
    assert remote.check().endswith(": 0 hosts limited")


def test_a_wrong_secret_is_refused_with_a_new_challenge(daemon: Daemon) -> None:
    with pytest.raises(DriverError, match=r"driver 'remote': limitd refused LOGIN: 535 wrong"):
        daemon.client(secret="not-the-secret").installed()
    with pytest.raises(DriverError, match="does not use auth des"):
        daemon.client(auth="des").installed()


def test_commands_before_login_garbage_and_help(daemon: Daemon) -> None:
    raw = Raw(daemon.port)
    assert raw.greeting.startswith("220 nmsquota limitd ready; auth hmac-sha256; challenge ")
    assert raw.send(b"ADD 10.0.0.1\r\n") == "530 log in first"
    assert raw.send(b"LIST\r\n") == "530 log in first"
    assert raw.send(b"\xff\xfe\x00garbage\r\n").startswith("500 unknown command")
    assert raw.send(b"HELP\r\n").startswith("214-")
    while not raw.read().startswith("214 "):
        pass
    assert raw.login() == "230 logged in"
    assert raw.send(b"ADD 10.0.0.1 not-an-address\r\n").startswith("501 not an address")
    assert raw.send(b"ADD 10.0.0.1 RATE 63\r\n").startswith("501 '63' has no unit")
    assert raw.send(b"ADD 10.0.0.1\r\n") == "250 1 limited"
    assert raw.send(b"BYE\r\n") == "221 bye"
    assert "10.0.0.1" in daemon.elements()  # BYE leaves the limits in place


def test_a_replayed_response_fails_and_failures_are_slowed_down(daemon: Daemon) -> None:
    first = Raw(daemon.port)
    answer = mac.response("hmac-sha256", SECRET, first.challenge)
    assert first.send(f"LOGIN {answer}\r\n".encode()) == "230 logged in"
    # The same response again, in a new connection (a new challenge): refused.
    second = Raw(daemon.port)
    times = []
    for _ in range(3):
        started = time.monotonic()
        reply = second.send(f"LOGIN {answer}\r\n".encode())
        times.append(time.monotonic() - started)
        assert reply.startswith("535 wrong response; challenge ")
    assert times[0] >= 0.4 and times[2] >= 1.6  # 0.5 s, 1 s, 2 s
    # And again within the first connection, whose challenge was used up by its login.
    assert first.send(f"LOGIN {answer}\r\n".encode()) == "503 already logged in"


def test_an_over_long_line_ends_the_connection(daemon: Daemon) -> None:
    raw = Raw(daemon.port)
    assert raw.send(b"ADD " + b"1" * 5000 + b"\r\n").startswith("500 line longer than 1024")
    assert raw.read() == ""  # closed
    assert Raw(daemon.port).greeting.startswith("220 ")  # the daemon is still there


def test_under_inetd_with_the_papers_des_login(namespaces: Namespaces, tmp_path: Path) -> None:
    require("nft")
    namespace = namespaces.add("rtr")
    config = limitd_config(tmp_path, namespace, free_tcp_port(), "des")
    process = subprocess.Popen(
        [sys.executable, "-m", "nmsquota", "-c", str(config), "limitd", "--inetd"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    namespaces.processes.append(process)
    assert process.stdin and process.stdout
    greeting = process.stdout.readline().decode()
    assert "auth des;" in greeting
    challenge = greeting.rsplit("challenge ", 1)[1].strip()
    answer = mac.response("des", SECRET, challenge)
    assert len(answer) == 11
    process.stdin.write(f"LOGIN {answer}\r\nADD 10.60.1.2\r\nLIST\r\nBYE\r\n".encode())
    process.stdin.flush()
    replies = [process.stdout.readline().decode().strip() for _ in range(5)]
    assert replies == ["230 logged in", "250 1 limited", "250-10.60.1.2 3000",
                       "250 1 limited", "221 bye"]  # fmt: skip
    assert process.wait(timeout=10) == 0
