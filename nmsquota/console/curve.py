"""The paper's subscriber graph as numbers: at each sample's moment, what counted against a
cap in the window ending there. Pure; the detail screen draws it."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from nmsquota.ledger.records import Direction
from nmsquota.policy import used
from nmsquota.usage import Sample, Tally, Totals


def loaded_from(tally: Tally, as_of: int) -> int:
    """The samples a curve over the window up to `as_of` needs: those after this moment (a
    rolling window's first point looks one window further back)."""
    start = tally.edge_at(as_of)
    return start if tally.period is not None else start - tally.window


def window_usage(samples: Sequence[Sample], tally: Tally, direction: Direction,
                 as_of: int) -> list[tuple[int, int]]:  # fmt: skip
    """(moment, bytes counted in the window ending then), oldest first, over the window
    ending at `as_of`: at its start, at each sample, where a sample leaves a rolling window,
    and at `as_of`, so that the line also falls while nothing is moved. `samples`: one
    subscriber's, oldest first."""
    times = [s.time for s in samples]
    counted = [used(Totals(s.bytes_in, s.bytes_out), direction) if tally.counts(s.time) else 0
               for s in samples]  # fmt: skip
    running = [0, *accumulate(counted)]
    start = tally.edge_at(as_of)
    leaving = [t + tally.window for t in times] if tally.period is None else []
    moments = sorted({start + 1, as_of, *times, *leaving})

    def at(moment: int) -> int:
        return running[bisect_right(times, moment)] - running[
            bisect_right(times, tally.edge_at(moment))]  # fmt: skip

    return [(moment, at(moment)) for moment in moments if start < moment <= as_of]
