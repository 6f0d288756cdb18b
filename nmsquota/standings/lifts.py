"""When a limit lifts if the subscriber moves nothing more: the oldest counted usage leaves
the window until what remains is under the level's threshold (less its margin); a forced
limit lifts when the force expires, whatever the usage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from nmsquota.config import Cap
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import CapStanding, Direction, OverrideRecord
from nmsquota.policy import Rule, lifts_at, used
from nmsquota.usage import Sample, SampleColumns, Tally, Totals
from nmsquota.verdict import State


@dataclass(frozen=True, slots=True)
class HeldCap:
    """One cap of a subscriber's plan as the daemon last decided it, with their overrides."""

    subscriber: str
    rule: Rule
    cap: Cap
    tally: Tally
    decided: CapStanding | None
    overrides: Sequence[OverrideRecord] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.subscriber, self.rule.name


def lift_times(ledger: Ledger, caps: Iterable[HeldCap]) -> dict[tuple[str, str], int | None]:
    """When each limited cap's limit lifts, by (subscriber, cap name); a cap left out lifts
    never on its own: not limited, held until an operator releases it, a monthly cap (which
    lifts at its reset), or no commit yet. None: the stored samples do not account for it.

    The samples are read once for all of them (a scan of the window per limited cap made
    `status` take seconds per hundred limited subscribers), oldest first, and only as far
    as the lift times need: a limit lifts when the oldest of the usage has left, so most
    are known from the first day or two of a week's window (a site's regeneration read
    the whole week of 424 limited subscribers before, 388,000 samples)."""
    as_of = ledger.as_of
    if as_of is None:
        return {}
    found: dict[tuple[str, str], int | None] = {}
    rolling = []
    for held in caps:
        if held.decided is None or not held.decided.limited:
            continue
        if held.decided.state is State.FORCED:
            found[held.key] = force_expiry(held.overrides, held.rule.name, as_of)
        elif held.cap.period != "monthly":
            rolling.append(held)
    if not rolling:
        return found
    after = min(held.tally.edge_at(as_of) for held in rolling)
    read = Pulled(ledger.samples({held.subscriber for held in rolling}, after=after))
    for held in rolling:
        rule, tally, decided = held.rule, held.tally, held.decided
        assert decided is not None
        counted = read.counted(held.subscriber, tally, tally.edge_at(as_of), rule.direction)
        found[held.key] = lifts_at(rule, decided.step, decided.used, decided.cap, counted,
                                   tally.window)  # fmt: skip
    return found


class Pulled:
    """Samples in time order (several subscribers'), read from their source only as far
    as someone asks for: each subscriber's kept as columns, for every reader of them."""

    def __init__(self, samples: Iterable[Sample]) -> None:
        self._source: Iterator[Sample] | None = iter(samples)
        self._read: dict[str, SampleColumns] = {}

    def of(self, subscriber: str) -> SampleColumns:
        """The subscriber's samples read so far (more come as `more` reads on)."""
        columns = self._read.get(subscriber)
        if columns is None:
            columns = self._read[subscriber] = SampleColumns(subscriber)
        return columns

    def more(self) -> bool:
        """Read one more sample; False if there is none."""
        if self._source is None:
            return False
        sample = next(self._source, None)
        if sample is None:
            self._source = None
            return False
        self.of(sample.subscriber).append(sample.time, sample.bytes_in, sample.bytes_out)
        return True

    def counted(self, subscriber: str, tally: Tally, edge: int,
                direction: Direction) -> Iterator[tuple[int, int]]:  # fmt: skip
        """(time, bytes counted against a cap) of the subscriber's samples in `tally`'s
        window, oldest first, read as they are asked for."""
        columns, index = self.of(subscriber), 0
        while True:
            while index >= len(columns):
                if not self.more():
                    return
            time = columns.times[index]
            if time > edge and tally.counts(time):
                yield time, used(Totals(columns.bytes_in[index], columns.bytes_out[index]),
                                 direction)  # fmt: skip
            index += 1


def force_expiry(overrides: Iterable[OverrideRecord], cap_name: str, now: int) -> int | None:
    """When the force override holding a cap expires: the operator's latest word on the
    cap (exempt or force) at `now`, as the policy picks it. None: no expiry, or no force."""
    words = [o for o in overrides if o.kind in ("exempt", "force") and o.active(now)
             and (o.cap is None or o.cap == cap_name)]  # fmt: skip
    latest = max(words, key=lambda o: o.since, default=None)
    return latest.until if latest is not None and latest.kind == "force" else None
