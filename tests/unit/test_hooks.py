"""The sample ip-up/ip-down hooks and the systemd unit shipped in nmsquota/data."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import REPO

DATA = REPO / "nmsquota" / "data"


def test_ip_up_passes_the_interface_login_and_address_and_never_fails(tmp_path: Path) -> None:
    fake = tmp_path / "nmsquota"
    fake.write_text('#!/bin/sh\necho "$@" > "$RECORD"\nexit 1\n')  # and the daemon is down
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "PEERNAME": "davidn",
           "RECORD": str(tmp_path / "args")}  # fmt: skip
    done = subprocess.run([DATA / "ip-up", "ppp3", "/dev/ttyS1", "115200", "192.0.2.1",
                           "203.0.113.7", ""], env=env)  # fmt: skip
    assert done.returncode == 0
    assert (tmp_path / "args").read_text() == "session up ppp3 davidn 203.0.113.7\n"
    no_peer = {k: v for k, v in env.items() if k != "PEERNAME"}
    assert subprocess.run([DATA / "ip-down", "ppp3", "", "", "", "203.0.113.7"],
                          env=no_peer).returncode == 0  # fmt: skip


def test_the_systemd_unit_runs_the_daemon_and_reloads_with_sighup() -> None:
    unit = (DATA / "nmsquota.service").read_text()
    assert "ExecStart=/usr/local/bin/nmsquota -c /etc/nmsquota/nmsquota.toml run" in unit
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
