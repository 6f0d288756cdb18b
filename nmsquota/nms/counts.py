"""How many subscribers stand where: the head counts both the LibreNMS envelope
(nmsquota.nms.extend) and the metrics (nmsquota.nms.metrics) report, counted once here so
that the two never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from nmsquota.standings import Snapshot, State


@dataclass(frozen=True, slots=True)
class Counts:
    subscribers: int
    online: int
    limited: int
    """Held at a limited rate by the drivers (a step, a cap's own limit or a force)."""
    stepped: int
    """Of those, held at a graded step before the cap."""
    not_effective: int
    """Limits measured not to bite."""


def counts(snap: Snapshot) -> Counts:
    views = snap.subscribers
    return Counts(
        subscribers=len(views),
        online=sum(1 for view in views if view.online),
        limited=sum(1 for view in views if view.limited),
        stepped=sum(1 for view in views if view.limited and view.state is State.STEPPED),
        not_effective=sum(1 for view in views if view.not_effective),
    )
