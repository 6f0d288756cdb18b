"""`nmsquota run` as a process against snmpd: signals, a second daemon, kill -9 and restart."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from fixtures.config_file import WriteConfig, access_server
from prometheus_client.parser import text_string_to_metric_families

from nmsquota.nms import summary

HERE = Path(__file__).resolve().parent
HOME = {"cap": "1KB", "window": "1d"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


METRICS = free_port()


def settings(port: int, home: dict[str, str] = HOME, ledger: Path | str | None = None
             ) -> dict[str, Any]:  # fmt: skip
    """alice on lo and carol, polled every 10 s (the shortest interval nmsquota takes), the
    metrics served on a loopback port; the ledger in data_dir, or at `ledger` when that is a
    database's URL."""
    url = {"ledger": {"url": ledger}} if isinstance(ledger, str) else {}
    return {"interval": "10s", "plans": {"home": home},
            "subscribers": {"alice": {"plan": "home"}, "carol": {"plan": "home"}},
            "access_servers": {"lo": access_server(port, interfaces={"lo": "alice"})},
            "metrics": {"listen": f"127.0.0.1:{METRICS}"}, **url}  # fmt: skip


SPEED = 2
"""The test's processes run on a timeline SPEED times faster than the wall clock
(fast_clock.py), so the daemon's cycle 2 comes 5 s after cycle 1, not 10 s. Not faster:
what the test does between the two (half a second here) must fit in the gap, and snmpd's
sysUpTime must stay within the poller's 10 s of slack of the daemon's clock, or the poller
takes the gap for an agent restart."""
START = time.time()


def on_timeline(config: Path, *args: str) -> list[str]:
    """argv for `nmsquota -c config ARGS` on the test's timeline."""
    return [sys.executable, str(HERE / "fast_clock.py"), str(START), str(SPEED),
            "-c", str(config), *args]  # fmt: skip


def nmsquota(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(on_timeline(config, *args),
                          capture_output=True, text=True, cwd=REPO, timeout=60)  # fmt: skip


class Running:
    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            on_timeline(config, "run"),
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30, *, seen: bool = False) -> str:
        """The next line holding `text` (or, with `seen`, one already read: on a loaded
        machine the daemon's fast clock may log it before the line waited for first)."""
        if seen:
            for line in self.seen:
                if text in line:
                    return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} in: " + "\n".join(self.seen))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def current_summary(ledger: Path, timeout: float = 10.0) -> summary.Summary:
    deadline = time.monotonic() + timeout
    while (found := summary.current(ledger)) is None:
        assert time.monotonic() < deadline, "no current NMS summary beside the ledger"
        time.sleep(0.05)
    return found


@pytest.mark.slow
def test_signals_a_second_daemon_and_a_restart_after_kill_9(
    tmp_path: Path, config_file: WriteConfig, snmpd_loopback: int, ledger_at: Path | str
) -> None:
    # The data directory: the TinyDB ledger itself, or beside a database ledger, the daemon's
    # control socket, writer lock, commit mark and NMS summary.
    ledger = tmp_path / "ledger"
    config = config_file(data_dir=ledger, **settings(snmpd_loopback, ledger=ledger_at))
    daemon = Running(config)
    try:
        daemon.wait_for("INFO nmsquota.daemon: started: 1 access servers, 1 plans, drivers log")
        daemon.wait_for("cycle 1:")
        # A second daemon on the same ledger is refused, naming the first.
        second = subprocess.run([sys.executable, "-m", "nmsquota", "-c", str(config), "run"],
                                capture_output=True, text=True, cwd=REPO, timeout=30)  # fmt: skip
        assert second.returncode == 1
        assert str(daemon.process.pid) in second.stderr

        config_file(**settings(snmpd_loopback, {**HOME, "cap": "1 furlong"}, ledger_at))
        daemon.process.send_signal(signal.SIGHUP)
        rejected = daemon.wait_for("configuration rejected, keeping the old one")
        assert "ERROR" in rejected
        daemon.wait_for("plans.home.cap")
        config_file(**settings(snmpd_loopback, ledger=ledger_at))
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for("configuration reloaded")

        daemon.wait_for("cycle 2:", timeout=30, seen=True)  # lo's SNMP traffic is over 1 KB
        # Operator commands go through the control socket and apply at once.
        exempt = nmsquota(config, "exempt", "alice", "--for", "1h", "--reason", "testing")
        assert exempt.returncode == 0, exempt.stderr
        assert exempt.stdout == "exempt alice for 1h: testing (applied now: alice is not limited)\n"
        status = nmsquota(config, "status")
        assert status.returncode == 0, status.stdout
        # A cycle after the second (the clock runs fast): status reads the ledger's last.
        assert re.search(r"^last cycle ([2-9]|\d\d+) ", status.stdout, re.M), status.stdout
        assert "override: exempt alice until" in status.stdout
        # The daemon summarises each commit for the check plugin, which reads it.
        summarised = current_summary(ledger)
        assert summarised.counts.subscribers == 2 and summarised.subscriber("alice") is not None
        checked = subprocess.run([str(Path(sys.executable).parent / "check_nmsquota"), "--config",
                                  str(config), "subscriber", "alice"],
                                 capture_output=True, text=True, timeout=30)  # fmt: skip
        assert checked.stdout.startswith("NMSQUOTA ") and "alice: 1d " in checked.stdout
        # The daemon's [metrics] listen answers a scrape with the exposition format.
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/metrics", timeout=10) as page:
            scraped = {f.name: f for f in text_string_to_metric_families(page.read().decode())}
        assert scraped["nmsquota_cycle_varbinds"].samples[0].value > 0
        assert {s.labels["subscriber"] for s in scraped["nmsquota_subscriber_state"].samples} == {
            "alice", "carol"}  # fmt: skip
        # The injection that once forced a limit on carol: refused by the CLI, and by the
        # daemon when sent straight to its socket; nothing changes.
        injected = nmsquota(config, "exempt", "alice\nlimit carol", "--reason", "x")
        assert injected.returncode == 2
        assert injected.stderr.startswith("nmsquota: subscriber: expected a subscriber name")
        line = json.dumps({"op": "exempt", "subscriber": "alice\nlimit carol", "reason": "x"})
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(ledger / "control.sock"))
            client.sendall(line.encode() + b"\nlimit carol x\n")
            reader = client.makefile("rb")
            replies = reader.readline(), reader.readline()
        assert all(json.loads(reply)["ok"] is False for reply in replies)
        after = json.loads(nmsquota(config, "status", "--json").stdout)
        assert [limit["subscriber"] for limit in after["limits"]] == []
        assert [(o["subscriber"], o["kind"]) for o in after["overrides"]] == [("alice", "exempt")]
        up = nmsquota(config, "session", "up", "ppp0", "alice", "10.0.0.7")
        assert up.returncode == 0, up.stderr
        daemon.wait_for("session up: alice on ppp0 (10.0.0.7)")
        daemon.process.send_signal(signal.SIGTERM)
        daemon.wait_for("stopped after")
        assert daemon.process.wait(timeout=30) == 0
    finally:
        daemon.stop()

    # No daemon: overrides go into the ledger for the next start; sessions have nowhere to go.
    offline = nmsquota(config, "limit", "alice", "--reason", "abuse")
    assert (
        offline.stdout
        == "force alice until removed: abuse (no daemon running: applied at its next start)\n"
    )
    lost = nmsquota(config, "session", "down", "ppp0", "alice", "10.0.0.7")
    assert lost.returncode == 1 and "no daemon listening on" in lost.stderr

    # kill -9 in the middle of its life, then a restart on the same ledger.
    crashed = Running(config)
    try:
        crashed.wait_for("cycle 1:")
        os.kill(crashed.process.pid, signal.SIGKILL)
        crashed.process.wait(timeout=10)
    finally:
        crashed.stop()
    again = Running(config)
    try:
        again.wait_for("cycle 1:")
        status = nmsquota(config, "status", "--json")
        limits = {
            limit["subscriber"]: limit["reason"] for limit in json.loads(status.stdout)["limits"]
        }
        assert limits == {"alice": "forced: abuse"}  # the override written without a daemon
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(timeout=30) == 0
    finally:
        again.stop()
