"""What is left of each top-up on a cap: pure arithmetic over the usage in the window.

The policy adds every top-up in force to the plan's cap (nmsquota.policy). What the usage in
the window has taken beyond the plan's cap is taken from those top-ups, the one that expires
first first (one "until removed" last, then the older first), as prepaid data bundles are
used up: what is left is in the top-up that lasts longest. A top-up's `left` falls as the
window fills and comes back as old usage leaves the window, as the cap in force does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nmsquota.ledger.records import OverrideRecord


@dataclass(frozen=True, slots=True)
class TopupView:
    """One top-up in force on one cap: how much it adds, until when, and what is left."""

    override: OverrideRecord
    cap_name: str
    """The cap it adds to ("" in a one-cap plan); a top-up naming no cap adds to each."""
    left: int
    """Bytes of it the usage in the window has not taken (0 to `amount`)."""

    @property
    def id(self) -> str:
        return self.override.id

    @property
    def amount(self) -> int:
        return self.override.bytes

    @property
    def until(self) -> int | None:
        """When it expires (None: until removed)."""
        return self.override.until

    @property
    def taken(self) -> int:
        """Bytes of it the usage in the window has taken."""
        return self.amount - self.left


def drawing_order(topups: Iterable[OverrideRecord]) -> list[OverrideRecord]:
    """The order usage beyond the cap takes from top-ups: the soonest to expire first, one
    until removed last, the older first among equals."""
    return sorted(topups, key=lambda o: (o.until is None, o.until or 0, o.since))


def left_of(plan_cap: int, used: int, amounts: Sequence[int]) -> list[int]:
    """What is left of each of `amounts` (in drawing order) when `used` bytes count against
    `plan_cap` raised by all of them."""
    beyond = max(0, used - plan_cap)
    left = []
    for amount in amounts:
        taken = min(amount, beyond)
        beyond -= taken
        left.append(amount - taken)
    return left


def topups_on(cap_name: str, plan_cap: int, used: int, overrides: Iterable[OverrideRecord],
              at: float | None) -> tuple[TopupView, ...]:  # fmt: skip
    """The top-ups on the cap named `cap_name` ("" in a one-cap plan) not expired at `at`
    (the moment `used` describes, the ledger's last commit), in drawing order, with what is
    left of each. One made since that moment counts: the next decision adds it to the cap,
    and the usage so far takes from it. `at` None (no commit yet): every one kept counts."""
    mine = [o for o in overrides if o.kind == "topup" and (o.cap is None or o.cap == cap_name)
            and (at is None or o.until is None or at < o.until)]  # fmt: skip
    ordered = drawing_order(mine)
    left = left_of(plan_cap, used, [o.bytes for o in ordered])
    return tuple(TopupView(o, cap_name, rest) for o, rest in zip(ordered, left, strict=True))
