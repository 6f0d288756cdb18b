"""Projected crossings."""

from __future__ import annotations

from nmsquota.projection import next_look

GB = 10**9


def test_a_fast_subscriber_is_looked_at_a_little_before_the_rate_says_they_cross() -> None:
    # 100 Mbit/s = 12.5 MB/s; 1 GB short of a 100 GB cap: crosses in 80 s at that rate,
    # in 53 s at 1.5 times it.
    assert next_look(99 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0, headroom=1.0) == 1080.0
    assert round(next_look(99 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0), 1) == 1053.3


def test_no_look_when_the_next_cycle_comes_first_or_nothing_moves() -> None:
    assert next_look(10 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0) is None  # crosses much later
    assert next_look(99 * GB, 100 * GB, 0.0, 1000.0, 1300.0) is None
    assert next_look(100 * GB, 100 * GB, 12.5e6, 1000.0, 1300.0) is None  # already over


def test_never_sooner_than_the_agents_cache_can_show() -> None:
    assert next_look(100 * GB - 1, 100 * GB, 12.5e6, 1000.0, 1300.0) == 1005.0
