"""`nmsquota simulate`: the paper's qualitative results, and the same seed gives the same."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def simulate(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def megabytes(out: str, label: str) -> float:
    line = next(line for line in out.splitlines() if line.startswith(label))
    return float(re.search(r"([\d.]+) MB", line).group(1))  # type: ignore[union-attr]


def test_limiting_cuts_the_volume_and_holds_the_biggest_user_near_the_limited_rate() -> None:
    args = ("--subscribers", "6", "--days", "3", "--before", "1", "--seed", "7")
    out = simulate(*args)
    before = megabytes(out, "daily ISP volume, before")
    after = megabytes(out, "daily ISP volume, after")
    assert after < before / 2  # a clear drop in total volume
    assert megabytes(out, "biggest user's daily volume, before") > 120
    # 20 hours a day at the 300 bytes/s a 3 kbit/s limit lets through: about 21.6 MB.
    assert 15 <= megabytes(out, "biggest user's daily volume, after") <= 25
    assert "worst-case excess cost of a limited subscriber: $155.52 a month" in out
    # Seeded: the same seed, the same numbers (all but the run's own timing).
    again = simulate(*args)
    assert out.splitlines()[1:] == again.splitlines()[1:]
    assert re.sub(r"in [\d.]+s", "", out.splitlines()[0]) == re.sub(
        r"in [\d.]+s", "", again.splitlines()[0]
    )


def test_compare_tabulates_policies_on_the_same_traffic() -> None:
    out = simulate("--subscribers", "4", "--days", "2", "--before", "1", "--seed", "7",
                   "--compare", "63MB/7d/3kbit", "63MB/7d/64kbit/fixed")  # fmt: skip
    rows = {line.split()[0]: line.split() for line in out.splitlines() if "/7d/" in line}
    slow, fast = rows["63MB/7d/3kbit"], rows["63MB/7d/64kbit/fixed"]
    assert slow[1:3] == fast[1:3]  # the same traffic before limiting starts
    # At 64 kbit the limit hardly bites: the worst case costs 21 times more a month.
    assert slow[-1] == "$155.52" and fast[-1] == "$3317.76"
    bad = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", "--compare", "63MB"],
                         capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert bad.returncode == 2 and "expected CAP/WINDOW/RATE[/fixed], got '63MB'" in bad.stderr
