"""When a limit lifts if the subscriber moves nothing more: the oldest counted usage leaves
the window until what remains is under the level's threshold (less its margin); a forced
limit lifts when the force expires, whatever the usage."""

from __future__ import annotations

from collections.abc import Iterable

from nmsquota.config import Cap
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import CapStanding, OverrideRecord
from nmsquota.policy import Rule, lifts_at, used
from nmsquota.usage import Tally, Totals
from nmsquota.verdict import State


def lift_time(
    ledger: Ledger,
    name: str,
    rule: Rule,
    cap: Cap,
    tally: Tally,
    decided: CapStanding | None,
    overrides: Iterable[OverrideRecord] = (),
) -> int | None:
    """When `name`'s limit on this cap lifts. None: not limited on it, held until an
    operator releases it, a monthly cap (which lifts at its reset), or the stored samples
    do not account for it. `overrides` are `name`'s."""
    as_of = ledger.as_of
    if decided is None or not decided.limited or as_of is None:
        return None
    if decided.state is State.FORCED:
        return force_expiry(overrides, rule.name, as_of)
    if cap.period == "monthly":
        return None
    samples = ledger.samples([name], after=tally.edge_at(as_of))
    counted = [(s.time, used(Totals(s.bytes_in, s.bytes_out), rule.direction))
               for s in samples if tally.counts(s.time)]  # fmt: skip
    return lifts_at(rule, decided.step, decided.used, decided.cap, counted, tally.window)


def force_expiry(overrides: Iterable[OverrideRecord], cap_name: str, now: int) -> int | None:
    """When the force override holding a cap expires: the operator's latest word on the
    cap (exempt or force) at `now`, as the policy picks it. None: no expiry, or no force."""
    words = [o for o in overrides if o.kind in ("exempt", "force") and o.active(now)
             and (o.cap is None or o.cap == cap_name)]  # fmt: skip
    latest = max(words, key=lambda o: o.since, default=None)
    return latest.until if latest is not None and latest.kind == "force" else None
