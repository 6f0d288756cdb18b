"""The backoff schedule of a device that keeps failing, over fake cycles: pure, no SNMP."""

from __future__ import annotations

import itertools

from nmsquota.snmp.backoff import MAX_SKIP, Backoff, counts, cycles_to_skip


def run(outcomes: dict[int, bool], cycles: int) -> list[int]:
    """The cycles (0 ..) in which the device is polled; `outcomes` says which polls answer
    (any cycle not named fails)."""
    backoff, polled = Backoff(), []
    for cycle in range(cycles):
        if not backoff.take_turn():
            continue
        polled.append(cycle)
        if outcomes.get(cycle, False):
            backoff.answered()
        else:
            backoff.failed(f"no answer in cycle {cycle}")
    return polled


def test_two_failures_in_a_row_are_retried_at_once_then_the_gaps_double_up_to_the_cap() -> None:
    assert [cycles_to_skip(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 8, 8]
    assert max(cycles_to_skip(n) for n in range(100)) == MAX_SKIP


def test_a_dead_device_is_polled_ever_more_rarely_and_never_less_than_once_per_cap() -> None:
    polled = run({}, 60)
    # Fails at 0 and 1 (retried at once), at 2 skips 1, at 4 skips 2, at 7 skips 4, at 12
    # skips 8, and from then on every ninth cycle.
    assert polled[:7] == [0, 1, 2, 4, 7, 12, 21]
    gaps = [b - a for a, b in itertools.pairwise(polled)]
    assert max(gaps) == MAX_SKIP + 1
    assert gaps[-3:] == [MAX_SKIP + 1] * 3


def test_one_answer_resets_the_schedule() -> None:
    # Fails at 0, 1, 2, 4, answers at 7, then fails again: retried at once as at the start.
    polled = run({7: True}, 14)
    assert polled == [0, 1, 2, 4, 7, 8, 9, 10, 12]


def test_a_skipped_cycle_says_backing_off_when_it_tries_again_and_why() -> None:
    backoff = Backoff()
    for _ in range(4):
        backoff.failed("bras1 (192.0.2.1:161): walk not finished within 30s")
    assert not backoff.take_turn()
    text = backoff.skipped("bras1")
    assert text.startswith("bras1: backing off after 4 failed polls in a row")
    assert "tried again in 2 cycles" in text
    assert "walk not finished within 30s" in text
    assert not backoff.take_turn()
    assert "tried again at the next cycle" in backoff.skipped("bras1")
    assert backoff.take_turn()


def test_only_a_try_that_read_nothing_or_went_wrong_counts_toward_backoff() -> None:
    assert counts("timeout", rows_read=0) and counts("timeout", rows_read=300)
    assert counts("error", rows_read=0) and counts("error", rows_read=300)
    assert counts("deadline", rows_read=0)  # silent until its deadline
    assert not counts("deadline", rows_read=1)  # answering, too slowly: the poller's load
