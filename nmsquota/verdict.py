"""What the policy decided about a subscriber, as values: the state they are in and why.

Pure core: the policy makes them, the ledger keeps them in its standings, and every reader
shows them. The reason is typed (its kind, the cap, the figures) and renders to the text
operators have always read ("over 80% of cap 1d: 4500000000 of 5000000000 bytes"); nothing
parses that text back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where a subscriber (or one cap of their plan) stands after a decision."""

    limited: bool
    """Held to a limited rate: at a step, at the cap, or forced. (A plain attribute of each
    member, not a property: it is read for every cap of every subscriber every cycle.)"""

    OK = "ok"
    """Under every threshold, nothing in force."""
    WARNED = "warned"
    """Past a warning threshold (and still above it), not limited."""
    TOPPED_UP = "topped-up"
    """Not limited, with a top-up in force on the cap."""
    STEPPED = "stepped"
    """Held at a graded step before the cap."""
    LIMITED = "limited"
    """Held at the cap's own limit."""
    FORCED = "forced"
    """Limited by the operator (a force override), whatever the usage."""
    EXEMPT = "exempt"
    """Never limited while an exempt override (or the configuration) says so."""


for _state in State:
    _state.limited = _state in (State.STEPPED, State.LIMITED, State.FORCED)


class ReasonKind(StrEnum):
    OVER = "over"
    """Usage reached a threshold: the cap's own, or a step's."""
    FORCED = "forced"
    EXEMPT = "exempt"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a limit is in force (or, for exempt, why none is)."""

    kind: ReasonKind
    cap_name: str = ""
    """The cap's name in a plan of several ("1d"); empty for a one-cap plan."""
    step_at: float | None = None
    """Over a step: its threshold, percent of the cap; None: the cap itself."""
    used: int = 0
    """Over: the bytes counted against the cap when the limit began."""
    cap: int = 0
    """Over: the cap in force then (the plan's plus top-ups), bytes."""
    note: str = ""
    """Forced or exempt: the operator's words."""

    @property
    def text(self) -> str:
        """As logs, notifications and `status` have always said it."""
        if self.kind is not ReasonKind.OVER:
            return f"{self.kind.value}: {self.note}"
        named = f"cap {self.cap_name}" if self.cap_name else "cap"
        over = f"over {self.step_at:g}% of {named}" if self.step_at is not None else f"over {named}"
        return f"{over}: {self.used} of {self.cap} bytes"

    def __str__(self) -> str:
        return self.text

    def same_limit(self, other: Reason | None) -> bool:
        """Whether `other` holds the same limit (the same step of the same cap, or forced
        both): a limit keeps its start while this stays true, whatever the figures do."""
        if other is None or other.kind is not self.kind:
            return False
        if self.kind is ReasonKind.OVER:
            return (self.cap_name, self.step_at) == (other.cap_name, other.step_at)
        return True
