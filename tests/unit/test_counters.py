"""Counter arithmetic: wraps, restarts, spikes, failed reads, down interfaces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.counters import (
    DEFAULT_CEILING_BPS,
    RATE_ALLOWANCE,
    SKEW_SECONDS,
    Charge,
    Reading,
    Verdict,
    charge,
)

GIG = 10**9


def reading(t: float, octets_in: int | None, octets_out: int | None = 0, **extra) -> Reading:
    return Reading(t, octets_in, octets_out, **extra)


def test_the_first_reading_is_a_baseline() -> None:
    result, baseline = charge(None, reading(0, 500))
    assert result.verdict is Verdict.BASELINE and (result.bytes_in, result.bytes_out) == (0, 0)
    assert baseline == reading(0, 500)


def test_a_plain_difference_is_charged() -> None:
    result, _ = charge(reading(0, 1000, 10, speed_bps=GIG), reading(300, 5000, 30, speed_bps=GIG))
    assert result == Charge(4000, 20, Verdict.CHARGED)


@pytest.mark.parametrize("width", [32, 64])
def test_a_wrap_is_charged_as_the_bytes_that_passed(width: int) -> None:
    top = 2**width
    result, _ = charge(
        reading(0, top - 100, width=width, speed_bps=GIG),
        reading(300, 50, width=width, speed_bps=GIG),
    )
    assert result.bytes_in == 150 and result.verdict is Verdict.CHARGED


def test_a_64_bit_counter_going_back_is_never_a_huge_charge() -> None:
    result, baseline = charge(reading(0, 10**12), reading(300, 5))
    assert result.verdict is Verdict.SPIKE and result.bytes_in == 0
    assert baseline == reading(300, 5)


def test_a_restart_charges_nothing_and_starts_over() -> None:
    before = reading(0, 10**9, uptime=500_000)
    after = reading(300, 1234, uptime=1_000)
    result, baseline = charge(before, after)
    assert result.verdict is Verdict.RESTART and result.bytes_in == 0
    assert baseline == after
    assert "sysUpTime" in result.note


def test_engine_boots_changing_is_a_restart() -> None:
    result, _ = charge(reading(0, 100, boots=3), reading(300, 200, boots=4))
    assert result.verdict is Verdict.RESTART


def test_uptime_wrapping_after_497_days_is_not_a_restart() -> None:
    before = reading(0, 100, uptime=2**32 - 1000, speed_bps=GIG)
    after = reading(300, 900, uptime=30_000 - 1000, speed_bps=GIG)
    result, _ = charge(before, after)
    assert result == Charge(800, 0, Verdict.CHARGED)


def test_a_discontinuity_charges_nothing() -> None:
    result, _ = charge(reading(0, 100, discontinuity=0), reading(300, 900, discontinuity=777))
    assert result.verdict is Verdict.DISCONTINUITY and result.bytes_in == 0


def test_more_than_the_line_carries_is_discarded() -> None:
    ten_meg = 10 * 10**6
    # 300 s at 10 Mbit/s is 375 MB; 4 GB is a spike.
    result, baseline = charge(
        reading(0, 0, speed_bps=ten_meg), reading(300, 4 * 10**9, speed_bps=ten_meg)
    )
    assert result.verdict is Verdict.SPIKE and result.bytes_in == 0
    assert baseline is not None and baseline.octets_in == 4 * 10**9


def test_a_speed_override_corrects_an_agent_that_reports_a_wrong_speed() -> None:
    before, after = reading(0, 0, speed_bps=10**6), reading(300, 3 * 10**9, speed_bps=10**6)
    assert charge(before, after)[0].verdict is Verdict.SPIKE
    result, _ = charge(before, after, speed_override_bps=GIG)
    assert result == Charge(3 * 10**9, 0, Verdict.CHARGED)


@pytest.mark.parametrize("failed", [reading(300, None), reading(300, 10, None)])
def test_a_failed_read_is_never_a_zero_reading(failed: Reading) -> None:
    before = reading(0, 10**9, 10**6)
    result, baseline = charge(before, failed)
    assert result.verdict is Verdict.MISSING and result.bytes_in == 0
    assert baseline == before  # the next good reading is charged from here
    later, _ = charge(baseline, reading(600, 10**9 + 5000, 10**6 + 7))
    assert later == Charge(5000, 7, Verdict.CHARGED)


def test_changing_counter_width_starts_a_new_baseline() -> None:
    result, baseline = charge(reading(0, 100, width=64), reading(300, 50, width=32))
    assert result.verdict is Verdict.BASELINE and baseline == reading(300, 50, width=32)


def test_a_down_interface_keeps_its_baseline_and_is_reported() -> None:
    before = reading(0, 100, 10)
    result, baseline = charge(before, reading(300, 100, 10, oper_status=2))
    assert result.verdict is Verdict.DOWN and "ifOperStatus 2" in result.note
    assert baseline == before


def test_a_down_interface_whose_counters_move_is_charged() -> None:
    result, _ = charge(reading(0, 100, 10), reading(300, 400, 10, oper_status=5))
    assert result == Charge(300, 0, Verdict.CHARGED)


# -- property: over random paths, the charges add up to the traffic ----------------------------

intervals = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2**31),  # bytes in during the interval
        st.integers(min_value=0, max_value=2**31),  # bytes out
        st.booleans(),  # the read at the end of it fails
        st.booleans(),  # the agent restarts during it (counters and uptime start over)
    ),
    min_size=1,
    max_size=60,
)


@given(
    st.sampled_from([32, 64]),
    st.integers(min_value=0, max_value=2**64 - 1),
    st.integers(min_value=0, max_value=2**64 - 1),
    intervals,
)
def test_charges_add_up_to_the_traffic_and_restarts_only_lose(
    width: int, start_in: int, start_out: int, path: list
) -> None:
    modulus = 2**width
    speed = 100 * GIG  # fast enough that no honest interval is a spike
    counters = [start_in % modulus, start_out % modulus]
    uptime, t = 10_000, 0.0
    baseline = charge(None, Reading(t, *counters, width=width, uptime=uptime, speed_bps=speed))[1]
    charged = [0, 0]
    true_total = [0, 0]
    lost = [0, 0]
    pending = [0, 0]  # traffic since the last good reading (failed reads stack up)
    restarted = False
    for bytes_in, bytes_out, read_fails, restart in path:
        t += 300
        uptime += 30_000
        if restart:
            counters = [0, 0]
            uptime = 500
            restarted = True
        counters = [(counters[0] + bytes_in) % modulus, (counters[1] + bytes_out) % modulus]
        true_total[0] += bytes_in
        true_total[1] += bytes_out
        pending = [pending[0] + bytes_in, pending[1] + bytes_out]
        if read_fails and (width == 64 or max(pending) + 2**31 < modulus):
            current = Reading(t, None, None, width=width, uptime=uptime, speed_bps=speed)
        else:
            current = Reading(t, *counters, width=width, uptime=uptime, speed_bps=speed)
        result, baseline = charge(baseline, current, speed_override_bps=None)
        assert result.bytes_in >= 0 and result.bytes_out >= 0
        if result.verdict is Verdict.MISSING:
            continue
        if result.verdict is Verdict.RESTART:
            lost = [lost[0] + pending[0], lost[1] + pending[1]]
            restarted = False
        else:
            assert not restarted
            assert result.verdict is Verdict.CHARGED
            assert (result.bytes_in, result.bytes_out) == tuple(pending)
        charged = [charged[0] + result.bytes_in, charged[1] + result.bytes_out]
        pending = [0, 0]
    assert charged[0] + lost[0] + pending[0] == true_total[0]
    assert charged[1] + lost[1] + pending[1] == true_total[1]


# -- the spike guard: line rate over the time both clocks agree passed --------------------------

TEN_GIG = 10 * GIG
TB = 10**12


def test_an_agent_claiming_more_time_than_passed_cannot_stretch_the_bound() -> None:
    # The poller saw 11 s pass; the agent says 600 s. 1 TB is 800 s of a 10 Gbit/s port.
    before = reading(0, 0, speed_bps=TEN_GIG, uptime=100_000)
    after = reading(11, TB, speed_bps=TEN_GIG, uptime=100_000 + 60_000)
    result, baseline = charge(before, after)
    assert result.verdict is Verdict.SPIKE and result.bytes_in == 0
    assert baseline == after
    assert "in 11s" in result.note


def test_a_poller_clock_stepped_forward_cannot_stretch_the_bound_either() -> None:
    # The poller's clock jumped 589 s; the agent saw 11 s pass. 100 GB is 80 s at 10 Gbit/s.
    before = reading(0, 0, speed_bps=TEN_GIG, uptime=100_000)
    after = reading(600, 100 * GIG, speed_bps=TEN_GIG, uptime=100_000 + 1_100)
    assert charge(before, after)[0].verdict is Verdict.SPIKE


def test_a_full_line_for_the_whole_interval_is_charged() -> None:
    full = TEN_GIG // 8 * 300
    before = reading(0, 0, speed_bps=TEN_GIG, uptime=100_000)
    after = reading(300, full, speed_bps=TEN_GIG, uptime=100_000 + 30_000)
    assert charge(before, after)[0] == Charge(full, 0, Verdict.CHARGED)


def test_the_allowance_is_a_few_percent_and_a_few_seconds_of_line_rate() -> None:
    before = reading(0, 0, speed_bps=TEN_GIG, uptime=100_000)
    most = int(TEN_GIG / 8 * (300 * (1 + RATE_ALLOWANCE) + SKEW_SECONDS))
    at_most = reading(300, most, speed_bps=TEN_GIG, uptime=100_000 + 30_000)
    assert charge(before, at_most)[0].verdict is Verdict.CHARGED
    over = reading(300, most + 1, speed_bps=TEN_GIG, uptime=100_000 + 30_000)
    assert charge(before, over)[0].verdict is Verdict.SPIKE
    assert RATE_ALLOWANCE <= 0.05 and SKEW_SECONDS <= 10


def test_a_port_reporting_no_speed_is_bounded_by_the_ceiling_or_the_override() -> None:
    # Radio ports report ifSpeed 0 (read as no speed): the ceiling bounds them, unless the
    # access server has a speed override.
    ceiling = int(DEFAULT_CEILING_BPS / 8 * (300 * (1 + RATE_ALLOWANCE) + SKEW_SECONDS))
    before = reading(0, 0, uptime=100_000)
    within = reading(300, ceiling, uptime=100_000 + 30_000)
    beyond = reading(300, ceiling + 1, uptime=100_000 + 30_000)
    assert charge(before, within)[0].verdict is Verdict.CHARGED
    assert charge(before, beyond)[0].verdict is Verdict.SPIKE
    assert charge(before, within, speed_override_bps=TEN_GIG)[0].verdict is Verdict.SPIKE


def bound(previous: Reading, current: Reading, override: int | None) -> float:
    """The specification: line rate x (the shorter of the poller's and the agent's elapsed
    time) plus the allowance; a poller clock stepped back leaves the agent's."""
    rate = override or current.speed_bps or previous.speed_bps or DEFAULT_CEILING_BPS
    poller = current.time - previous.time
    clocks = [poller] if poller >= 0 else []
    if previous.uptime is not None and current.uptime is not None:
        clocks.append((current.uptime - previous.uptime) % 2**32 / 100)
    elapsed = min(clocks, default=0.0)
    return rate / 8 * (elapsed * (1 + RATE_ALLOWANCE) + SKEW_SECONDS)


speeds = st.sampled_from([None, 0, 10**6, 12 * 10**6, 10**8, GIG, TEN_GIG, 100 * GIG])


@given(
    width=st.sampled_from([32, 64]),
    start=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    end=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    poller=st.floats(min_value=-3600, max_value=86_400, allow_nan=False),
    uptimes=st.one_of(st.none(), st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))),
    speed=speeds,
    override=st.sampled_from([None, 10**6, TEN_GIG]),
)
def test_no_charge_ever_exceeds_line_rate_times_the_elapsed_time(
    width: int,
    start: tuple[int, int],
    end: tuple[int, int],
    poller: float,
    uptimes: tuple[int, int] | None,
    speed: int | None,
    override: int | None,
) -> None:
    """Any two readings (counters anywhere, wrapped or reset, clocks agreeing or not): the
    charge is never negative and never more than the line carried."""
    modulus = 2**width
    up_before, up_after = uptimes if uptimes else (None, None)
    before = Reading(1e9, start[0] % modulus, start[1] % modulus, width=width,
                     uptime=up_before, speed_bps=speed)  # fmt: skip
    after = Reading(1e9 + poller, end[0] % modulus, end[1] % modulus, width=width,
                    uptime=up_after, speed_bps=speed)  # fmt: skip
    result, _ = charge(before, after, speed_override_bps=override)
    assert result.bytes_in >= 0 and result.bytes_out >= 0
    assert max(result.bytes_in, result.bytes_out) <= bound(before, after, override)


@given(
    width=st.sampled_from([32, 64]),
    start=st.integers(0, 2**64 - 1),
    share=st.floats(min_value=0, max_value=1),
    poller=st.floats(min_value=5, max_value=3600),
    agent_lag=st.floats(min_value=-5, max_value=5),
    speed=st.sampled_from([10**6, 10**8, TEN_GIG]),
)
def test_honest_traffic_across_a_wrap_is_charged_exactly(
    width: int, start: int, share: float, poller: float, agent_lag: float, speed: int
) -> None:
    """Up to line rate for the time both clocks saw pass (a few seconds apart), less than one
    turn of the counter: charged to the byte, wrap or no wrap."""
    modulus = 2**width
    seconds = max(min(poller, poller + agent_lag), 0)
    moved = min(int(speed / 8 * seconds * share), modulus - 1)
    uptime = 10**8  # up for 11 days: a gap shorter than the poller's is no restart
    before = Reading(0, start % modulus, 0, width=width, uptime=uptime, speed_bps=speed)
    ticks = uptime + int((poller + agent_lag) * 100)
    after = Reading(poller, (start + moved) % modulus, 0, width=width, uptime=ticks,
                    speed_bps=speed)  # fmt: skip
    result, _ = charge(before, after)
    assert result == Charge(moved, 0, Verdict.CHARGED)


@given(
    width=st.sampled_from([32, 64]),
    start=st.integers(0, 2**64 - 1),
    since_reboot=st.integers(0, 29_000),  # ticks: up for less than the 300 s that passed
    after_reboot=st.integers(0, 10**9),
    speed=speeds,
)
def test_a_reboot_is_never_a_charge(
    width: int, start: int, since_reboot: int, after_reboot: int, speed: int | None
) -> None:
    modulus = 2**width
    before = Reading(0, start % modulus, start % modulus, width=width, uptime=500_000_000,
                     speed_bps=speed)  # fmt: skip
    after = Reading(300, after_reboot, after_reboot, width=width, uptime=since_reboot,
                    speed_bps=speed)  # fmt: skip
    result, baseline = charge(before, after)
    assert (result.verdict, result.bytes_in, result.bytes_out) == (Verdict.RESTART, 0, 0)
    assert baseline == after
