"""`nmsquota simulate`: the paper's qualitative results, and the same seed gives the same."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO


def simulate(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def megabytes(out: str, label: str) -> float:
    line = next(line for line in out.splitlines() if line.startswith(label))
    return float(re.search(r"([\d.]+) MB", line).group(1))  # type: ignore[union-attr]


@pytest.mark.slow
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
    # Seeded: the same seed, the same numbers (all but the run's own timing), and the
    # bypass of the SNMP hop changes nothing but the speed.
    again = simulate(*args, "--no-snmp")
    assert out.splitlines()[1:] == again.splitlines()[1:]
    assert re.sub(r"over SNMP in [\d.]+s", "", out.splitlines()[0]) == re.sub(
        r"without SNMP \(--no-snmp\) in [\d.]+s", "", again.splitlines()[0]
    )


@pytest.mark.slow
def test_a_recorded_ledger_is_replayed_under_the_plan(tmp_path) -> None:
    """The paper's week, recorded in a ledger, replayed with limits from the third day."""
    from nmsquota.ledger import Ledger, Tally
    from nmsquota.sim.paper_week import paper_week

    start = 997_626_600  # Monday 13 August 2001, Adelaide
    samples = list(paper_week(start, days=7))
    with Ledger.open_writer(tmp_path / "recorded", [Tally(7 * 86400)]) as ledger:
        for when in sorted({s.time for s in samples}):
            ledger.commit(when, [s for s in samples if s.time == when])
    out = simulate("--replay", str(tmp_path / "recorded"), "--before", "2", "--no-snmp")
    assert out.startswith(f"7 subscribers (replay of {tmp_path / 'recorded'} ")
    assert "7 days" in out.splitlines()[0]
    line = next(line for line in out.splitlines() if line.startswith("biggest user's daily"))
    assert line.endswith("(biguser)")
    assert megabytes(out, "biggest user's daily volume, before") > 150
    # Held to 300 bytes/s for the 20 hours a day he is online.
    assert 15 <= megabytes(out, "biggest user's daily volume, after") <= 25
    assert "subscribers ever limited:                   1 of 7" in out
    bad = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", "--replay",
                          str(tmp_path / "nothing")], capture_output=True, text=True,
                         cwd=REPO)  # fmt: skip
    assert bad.returncode == 2 and f"--replay {tmp_path / 'nothing'}" in bad.stderr


@pytest.mark.slow
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
