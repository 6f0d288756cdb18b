"""One subscriber as a row of the subscribers screen: the cells shown and the values they
sort by. Pure (no Textual), so that what a row says is tested without a screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nmsquota import units
from nmsquota.console.health import coarse
from nmsquota.standings import CapView, State, SubscriberView

Condition = Literal[
    "ok", "warned", "topped-up", "stepped", "limited", "forced", "exempt", "not effective"
]
"""What the STATE column says: the policy's state, except that a limit measured not to bite
says so above all (it is what an operator must act on)."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "SUBSCRIBER"),
    ("state", "STATE"),
    ("usage", "USAGE"),
    ("limit", "LIMIT"),
    ("lifts", "LIFTS IN"),
    ("online", "ON"),
    ("address", "ADDRESS"),
    ("server", "ACCESS SERVER"),
    ("interface", "INTERFACE"),
)
"""(column key, heading), in the order shown: what an operator scans first on the left, so
that an 80-column terminal shows it without scrolling."""

BAR = 8
"""Cells of the usage bar."""

Sortable = tuple[int, float, str]
"""A column's sort value: (rank, number, text), comparable across every row of a column;
rows that tie stay in name order (the screen sorts by name first, and sorts are stable)."""


@dataclass(frozen=True, slots=True)
class Row:
    """A subscriber's cells (strings; the screen styles them by `condition`) and sort values,
    both in COLUMNS order."""

    name: str
    condition: Condition
    cells: tuple[str, ...]
    sort: tuple[Sortable, ...]
    limited: bool
    not_effective: bool
    text: str
    """Everything the incremental filter matches against, lower case."""


def condition(view: SubscriberView) -> Condition:
    if view.not_effective:
        return "not effective"
    state = view.state
    if view.limited and not state.limited:
        # The drivers hold a limit that the last decision does not explain (a ledger between
        # two writes): what bites is the limit.
        return "limited"
    return state.value  # type: ignore[return-value]


def in_force(cap: CapView) -> int:
    """The cap that bites: the plan's plus top-ups, as the daemon last decided it."""
    if cap.decided is not None and cap.decided.cap:
        return cap.decided.cap
    return cap.cap


def percent(cap: CapView) -> float:
    bites = in_force(cap)
    return 100 * cap.used / bites if bites else 0.0


def closest(view: SubscriberView) -> CapView | None:
    """The cap closest to biting: a limited cap first (the one furthest over), else the one
    nearest its cap in force."""
    if not view.caps:
        return None
    return max(view.caps, key=lambda cap: (cap.limited, percent(cap)))


def bar(fraction: float, width: int = BAR) -> str:
    """A bar of `width` cells, full at 100% and beyond (eighths for the last cell)."""
    eighths = round(max(0.0, min(fraction, 1.0)) * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width, "·")


def usage_cell(view: SubscriberView) -> tuple[str, float]:
    """ "███····· 30% 1d +1": the closest cap's bar, percent and name, and how many more caps
    the plan has; without a plan, the usage over the ledger's window."""
    cap = closest(view)
    if cap is None:
        return "-", -1.0
    share = percent(cap)
    more = f" +{len(view.caps) - 1}" if len(view.caps) > 1 else ""
    return f"{bar(share / 100)} {share:3.0f}% {cap.label}{more}", share


def limit_cell(view: SubscriberView) -> tuple[str, int]:
    """ "64kbit", "1Mbit at 80%" (a step), "-" when not limited."""
    if view.limit is None:
        return "-", 0
    rate = view.limit.rate_bps or max((cap.rate_bps for cap in view.caps), default=0)
    text = units.format_rate(rate) if rate else "?"
    steps = [cap.step_at for cap in view.caps if cap.limited and cap.step_at is not None]
    if steps and not any(cap.limited and cap.step_at is None for cap in view.caps):
        text += f" at {min(steps):g}%"
    return text, rate


def lifts_in(view: SubscriberView, as_of: int | None) -> tuple[str, float]:
    """How long, from the ledger's last commit, until the limit lifts if nothing more is
    downloaded: when the last of the limited caps lifts. "override" for a forced limit with
    no end, "-" when not limited or not known (a monthly cap lifts at its reset)."""
    if view.limit is None:
        return "-", float("inf")
    limited = [cap for cap in view.caps if cap.limited]
    moments = [cap.lifts_at for cap in limited]
    if as_of is None or not moments or any(moment is None for moment in moments):
        if view.state is State.FORCED:
            return "override", float("inf")
        return "-", float("inf")
    last = max(moment for moment in moments if moment is not None)
    seconds = max(0, last - as_of)
    return roughly(seconds), float(seconds)


SPANS = (86_400, 3_600, 60, 1)


def roughly(seconds: int) -> str:
    """A wait as its two largest units, rounded up so that it never reads as sooner than it
    is: 480_898 s -> "5d14h" (not "5d13h34m58s", which a column cannot hold and nobody
    needs), 2_700 -> "45m"."""
    if seconds <= 0:
        return "0s"
    largest = next(span for span in SPANS if seconds >= span)
    unit = SPANS[min(SPANS.index(largest) + 1, len(SPANS) - 1)]
    return coarse(-(-seconds // unit) * unit)


def row(view: SubscriberView, as_of: int | None) -> Row:
    state = condition(view)
    usage, share = usage_cell(view)
    limit, rate = limit_cell(view)
    lifts, lifts_seconds = lifts_in(view, as_of)
    session = view.session
    server = session.access_server if session is not None else ""
    interface = session.interface if session is not None else ""
    address = view.addresses[0] if view.addresses else ""
    if len(view.addresses) > 1:
        address += f" +{len(view.addresses) - 1}"
    online = "yes" if view.online else "-"
    cells = (view.name, state, usage, limit, lifts, online, address, server, interface)
    sort: tuple[Sortable, ...] = (
        (0, 0.0, view.name),
        (RANK[state], 0.0, ""),
        # No plan sorts below every plan.
        (0, share, ""),
        (0, float(rate), ""),
        (0, lifts_seconds, ""),
        (0 if view.online else 1, 0.0, ""),
        (0 if address else 1, 0.0, _address_key(view.addresses)),
        (0 if server else 1, 0.0, server),
        (0 if interface else 1, 0.0, interface),
    )
    text = " ".join((*cells, view.plan or "", *view.addresses)).lower()
    return Row(view.name, state, cells, sort, view.limited, view.not_effective, text)


RANK: dict[str, int] = {
    "not effective": 0, "limited": 1, "forced": 2, "stepped": 3, "warned": 4,
    "topped-up": 5, "exempt": 6, "ok": 7,
}  # fmt: skip
"""The STATE column sorts what needs attention first."""


def _address_key(addresses: tuple[str, ...]) -> str:
    """Addresses sort by number, not as text (10.0.0.9 before 10.0.0.10)."""
    if not addresses:
        return ""
    first = addresses[0]
    if "." in first and ":" not in first:
        parts = first.split("/")[0].split(".")
        if len(parts) == 4 and all(part.isdigit() for part in parts):
            return ".".join(part.zfill(3) for part in parts)
    return first
