"""How many subscribers stand where: the head counts the check plugin (through the NMS
summary), the LibreNMS envelope (nmsquota.nms.extend) and the metrics (nmsquota.nms.metrics)
report, counted once here so that they never disagree."""

from __future__ import annotations

from nmsquota.nms.summary import Counts
from nmsquota.standings import Snapshot, State, SubscriberView


def stepped(view: SubscriberView) -> bool:
    """Held at a graded step before the cap (limited, and their standing is a step)."""
    return view.limited and view.state is State.STEPPED


def counts(snap: Snapshot) -> Counts:
    views = snap.subscribers
    return Counts(
        subscribers=len(views),
        online=sum(1 for view in views if view.online),
        limited=sum(1 for view in views if view.limited),
        stepped=sum(1 for view in views if stepped(view)),
        warned=sum(1 for view in views if view.state is State.WARNED),
        not_effective=sum(1 for view in views if view.not_effective),
    )
