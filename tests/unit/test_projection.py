"""Projected crossings: when a look at a subscriber between cycles is worth making."""

from __future__ import annotations

from nmsquota.daemon.looks import Looks
from nmsquota.policy import Rule, evaluate
from nmsquota.projection import MIN_GAP, min_lead, next_look
from nmsquota.usage import Totals

GB, MB = 10**9, 10**6
LONG = min_lead(300)  # the lead a look needs at a 5-minute interval
SHORT = min_lead(10)  # and at 10 s


def test_a_fast_subscriber_is_looked_at_a_little_before_the_rate_says_they_cross() -> None:
    # 100 Mbit/s = 12.5 MB/s; 1 GB short of a 100 GB cap: crosses in 80 s at that rate,
    # in 53 s at 1.5 times it.
    assert next_look(99 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0, LONG, headroom=1.0) == 1080.0
    assert round(next_look(99 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0, LONG), 1) == 1053.3


def test_no_look_when_the_next_cycle_comes_first_or_nothing_moves() -> None:
    assert next_look(10 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0, LONG) is None  # much later
    assert next_look(99 * GB, 100 * GB, 0.0, 1000.0, 1300.0, LONG) is None
    assert next_look(100 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0, LONG) is None  # already over


def test_never_sooner_than_the_agents_counter_cache_can_show_something_new() -> None:
    # Net-SNMP refreshes the counters it serves every 3 s: 3.5 s after the last read.
    assert MIN_GAP == 3.5
    assert next_look(100 * GB - 1, 100 * GB, 12.5e6, 1000.0, 1300.0, LONG) == 1003.5


def test_the_lead_is_the_time_a_look_takes_at_short_intervals_a_share_at_long_ones() -> None:
    assert min_lead(10) == 1.0  # a look must land before the cycle it would pre-empt
    assert min_lead(300) == 10.0  # and save a thirtieth of an interval's overshoot


def test_at_a_10_s_interval_a_crossing_6_s_after_the_cycle_gets_a_look_at_6_s() -> None:
    # 1 MB/s, 9 MB short of the cap: at 1.5 times the rate, the crossing is 6 s away. The
    # look saves 4 s of overshoot against the cycle at 10 s (the rule before dropped every
    # look due within 5 s of the cycle, this one among them).
    assert next_look(91 * MB, 100 * MB, 1e6, 1000.0, 1010.0, SHORT) == 1006.0


def test_at_a_10_s_interval_a_crossing_projected_3_s_after_the_cycle_is_looked_at_3_5_s() -> None:
    assert next_look(95.5 * MB, 100 * MB, 1e6, 1000.0, 1010.0, SHORT) == 1003.5


def test_no_look_closer_to_the_next_cycle_than_the_lead() -> None:
    # Projected 9.5 s after the cycle at 10 s: the cycle itself comes 0.5 s later.
    assert next_look(85.75 * MB, 100 * MB, 1e6, 1000.0, 1010.0, SHORT) is None
    assert next_look(86.5 * MB, 100 * MB, 1e6, 1000.0, 1010.0, SHORT) == 1009.0


HOME = Rule(cap=100 * MB)


def _after_cycle(looks: Looks, used: int, moved: int, now: float) -> None:
    evaluation = evaluate({"home": HOME}, {"alice": "home"},
                          {"home": {"alice": Totals(used, 0)}}, int(now), {})  # fmt: skip
    looks.after_cycle(evaluation, {"alice": Totals(moved, 0)}, now, ["alice"],
                      {"alice": "home"}, {"home": (HOME,)}, 10, enabled=True)  # fmt: skip


def test_a_cycle_that_saw_nothing_new_since_a_look_times_the_next_from_the_whole_interval() -> None:
    # 1 MB/s. A look at 9 s (just before the cycle at 10 s) read the agent's refresh at 8 s;
    # the cycle read the same refresh: no bytes since the look, which says nothing about
    # the rate. Taken since the last cycle, with the look's bytes, it is 0.8 MB/s, and the
    # crossing 10 MB away (8.3 s at 1.5 times that rate) is looked at before 20 s.
    looks = Looks()
    _after_cycle(looks, 70 * MB, 0, 1000.0)
    looks.last_look["alice"] = 1009.0
    looks.looked["alice"] = Totals(8 * MB, 0)
    _after_cycle(looks, 90 * MB, 0, 1010.0)
    assert round(looks.targets["alice"], 2) == 1018.33


def test_a_cycle_soon_after_a_look_does_not_take_the_rate_over_a_second() -> None:
    # A look at 9 s, the cycle at 10 s saw 0.1 MB more (the agent refreshed between them):
    # 0.1 MB/s over that second is noise. Over the interval it is 1 MB/s (10 MB with the
    # look's), and the crossing 6 MB away (4 s at 1.5 times the rate) is looked at.
    looks = Looks()
    _after_cycle(looks, 70 * MB, 0, 1000.0)
    looks.last_look["alice"] = 1009.0
    looks.looked["alice"] = Totals(int(9.9 * MB), 0)
    _after_cycle(looks, 94 * MB, int(0.1 * MB), 1010.0)
    assert round(looks.targets["alice"], 2) == 1014.0
