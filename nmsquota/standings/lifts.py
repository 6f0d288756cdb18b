"""When a limit lifts if the subscriber moves nothing more: the oldest counted usage leaves
the window until what remains is under the level's threshold (less its margin); a forced
limit lifts when the force expires, whatever the usage."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, MutableSequence, Sequence
from dataclasses import dataclass

from nmsquota.config import Cap
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import CapStanding, Direction, OverrideRecord
from nmsquota.policy import Rule, lifts_at, used
from nmsquota.usage import Tally, Totals
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

    The samples are read once for all of them: a scan of the window per limited cap made
    `status` take seconds per hundred limited subscribers."""
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
    moved = _moved(ledger, rolling, as_of)
    for held in rolling:
        rule, tally, decided = held.rule, held.tally, held.decided
        assert decided is not None
        columns = moved.get(held.subscriber) or Moved()
        counted = columns.counted(tally, tally.edge_at(as_of), rule.direction)
        found[held.key] = lifts_at(rule, decided.step, decided.used, decided.cap, counted,
                                   tally.window)  # fmt: skip
    return found


class Moved:
    """One subscriber's samples, oldest first, as three columns of machine integers: a
    week of 5-minute samples of hundreds of subscribers is over a million of them, which
    as Sample objects took 190 MB, as columns 30 MB."""

    __slots__ = ("bytes_in", "bytes_out", "times")

    def __init__(self) -> None:
        self.times: MutableSequence[int] = array("q")
        self.bytes_in: MutableSequence[int] = array("Q")
        self.bytes_out: MutableSequence[int] = array("Q")

    def add(self, time: int, bytes_in: int, bytes_out: int) -> None:
        try:
            self.bytes_in.append(bytes_in)
            self.bytes_out.append(bytes_out)
            self.times.append(time)
        except OverflowError:
            # A count beyond 64 bits (a hand-made record imported, say): plain integers.
            n = len(self.times)
            self.times = list(self.times)
            self.bytes_in, self.bytes_out = list(self.bytes_in[:n]), list(self.bytes_out[:n])
            self.add(time, bytes_in, bytes_out)

    def counted(self, tally: Tally, edge: int, direction: Direction) -> list[tuple[int, int]]:
        """(time, bytes counted against a cap) of the samples in `tally`'s window."""
        return [(t, used(Totals(i, o), direction))
                for t, i, o in zip(self.times, self.bytes_in, self.bytes_out, strict=True)
                if t > edge and tally.counts(t)]  # fmt: skip


def _moved(ledger: Ledger, caps: Sequence[HeldCap], as_of: int) -> dict[str, Moved]:
    """Their subscribers' samples over the longest of their windows."""
    if not caps:
        return {}
    after = min(held.tally.edge_at(as_of) for held in caps)
    found: dict[str, Moved] = {}
    for sample in ledger.samples({held.subscriber for held in caps}, after=after):
        columns = found.get(sample.subscriber)
        if columns is None:
            columns = found[sample.subscriber] = Moved()
        columns.add(sample.time, sample.bytes_in, sample.bytes_out)
    return found


def force_expiry(overrides: Iterable[OverrideRecord], cap_name: str, now: int) -> int | None:
    """When the force override holding a cap expires: the operator's latest word on the
    cap (exempt or force) at `now`, as the policy picks it. None: no expiry, or no force."""
    words = [o for o in overrides if o.kind in ("exempt", "force") and o.active(now)
             and (o.cap is None or o.cap == cap_name)]  # fmt: skip
    latest = max(words, key=lambda o: o.since, default=None)
    return latest.until if latest is not None and latest.kind == "force" else None
