"""What a subscriber's row says, worked out without a screen (nmsquota.console.rows)."""

from __future__ import annotations

from nmsquota.console.health import coarse
from nmsquota.console.rows import bar, closest, roughly, usage_cell
from nmsquota.standings import CapStanding, CapView, State, SubscriberView, Tally, Totals

MB = 10**6


def cap(name: str, used: int, of: int, state: State = State.OK) -> CapView:
    decided = CapStanding(state=state, used=used, cap=of, cap_name=name)
    return CapView(name, name, Tally(3600 if name == "1h" else 86400), "download", of,
                   Totals(bytes_in=used), decided)  # fmt: skip


def subscriber(*caps: CapView) -> SubscriberView:
    return SubscriberView("zoe", "configuration", "fair", (), caps, None, None, None, (), None)


def test_the_bar_fills_in_eighths_and_stops_full_past_the_cap() -> None:
    assert bar(0.0) == "········"
    assert bar(0.5) == "████····"
    assert bar(1 / 16) == "▌·······"
    assert bar(1.45) == bar(1.0) == "████████"


def test_a_limited_cap_is_the_one_shown_even_when_another_is_fuller() -> None:
    hour, day = cap("1h", 1 * MB, 1 * MB, State.LIMITED), cap("1d", 5 * MB, 3 * MB)
    assert closest(subscriber(day, hour)) is hour
    assert usage_cell(subscriber(day, hour))[0] == "████████ 100% 1h +1"


def test_else_the_cap_nearest_to_biting_counting_top_ups() -> None:
    # 2.7 MB of the day's 3 MB is 90%, but a 3 MB top-up makes its cap 6 MB: 45%.
    hour = cap("1h", 600_000, 1 * MB)
    topped = CapStanding(state=State.TOPPED_UP, used=2_700_000, cap=6 * MB, cap_name="1d")
    day = CapView("1d", "1d", Tally(86400), "download", 3 * MB, Totals(bytes_in=2_700_000), topped)
    assert closest(subscriber(hour, day)) is hour
    assert usage_cell(subscriber(hour, day))[0] == "████▊···  60% 1h +1"


def test_a_subscriber_without_a_plan_shows_no_usage_bar() -> None:
    assert usage_cell(subscriber()) == ("-", -1.0)


def test_ages_in_the_header_keep_their_two_largest_units() -> None:
    assert [coarse(s) for s in (0, 59, 125, 3400, 3_445_534)] == ["0s", "59s", "2m5s", "56m40s",
                                                                  "39d21h"]  # fmt: skip


def test_a_wait_is_its_two_largest_units_rounded_up_never_sooner_than_it_is() -> None:
    assert roughly(480_898) == "5d14h"  # 5d13h34m58s
    assert roughly(302_400) == "3d12h"
    assert roughly(3_601) == "1h1m"
    assert roughly(2_700) == "45m"
    assert roughly(59) == "59s"
    assert roughly(0) == "0s"
