"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures import postgres
from fixtures.config_file import WriteConfig, write_config
from hypothesis import settings

# CI has time for more examples than an edit-test loop wants to wait for.
settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    return tmp_path / "ledger"


STORES = ("tinydb", "postgresql")
"""The ledger's stores (nmsquota/ledger/backends.py): `ledger_at` runs a test on each."""


@pytest.fixture(params=STORES)
def ledger_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """Where a test's ledger is, once per store: a directory for TinyDB (not yet made, as
    `ledger_dir`), and the postgresql:// URL of an empty database of the test's own, its
    schema made by `nmsquota ledger migrate`'s code, for PostgreSQL. A test that needs the
    files of a TinyDB ledger takes `ledger_dir` instead."""
    if request.param == "tinydb":
        yield tmp_path / "ledger"
        return
    server: postgres.Server = request.getfixturevalue("postgres_server")
    with postgres.fresh_ledger_database(server) as url:
        yield url


@pytest.fixture
def ledger_database(postgres_server: postgres.Server) -> Iterator[str]:
    """The postgresql:// URL of a migrated, empty database of this test's own."""
    with postgres.fresh_ledger_database(postgres_server) as url:
        yield url


@pytest.fixture
def config_file(tmp_path: Path) -> WriteConfig:
    """Writes nmsquota.toml into the test's tmp_path from the tables given, returns its path:
    `config_file(plans={...}, subscribers={...})` (see fixtures/config_file.py)."""
    return functools.partial(write_config, tmp_path)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """A real PostgreSQL server (Debian's), Unix socket only, one per session (per xdist
    worker): initdb and start take 1-2 s on a busy 2-core machine, a database 0.1-0.3 s."""
    with postgres.running_server() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: postgres.Server) -> Iterator[str]:
    """The conninfo (for psycopg.connect) of an empty database of this test's own on
    postgres_server, dropped afterwards."""
    with postgres.fresh_database(postgres_server) as conninfo:
        yield conninfo


def require(tool: str) -> str:
    """The path of a Debian tool a test needs. Missing in CI is a failure, not a skip."""
    import shutil

    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{tool} is not installed (.ci/apt-packages should bring it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def snmpd_command(conf: Path, port: int) -> list[str]:
    """snmpd in the foreground on 127.0.0.1:port only (no smux listener on TCP 199)."""
    return [
        require("snmpd"),
        "-f",
        "-Lo",
        "-C",
        "-c",
        str(conf),
        "-I",
        "-smux",
        f"udp:127.0.0.1:{port}",
    ]


V2C = ("-v2c", "-c", "public")


def wait_for_snmp(
    port: int, prefix: tuple[str, ...] = (), credentials: tuple[str, ...] = V2C
) -> None:
    """Until an agent answers on 127.0.0.1:port (run under `prefix`, e.g. ip netns exec), asked
    with snmpget's `credentials`."""
    import subprocess
    import time

    probe = [*prefix, require("snmpget"), *credentials, "-t", "0.2", "-r", "0",
             f"127.0.0.1:{port}", ".1.3.6.1.2.1.1.3.0"]  # fmt: skip
    for _ in range(50):
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"snmpd did not answer on port {port}")


IF_NAME, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS = (
    f".1.3.6.1.2.1.31.1.1.1.{column}" for column in (1, 6, 10)
)


def served_counters(port: int, prefix: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """ifName -> (bytes in, bytes out) as the v2c agent on 127.0.0.1:port serves them now,
    read with Net-SNMP's own snmpbulkwalk (not the poller under test)."""
    import subprocess

    def column(oid: str) -> dict[str, str]:
        walk = [*prefix, require("snmpbulkwalk"), "-v2c", "-c", "public", "-On", "-Oq",
                "-t", "1", "-r", "1", f"127.0.0.1:{port}", oid]  # fmt: skip
        lines = subprocess.run(walk, capture_output=True, text=True, timeout=30).stdout
        return dict(line[len(oid) + 1 :].split(" ", 1) for line in lines.splitlines())

    names, rx, tx = column(IF_NAME), column(IF_HC_IN_OCTETS), column(IF_HC_OUT_OCTETS)
    return {name.strip('"'): (int(rx[i]), int(tx[i])) for i, name in names.items() if i in tx}


def kernel_counters(names: list[str], prefix: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """name -> (rx_bytes, tx_bytes) of these interfaces as the kernel counts them now."""
    import subprocess

    files = [
        f"/sys/class/net/{name}/statistics/{way}_bytes" for name in names for way in ("rx", "tx")
    ]
    done = subprocess.run([*prefix, "cat", *files], capture_output=True, text=True, check=True)
    counts = [int(word) for word in done.stdout.split()]
    return {name: (counts[2 * n], counts[2 * n + 1]) for n, name in enumerate(names)}


def wait_for_counters(
    port: int, names: list[str], prefix: tuple[str, ...] = (), exact: bool = False
) -> None:
    """Until the agent on `port` serves counters for interfaces `names` that include all the
    kernel had counted when this was called; with `exact`, counters equal to the kernel's
    (for interfaces nothing else moves: a namespace of the test's own).

    snmpd serves interface counters from a cache it refreshes about every 5 s (FIELD-NOTES):
    a poll right after traffic can see the counters from before it. This waits for the next
    refresh instead of a fixed 6 s, and a refresh that missed a late ARP frame is not
    taken for one that did not."""
    import time

    counted = kernel_counters(names, prefix)
    deadline = time.monotonic() + 20  # four refreshes
    while True:
        served = served_counters(port, prefix)
        if exact:
            counted = kernel_counters(names, prefix)  # after `served`: nothing in between
        if all(_caught_up(served.get(name), counted[name], exact) for name in names):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"snmpd on port {port} served {served}, the kernel counted {counted}")
        time.sleep(0.5)


def _caught_up(served: tuple[int, int] | None, counted: tuple[int, int], exact: bool) -> bool:
    if served is None:
        return False
    if exact:
        return served == counted
    return served[0] >= counted[0] and served[1] >= counted[1]


@contextlib.contextmanager
def running_snmpd(conf: Path, port: int, **popen: Any) -> Iterator[None]:
    """Net-SNMP snmpd with `conf` on 127.0.0.1:port for the block, stopped by its PID
    afterwards (killed if it has not stopped within 10 s); `popen`: e.g. its env."""
    import subprocess

    process = subprocess.Popen(
        snmpd_command(conf, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["pysnmp", "netsnmp"])
def transport(request: pytest.FixtureRequest) -> str:
    """The library that sends a v1/v2c test agent's requests (Agent.transport): a test that
    takes this runs through each, which must behave the same (issue 23). SNMPv3 is pysnmp's
    only: netsnmp-cffi has none."""
    return str(request.param)


@pytest.fixture
def snmpd_loopback(tmp_path: Path):
    """Net-SNMP snmpd on 127.0.0.1 and a free port, stopped by PID afterwards."""
    port = free_udp_port()
    conf = tmp_path / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\n")
    with running_snmpd(conf, port):
        wait_for_snmp(port)
        yield port


@pytest.fixture
def silent_agent():
    """A UDP port that receives SNMP requests and never answers."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("network namespace tests need root")
        pytest.skip("network namespace tests need root")


class Namespaces:
    """Network namespaces a test made, all named nq-<random>-<role>, deleted at the end."""

    def __init__(self) -> None:
        import secrets

        self.prefix = f"nq-{secrets.token_hex(3)}"
        self.made: list[str] = []
        self.processes: list = []

    def add(self, role: str, ipv6: bool = False) -> str:
        import subprocess

        name = f"{self.prefix}-{role}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.made.append(name)
        self.run(name, "ip", "link", "set", "lo", "up")
        # Quiet links: IPv6 autoconfiguration would move the counters on its own.
        for scope in ("all", "default"):
            if ipv6:
                self.run(name, "sysctl", "-qw", f"net.ipv6.conf.{scope}.accept_ra=0")
                self.run(name, "sysctl", "-qw", f"net.ipv6.conf.{scope}.autoconf=0")
            else:
                self.run(name, "sysctl", "-qw", f"net.ipv6.conf.{scope}.disable_ipv6=1")
        return name

    def run(self, namespace: str, *command: str) -> str:
        import subprocess

        assert namespace in self.made, "only namespaces this test made"
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, *command], capture_output=True, text=True, timeout=60
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} in {namespace}: {done.stderr.strip()}")
        return done.stdout

    def start(self, namespace: str, *command: str, **popen: object):
        import subprocess

        assert namespace in self.made
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *command], **popen)  # type: ignore[call-overload]
        self.processes.append(process)
        return process

    def close(self) -> None:
        import subprocess

        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def namespaces():
    require_root()
    require("ip")
    require("sysctl")  # Namespaces.add quiets IPv6 with it
    spaces = Namespaces()
    try:
        yield spaces
    finally:
        spaces.close()
