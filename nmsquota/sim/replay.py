"""A recorded ledger's usage as the simulator's traffic: what-if on real subscribers.

Each subscriber's samples become a trace of rates: a sample's bytes moved evenly over the
interval since their previous sample (or over one polling interval, where the previous is
long ago: a session starting). A subscriber is online while their trace runs; limited, they
get the limited rate's goodput instead of what they recorded, as the simulated ones do.
The recording may itself have been limited: a replay cannot know what a limited subscriber
would have downloaded without the limit, only what they did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.errors import LedgerError

DAY = 86_400


@dataclass(frozen=True)
class Replay:
    start: float
    """Where the World's time begins: the first sample's interval, on an interval boundary."""
    days: int
    """Whole days the recording covers from `start`."""
    traces: dict[str, list[tuple[float, float, float, float]]]
    samples: int


def load(directory: Path, interval: int, after: int | None = None,
         days: int | None = None) -> Replay:  # fmt: skip
    """The samples of the ledger at `directory` (after `after`, for `days` if given)."""
    try:
        ledger = Ledger.open_reader(directory)
    except (LedgerError, OSError) as error:
        raise UsageError(f"--replay {directory}: {error}") from None
    try:
        samples = list(ledger.samples(after=after if after is not None else 0))
    finally:
        ledger.close()
    if not samples:
        raise UsageError(f"--replay {directory}: the ledger holds no samples to replay")
    first = samples[0].time
    start = float((first - interval) // interval * interval)
    span = math.ceil((samples[-1].time - start) / DAY)
    days = min(days, span) if days is not None else span
    until = start + days * DAY
    last_seen: dict[str, int] = {}
    traces: dict[str, list[tuple[float, float, float, float]]] = {}
    used = 0
    for sample in samples:
        if sample.time > until:
            break
        previous = last_seen.get(sample.subscriber)
        last_seen[sample.subscriber] = sample.time
        begin = previous if previous is not None and sample.time - previous <= 2 * interval else (
            sample.time - interval)  # fmt: skip
        seconds = sample.time - begin
        if seconds <= 0:
            continue
        traces.setdefault(sample.subscriber, []).append((
            begin - start, sample.time - start,
            sample.bytes_in / seconds, sample.bytes_out / seconds,
        ))  # fmt: skip
        used += 1
    return Replay(start, max(days, 1), traces, used)
