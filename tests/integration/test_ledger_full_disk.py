"""`nmsquota run` on a ledger whose file system fills up, for real: a 1 MiB tmpfs mounted in
a private mount namespace (`unshare -m`), which only the daemon and the commands the test
runs inside it (`nsenter`) ever see. The machine's own mounts are never touched; the tmpfs
goes away with the daemon's namespace."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, require_root
from fixtures.config_file import WriteConfig
from integration.test_daemon_process import on_timeline, settings


def wait_in_log(log: Path, text: str, daemon: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and daemon.poll() is None:
        lines = log.read_text().splitlines() if log.exists() else []
        found = [line for line in lines if text in line]
        if found:
            return found[0]
        time.sleep(0.2)
    _, err = daemon.communicate(timeout=10) if daemon.poll() is not None else ("", "")
    raise AssertionError(f"no {text!r} in the daemon's log:\n{log.read_text()}{err}")


@pytest.mark.slow
def test_the_daemon_on_a_full_file_system_logs_keeps_the_ledger_and_recovers(
    tmp_path: Path, config_file: WriteConfig, snmpd_loopback: int
) -> None:
    require_root()
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("needs unshare and nsenter (util-linux)")
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    log = tmp_path / "daemon.log"  # outside the tmpfs: the log must not fill up with it
    config = config_file(
        data_dir=ledger, **settings(snmpd_loopback, {"cap": "1GB", "window": "1d"})
    )
    mount = f'mount -t tmpfs -o size=1m,mode=0755 nq-full {ledger} && exec "$@"'
    daemon = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", mount, "sh",
         *on_timeline(config, "run", "--log-file", str(log))],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    inside = ["nsenter", "-t", str(daemon.pid), "-m", "--"]

    def run_inside(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*inside, *argv], capture_output=True, text=True, cwd=REPO,
                              timeout=60)  # fmt: skip

    def status() -> subprocess.CompletedProcess[str]:
        return run_inside(*on_timeline(config, "status"))

    try:
        wait_in_log(log, "cycle 2:", daemon)
        assert not (ledger / "state.json").exists()  # the ledger is in the tmpfs, not here
        last_good = run_inside("cat", str(ledger / "state.json")).stdout

        filled = run_inside("sh", "-c", f"cat /dev/zero > {ledger}/filler")
        assert "No space left on device" in filled.stderr
        failed = wait_in_log(log, "not recorded", daemon)
        assert "ERROR nmsquota.daemon: cycle" in failed
        assert f"cannot write {ledger}/" in failed and "No space left on device" in failed
        assert daemon.poll() is None  # still running

        refused = status()
        assert refused.returncode == 1, refused.stdout
        assert refused.stdout.startswith("ledger: writes failing since ")
        assert "No space left on device" in refused.stdout.splitlines()[0]
        # The last good commit, whole: the same file, and it parses.
        kept = run_inside("cat", str(ledger / "state.json")).stdout
        assert kept == last_good and json.loads(kept)
        assert (
            run_inside("sh", "-c", f"ls -a {ledger} {ledger}/usage | grep -c tmp$").stdout == "0\n"
        )

        assert run_inside("rm", f"{ledger}/filler").returncode == 0
        wait_in_log(log, "ledger writes work again", daemon)
        recovered = status()
        assert recovered.returncode == 0, recovered.stdout
        assert "writes failing" not in recovered.stdout
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert "Traceback" not in log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait(timeout=10)
