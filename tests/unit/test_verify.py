"""Limits proven to bite: flagged after cycles above the limited rate, cleared after one
within it; offline subscribers keep their check; released ones drop out."""

from __future__ import annotations

from nmsquota.config import Verify
from nmsquota.daemon.verification import check_limits
from nmsquota.policy import Decision, Evaluation
from nmsquota.usage import Totals
from nmsquota.verdict import State
from nmsquota.verify import Check, verify

RATE = 64_000  # bits/s
INTERVAL = 300.0


def octets(bps: float) -> tuple[int, float]:
    return int(bps * INTERVAL / 8), INTERVAL


def test_a_limit_that_does_not_bite_is_flagged_after_the_configured_cycles() -> None:
    checks: dict[str, Check] = {}
    seen = []
    for now, bps in enumerate([9_000_000, 9_000_000, 9_000_000, 70_000, 9_000_000]):
        result = verify(checks, {"alice": RATE}, {"alice": octets(bps)}, now, 0.25, cycles=2)
        checks = result.checks
        seen.append((checks["alice"].flagged, result.flagged, result.cleared))
    assert seen == [
        (False, [], []),
        (True, ["alice"], []),  # two cycles in a row: flagged, once
        (True, [], []),
        (False, [], ["alice"]),  # 70 kbit/s is within 64 kbit/s + 25%: it bites now
        (False, [], []),  # one cycle over again is not yet a flag
    ]
    flagged = verify(checks, {"alice": RATE}, {"alice": octets(9_000_000)}, 9, 0.25, 2)
    assert flagged.checks["alice"] == Check(2, True, 9_000_000, RATE, 9)


def test_the_margin_allows_for_the_queue_and_headers() -> None:
    within = verify({}, {"bob": RATE}, {"bob": octets(RATE * 1.25)}, 0, 0.25, cycles=1)
    assert not within.checks["bob"].flagged
    over = verify({}, {"bob": RATE}, {"bob": octets(RATE * 1.3)}, 0, 0.25, cycles=1)
    assert over.flagged == ["bob"] and over.checks["bob"].measured_bps == int(RATE * 1.3)


def test_offline_subscribers_keep_their_check_and_released_ones_drop_out() -> None:
    flagged = Check(3, True, 9_000_000, RATE, 100)
    result = verify({"alice": flagged, "gone": flagged}, {"alice": RATE}, {}, 200)
    assert result.checks == {"alice": flagged} and not result.cleared


# -- the daemon's side: bytes and seconds on the same clock -----------------------------------


def limited(name: str, rate_bps: int, since: int) -> Evaluation:
    decision = Decision(name, 2 * 10**9, 10**9, State.LIMITED, None, since, rate_bps=rate_bps)
    return Evaluation({name: decision})


def test_the_daemon_measures_bytes_over_the_seconds_of_the_agents_clock() -> None:
    """A 12 Mbit/s link, full for the 11.58 s the agent's sysUpTime moved between the two
    samples, while the daemon's cycles began 10 s apart: 12 Mbit/s, not 13.9."""
    moved = {"alice": Totals(int(12_000_000 / 8 * 11.58), 0)}
    checks, _ = check_limits({}, Verify(margin="25%", cycles=1), limited("alice", 12_000_000, 0),
                             moved, {"alice": 11.58}, previous=1000.0, now=1010.0)  # fmt: skip
    assert checks["alice"].measured_bps == 12_000_000


def test_the_daemon_does_not_measure_a_subscriber_without_a_span() -> None:
    before = Check(1, False, 9_000_000, 64_000, None)
    moved = {"alice": Totals(10**9, 0)}
    evaluation = limited("alice", 64_000, 0)
    checks, flagged = check_limits({"alice": before}, Verify(cycles=1), evaluation, moved, {},
                                   previous=1000.0, now=1300.0)  # fmt: skip
    assert checks["alice"] == before and flagged == []
