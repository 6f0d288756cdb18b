"""The cost of a device's poll, learned from cycles already run (made-up timings)."""

from __future__ import annotations

import pytest

from nmsquota.snmp.capacity import PRIOR_VARBINDS, Costs, Observation, fit


def test_before_any_cycle_a_device_costs_the_prior() -> None:
    costs = Costs()
    assert not costs.measured
    assert costs.size("bras1") == PRIOR_VARBINDS
    assert costs.cost("bras1") == pytest.approx(costs.per_device + costs.per_varbind * 4008)


def test_cycles_of_different_shapes_separate_the_cost_per_device_from_per_varbind() -> None:
    # Made up: 0.05 s a device and 0.1 ms a varbind, seen in cycles of different shapes.
    costs = Costs()
    for devices, varbinds in [(10, 20_000), (40, 20_000), (5, 50_000)]:
        costs.learn(Observation(devices, varbinds, 0.05 * devices + 1e-4 * varbinds))
    assert costs.per_device == pytest.approx(0.05)
    assert costs.per_varbind == pytest.approx(1e-4)


def test_cycles_of_one_shape_scale_both_costs_to_the_cpu_measured() -> None:
    costs = Costs(per_varbind=1e-4, per_device=0.1)
    # 20 devices of 1,000 varbinds: 4.0 s expected, 12.0 s measured (a busier machine).
    costs.learn(Observation(20, 20_000, 12.0))
    costs.learn(Observation(20, 20_000, 12.0))
    assert costs.per_device == pytest.approx(0.3)
    assert costs.per_varbind == pytest.approx(3e-4)
    costs.sized("bras1", 1_000)
    assert costs.cost("bras1") == pytest.approx(0.6)


def test_a_fit_never_makes_a_cost_negative() -> None:
    # More devices but less CPU: a least-squares fit would give a negative cost per device.
    per_device, per_varbind = fit(
        [Observation(10, 10_000, 2.0), Observation(50, 20_000, 3.0)], 0.1, 1e-4
    )
    assert per_device >= 0 and per_varbind > 0


def test_a_cycle_where_nothing_answered_teaches_nothing() -> None:
    costs = Costs()
    before = (costs.per_device, costs.per_varbind)
    costs.learn(Observation(0, 0, 30.0))
    assert (costs.per_device, costs.per_varbind) == before and not costs.measured


def test_the_machine_follows_a_change_in_cost_within_the_cycles_kept() -> None:
    costs = Costs()
    for _ in range(8):
        costs.learn(Observation(10, 10_000, 1.0))
    for _ in range(8):
        costs.learn(Observation(10, 10_000, 4.0))
    costs.sized("bras1", 1_000)
    assert costs.cost("bras1") == pytest.approx(0.4)


def test_a_device_never_polled_is_taken_as_the_typical_one() -> None:
    costs = Costs()
    for name, size in [("a", 1_000), ("b", 3_000), ("c", 2_000)]:
        costs.sized(name, size)
    assert costs.size("new") == 2_000


def test_how_many_devices_of_this_size_fit_in_an_interval() -> None:
    costs = Costs(per_device=0.1, per_varbind=1e-4)
    costs.sized("bras1", 4_000)  # 0.5 s each
    assert costs.fits(300) == 600
    assert costs.fits(300, varbinds=9_000) == 300


def test_a_busy_machine_slows_the_poll_and_fewer_devices_fit() -> None:
    costs = Costs(per_device=0.5, per_varbind=1e-9)
    costs.sized("bras1", 0)
    costs.paced(cpu=5.0, idle=0.0, seconds=10.0)  # others held the cores half the time
    assert costs.pace == 0.5
    assert costs.fits(300) == 300


def test_a_poll_waiting_on_slow_agents_on_an_idle_machine_keeps_its_full_pace() -> None:
    costs = Costs()
    costs.paced(cpu=1.0, idle=15.0, seconds=10.0)
    assert costs.pace == 1.0
