"""When a limit lifts if the subscriber moves nothing more: the oldest counted usage leaves
the window until what remains is under the level's threshold (less its margin)."""

from __future__ import annotations

from nmsquota.config import Cap
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import CapStanding
from nmsquota.policy import Rule, lifts_at, used
from nmsquota.usage import Tally, Totals


def lift_time(
    ledger: Ledger, name: str, rule: Rule, cap: Cap, tally: Tally, decided: CapStanding | None
) -> int | None:
    """When `name`'s limit on this cap lifts (rolling windows only: a monthly cap lifts at
    its reset). None: not limited on it, or the stored samples do not account for it."""
    as_of = ledger.as_of
    if decided is None or not decided.limited or cap.period == "monthly" or as_of is None:
        return None
    samples = ledger.samples([name], after=tally.edge_at(as_of))
    counted = [(s.time, used(Totals(s.bytes_in, s.bytes_out), rule.direction))
               for s in samples if tally.counts(s.time)]  # fmt: skip
    return lifts_at(rule, decided.step, decided.used, decided.cap, counted, tally.window)
