"""`nmsquota demo --headless`: a simulated week through the whole system (real SNMP on
loopback, the real ledger, policy and daemon, the sim driver feeding back)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO


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
