"""The simulator's population: kinds of users spread out, the biggest user with no first day,
and the days before limiting that a run of any length can have."""

from __future__ import annotations

import pytest

from nmsquota.commands.simulate import before_days, population
from nmsquota.errors import UsageError
from nmsquota.sim.demo import START
from nmsquota.sim.world import DAY, HEAVY, LIGHT, MB, MEDIUM, World, _scales


def daily_volumes(world: World, days: int) -> dict[str, list[float]]:
    """Each subscriber's megabytes a day, unlimited."""
    volumes: dict[str, list[float]] = {s.name: [] for s in world.subscribers}
    last = {s.name: 0.0 for s in world.subscribers}
    for day in range(1, days + 1):
        world.advance(START + day * DAY)
        for s in world.subscribers:
            volumes[s.name].append((s.downloaded - last[s.name]) / MB)
            last[s.name] = s.downloaded
    return volumes


def test_a_kind_spread_out_keeps_its_mean_and_orders_its_members() -> None:
    scales = _scales(0.5, 3)
    assert scales == sorted(scales) and scales[0] < 0.6 and scales[-1] > 1.4
    assert sum(scales) / len(scales) == pytest.approx(1.0)
    assert _scales(0.0, 4) == [1.0] * 4 and _scales(0.5, 1) == [1.0]


def test_the_simulated_population_has_someone_between_the_papers_cap_and_100mb_a_week() -> None:
    """Else a 63 MB and a 100 MB cap limit the same people and --compare cannot tell them
    apart (issue 19: identical rows)."""
    world = World(START, 9, seed=2001, population=population(20))
    volumes = daily_volumes(world, 7)
    weeks = {name: sum(days) for name, days in volumes.items() if name != "biguser"}
    assert any(63 < week < 100 for week in weeks.values()), weeks
    assert all(week < 100 for week in weeks.values()), weeks


def test_the_biggest_users_first_day_is_like_his_others() -> None:
    """Online twenty hours a day for months (the paper): the run starts with him online."""
    world = World(START, 5, seed=2001, population=population(1))
    first, *others = daily_volumes(world, 3)["biguser"]
    assert first == pytest.approx(180, rel=0.1)
    assert first == pytest.approx(sum(others) / len(others), rel=0.1)


def test_the_demo_population_is_not_spread() -> None:
    """Spread is the simulator's choice: the demo's own kinds (the defaults) stay alike."""
    world = World(START, 2, seed=1, population={LIGHT: 2, MEDIUM: 2, HEAVY: 2})
    assert {s.scale for s in world.subscribers} == {1.0}


def test_days_before_limiting_default_to_three_or_fewer_in_a_short_run() -> None:
    assert before_days(None, 14) == 3
    assert [before_days(None, days) for days in (1, 2, 3, 4)] == [0, 1, 2, 3]
    assert before_days(0, 1) == 0 and before_days(5, 6) == 5


@pytest.mark.parametrize(
    ("before", "days", "message"),
    [
        (3, 3, "--before 3 leaves no day with rate limiting in a 3-day run: it needs --days 4"),
        (-1, 5, "--before must be 0 or more, got -1"),
        (None, 0, "--days must be 1 or more, got 0"),
    ],
)
def test_a_run_with_no_day_to_limit_is_refused_with_the_minimum(
    before: int | None, days: int, message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        before_days(before, days)
