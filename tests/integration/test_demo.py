"""`nmsquota demo --headless`: a simulated week through the whole system (real SNMP on
loopback, the real ledger, policy and daemon, the sim driver feeding back)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.sim.demo import falls_behind


@pytest.mark.slow
def test_a_headless_week_limits_the_biggest_user_by_day_and_by_week(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "nmsquota", "demo", "--headless", "--for", "7d", "--keep",
         str(keep)], capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    events = [line for line in out.splitlines() if line[:3] in
              ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") and "MB" not in line]  # fmt: skip
    # Over the cap from last week's usage: limited when his session starts (the paper's
    # rule), released once that usage leaves the window; back at full speed, the day's cap
    # slows him first, and the week's then slows him further.
    assert events[0] == "Mon 13 Aug 00:00  biguser limited to 3kbit, cap 7d"
    biguser = [event.split("  ")[1] for event in events if " biguser " in event]
    assert biguser == [
        "biguser limited to 3kbit, cap 7d",
        "biguser released",
        "biguser limited to 32kbit, cap 1d",
        "biguser limited to 3kbit, cap 7d",
    ]
    assert re.search(r"^biguser met the daily cap \(1d\) at Sun \d\d:\d\d, before the weekly "
                     r"cap \(7d\) at Sun \d\d:\d\d\.$", out, re.MULTILINE), out  # fmt: skip
    # Held near the limited rate while limited: about 20 MB a day, as in the paper.
    monday = next(line for line in out.splitlines() if line.startswith("Mon 13 Aug  "))
    assert 15 <= float(monday.split()[5]) <= 30
    # The kept ledger is there for the reports.
    config = str(keep / "nmsquota.toml")
    usage = subprocess.run([sys.executable, "-m", "nmsquota", "-c", config, "usage", "biguser"],
                           capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert usage.returncode == 0 and usage.stdout.splitlines()[1].startswith("biguser")
    # The status the demo suggests reads the ledger as a run that ended on the demo's clock,
    # not as a daemon gone stale (its last cycle is in 2001).
    assert f"nmsquota -c {config} status" in out
    status = subprocess.run([sys.executable, "-m", "nmsquota", "-c", config, "status"],
                            capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    assert "on a simulated clock" in status.stdout and "STALE" not in status.stdout


def test_the_live_demo_limits_at_the_start_and_warns_only_of_a_machine_that_falls_behind(
    tmp_path: Path,
) -> None:
    # Not headless: the clock runs at an hour a second. Setting up (the SNMP engine, the
    # first walk) took a fifth of a second, twelve simulated minutes: the limit that is due
    # at the start landed that late, and the first cycle's overrun raised the warning.
    done = subprocess.run(
        [sys.executable, "-m", "nmsquota", "demo", "--for", "2h", "--speed", "3600"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    first = next(line for line in out.splitlines() if line.endswith("limited to 3kbit, cap 7d"))
    assert first == "Mon 13 Aug 00:00  biguser limited to 3kbit, cap 7d"
    polled = re.search(r"^(\d+) cycles polled over SNMP(?: \((\d+) skipped)?", out, re.M)
    assert polled is not None, out
    cycles, skipped = int(polled[1]), int(polled[2] or 0)
    assert cycles + skipped >= 24  # two hours of 5-minute cycles, run or skipped
    # The warning is a statement about this run: a machine loaded enough to skip more
    # than one cycle in twenty really falls behind, and is told so; one that skipped none
    # is not.
    warned = "does not keep up" in out
    if falls_behind(cycles, skipped):
        assert warned, out
    if skipped == 0:
        assert not warned, out
