"""The installed `check_nmsquota` console script, run as a monitoring core runs it: a process
with arguments, read for its exit status and its one line of output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from fixtures.check_ledger import GB, Cycle, Someone, build

from nmsquota.verdict import State

SCRIPT = Path(sys.executable).parent / "check_nmsquota"
LINE = re.compile(r"^NMSQUOTA (OK|WARNING|CRITICAL|UNKNOWN): [^|\n]+ \| [^|\n]+$")


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=60,
                          env=env)  # fmt: skip


def test_the_script_exits_with_the_checks_status_and_prints_one_line(tmp_path: Path) -> None:
    data = build(tmp_path, [Someone("alice", down=85 * GB // 10, state=State.WARNED),
                            Someone("bob", down=12 * GB, state=State.LIMITED, rate=1_000_000)],
                 Cycle(age=30), now=time.time())  # fmt: skip
    config = str(data / "nmsquota.toml")
    for argv, status, code in [
        (["subscriber", "alice"], "WARNING", 1),
        (["subscriber", "bob"], "CRITICAL", 2),
        (["-w", "90", "-c", "130", "subscriber", "bob"], "WARNING", 1),
        (["poller"], "OK", 0),
        (["limited"], "OK", 0),
        (["drivers"], "OK", 0),
        # As LibreNMS Services call it: -H first, then the service's parameters.
        (["-H", "192.0.2.1", "limited", "-w", "0"], "WARNING", 1),
    ]:
        done = run(*argv, "--config", config)
        assert done.returncode == code, (argv, done.stdout, done.stderr)
        assert done.stderr == ""
        assert LINE.match(done.stdout.rstrip("\n")), done.stdout
        assert done.stdout.startswith(f"NMSQUOTA {status}: ") and done.stdout.count("\n") == 1


def test_the_script_finds_the_configuration_and_its_ledger_as_nmsquota_does(tmp_path: Path) -> None:
    # No --config, no --ledger: NMSQUOTA_CONFIG, and the data_dir it names.
    data = build(tmp_path, [], Cycle(age=30), now=time.time())
    env = {**os.environ, "NMSQUOTA_CONFIG": str(data / "nmsquota.toml")}
    done = run("ledger", env=env)
    assert done.returncode == 2
    assert done.stdout.startswith("NMSQUOTA CRITICAL: no writer: no process holds its writer "
                                  "lock (the daemon is not running); ledger "
                                  f"{data / 'ledger'} readable")  # fmt: skip


def test_the_script_gives_up_after_its_timeout_as_unknown(tmp_path: Path) -> None:
    data = build(tmp_path, [])
    state = data / "ledger" / "state.json"
    state.unlink()
    os.mkfifo(state)  # opening it for reading waits for a writer that never comes
    started = time.monotonic()
    done = run("-t", "1", "--config", str(data / "nmsquota.toml"), "poller")
    assert time.monotonic() - started < 10
    assert (done.returncode, done.stdout) == (3, "NMSQUOTA UNKNOWN: Timeout: check execution "
                                                 "aborted after 1s\n")  # fmt: skip
