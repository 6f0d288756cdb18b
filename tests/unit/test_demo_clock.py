"""The demo's clock and what it says of the machine keeping up with it."""

from __future__ import annotations

import pytest

from nmsquota.clock import AcceleratedClock, ManualClock
from nmsquota.sim.demo import falls_behind


def test_a_held_accelerated_clock_stays_at_its_start_until_it_runs() -> None:
    wall = ManualClock(1_000.0)
    clock = AcceleratedClock(997_626_600.0, 3600, wall, running=False)
    wall.advance(0.3)  # setting up: the SNMP engine, the first walk
    assert clock.now() == 997_626_600.0
    clock.run()
    wall.advance(0.5)
    assert clock.now() == pytest.approx(997_626_600.0 + 1800)
    clock.run()  # once: running again does not move the start
    assert clock.now() == pytest.approx(997_626_600.0 + 1800)


def test_an_accelerated_clock_runs_from_when_it_is_made_by_default() -> None:
    wall = ManualClock(1_000.0)
    clock = AcceleratedClock(0.0, 10, wall)
    wall.advance(2)
    assert clock.now() == 20


@pytest.mark.parametrize(
    ("cycles", "skipped", "behind"),
    [
        (10, 1, False),  # before the first hour is not judged: one slot of twelve is no trend
        (200, 1, False),  # a slot lost now and then
        (190, 10, False),  # one in twenty
        (189, 11, True),  # more than one in twenty
        (8, 4, True),  # a third of the first hour
    ],
)
def test_the_machine_falls_behind_when_it_skips_more_than_one_cycle_in_twenty(
    cycles: int, skipped: int, behind: bool
) -> None:
    assert falls_behind(cycles, skipped) is behind
