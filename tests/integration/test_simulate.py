"""`nmsquota simulate`: the paper's qualitative results, and the same seed gives the same."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.util import find_spec

import pytest
from conftest import REPO


def simulate(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def row(out: str, label: str) -> list[str]:
    """The report's row that starts with `label`: its cells (label, this run, the paper)."""
    line = next(line for line in out.splitlines() if line.startswith(label))
    return re.split(r"\s{2,}", line.strip())


def megabytes(out: str, label: str) -> float:
    return float(re.search(r"([\d.]+) MB", row(out, label)[1]).group(1))  # type: ignore[union-attr]


def refused(*args: str) -> str:
    """stderr of a simulate that must be refused with a usage error (exit 2)."""
    done = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=60)  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    return done.stderr


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
    assert row(out, "worst-case excess cost")[1] == "$155.52 a month"
    # Seeded: the same seed, the same numbers (all but the run's own timing), whichever
    # library polls the agent, and the bypass of the SNMP hop changes nothing but the speed.
    runs = [simulate(*args, "--transport", "pysnmp"), simulate(*args, "--no-snmp")]
    if find_spec("netsnmpy") is not None:
        runs.append(simulate(*args, "--transport", "netsnmp"))
    assert "over SNMP (pysnmp)" in runs[0].splitlines()[0]
    for again in runs:
        assert out.splitlines()[1:] == again.splitlines()[1:]
        assert _untimed(out) == _untimed(again)


def _untimed(out: str) -> str:
    """The report's first line without how the agent was read and how long it took."""
    return re.sub(r"(over SNMP \(\w+\)|without SNMP \(--no-snmp\)) in [\d.]+s", "",
                  out.splitlines()[0])  # fmt: skip


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
    assert row(out, "subscribers ever limited")[1] == "1 of 7 (14%)"
    # Your own subscribers: the paper's ISP is no yardstick for them.
    assert "THE PAPER" not in out and "why ours differ" not in out
    bad = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", "--replay",
                          str(tmp_path / "nothing")], capture_output=True, text=True,
                         cwd=REPO)  # fmt: skip
    assert bad.returncode == 2 and f"--replay {tmp_path / 'nothing'}" in bad.stderr


@pytest.mark.slow
def test_compare_tabulates_policies_on_the_same_traffic() -> None:
    # --no-snmp: the first test shows the SNMP hop changes nothing but the speed.
    out = simulate("--subscribers", "4", "--days", "2", "--before", "1", "--seed", "7",
                   "--no-snmp", "--compare", "63MB/7d/3kbit", "63MB/7d/64kbit/fixed")  # fmt: skip
    rows = {line.split()[0]: line.split() for line in out.splitlines() if "/7d/" in line}
    slow, fast = rows["63MB/7d/3kbit"], rows["63MB/7d/64kbit/fixed"]
    assert slow[1:3] == fast[1:3]  # the same traffic before limiting starts
    # At 64 kbit the limit hardly bites: the worst case costs 21 times more a month.
    assert slow[-1] == "$155.52" and fast[-1] == "$3317.76"
    bad = subprocess.run([sys.executable, "-m", "nmsquota", "simulate", "--compare", "63MB"],
                         capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert bad.returncode == 2 and "expected CAP/WINDOW/RATE[/fixed], got '63MB'" in bad.stderr


@pytest.mark.slow
def test_the_report_puts_the_papers_figures_beside_ours_and_says_what_it_assumes() -> None:
    out = simulate("--subscribers", "3", "--days", "2", "--before", "1", "--interval", "1h",
                   "--no-snmp")  # fmt: skip
    header = next(line for line in out.splitlines() if "THIS RUN" in line)
    assert header.split() == [
        "THIS",
        "RUN",
        "THE",
        "PAPER",
        "(63MB",
        "per",
        "7d,",
        "then",
        "3kbit)",
    ]
    assert row(out, "daily ISP volume, before")[2] == "300 to 400 MB"
    assert row(out, "daily ISP volume, after")[2] == "100 to 200 MB"
    assert row(out, "biggest user's daily volume, before")[2] == "about 180 MB"
    assert row(out, "biggest user's daily volume, after")[2] == "about 20 MB"
    assert row(out, "worst-case excess cost")[1:] == ["$155.52 a month", "$155.40"]
    # The 80% is the paper's: its 3 kbit/s pipe "permits approximately 300 bytes per second".
    assert ("assumed: a limited subscriber gets 80% of the limited rate, 300 bytes/s at 3kbit"
            in out)  # fmt: skip
    assert "excess cost: 30 days x 86400 s x 300 bytes/s / 10^6 x $0.20/MB" in out
    why = next(line for line in out.splitlines() if line.startswith("why ours differ"))
    assert "3 simulated subscribers" in why and "its formula gives $155.52" in why


@pytest.mark.slow
def test_a_run_shorter_than_the_days_before_limiting_still_reports_both_sides() -> None:
    """The default --before 3 shrinks in a shorter run: one day before, one after."""
    out = simulate("--subscribers", "2", "--days", "2", "--interval", "1h", "--no-snmp")
    assert "before: day 1 without rate limiting; after: day 2 (whole days)" in out
    assert "note: 2 days is shorter than the 7d window" in out
    assert megabytes(out, "biggest user's daily volume, before") > 150
    assert 15 <= megabytes(out, "biggest user's daily volume, after") <= 25
    # Asked for, days before limiting that leave none after are refused, with the minimum.
    assert (
        "--before 3 leaves no day with rate limiting in a 3-day run: it needs --days 4 or "
        "more" in refused("--days", "3", "--before", "3")
    )
    assert "--days must be 1 or more, got 0" in refused("--days", "0")


@pytest.mark.slow
def test_compare_tells_apart_caps_that_someone_sits_between_and_repeats_itself() -> None:
    """Issue 19: 63MB and 100MB/fixed gave identical rows: nobody but the biggest user (far
    over both) ever came near either cap. A heavy user between them is limited by one only."""
    out = simulate("--subscribers", "16", "--days", "10", "--interval", "1h", "--no-snmp",
                   "--compare", "63MB/7d/3kbit", "100MB/7d/3kbit/fixed",
                   "63MB/7d/3kbit")  # fmt: skip
    rows = [line.split() for line in out.splitlines() if "/7d/" in line]
    paper, larger, paper_again = rows
    assert paper[1:3] == larger[1:3]  # the same traffic before limiting starts (3 days)
    assert paper[7:9] == ["2", "of"] and larger[7:9] == ["1", "of"]  # EVER LIMITED
    assert float(paper[3]) < float(larger[3])  # less volume after, with the smaller cap
    assert paper == paper_again  # the same policy on the same traffic: the same row
