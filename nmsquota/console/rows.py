"""One subscriber as a row of the subscribers screen: the cells shown and the values they
sort by. Pure (no Textual), so that what a row says is tested without a screen."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from rich.cells import cell_len

from nmsquota import units
from nmsquota.console.health import coarse
from nmsquota.standings import CapView, Snapshot, State, SubscriberView

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

Sortable = float | str | tuple[int, str]
"""A column's sort value, comparable across every row of a column (a number, a name, or
(0 when there is a value else 1, the value) so that empty cells sort last); rows that tie
stay in name order (the screen sorts rows already in name order, and sorts are stable)."""


class Row:
    """A subscriber's cells (strings, in COLUMNS order; the screen styles them by
    `condition`) and what they sort and filter by, worked out when asked for: a refresh
    builds a row for every subscriber (100,000 of them at the most), and a screen sorts
    them by one column at a time."""

    __slots__ = ("_numbers", "addresses", "cells", "condition", "limited", "name",
                 "not_effective", "plan")  # fmt: skip

    def __init__(self, name: str, condition: Condition, cells: tuple[str, ...], limited: bool,
                 not_effective: bool, plan: str, addresses: tuple[str, ...],
                 numbers: tuple[float, float, float]) -> None:  # fmt: skip
        self.name = name
        self.condition = condition
        self.cells = cells
        self.limited = limited
        self.not_effective = not_effective
        self.plan = plan
        self.addresses = addresses
        self._numbers = numbers
        """(usage share, limit rate, seconds until the limit lifts)"""

    @property
    def text(self) -> str:
        """Everything the incremental filter matches against, lower case."""
        return f"{' '.join(self.cells)} {self.plan} {' '.join(self.addresses)}".lower()

    def sort_key(self, column: int) -> Sortable:
        """The value column `column` (an index into COLUMNS) sorts this row by."""
        if column == 0:
            return self.name
        if column == 1:
            return RANK[self.condition]
        if column <= 4:
            # Usage, limit rate, seconds until it lifts: no plan sorts below every plan.
            return self._numbers[column - 2]
        cell = self.cells[column]
        if column == 5:
            return 0.0 if cell == "yes" else 1.0
        if column == 6:
            return (0 if cell else 1, _address_key(self.addresses))
        return (0 if cell else 1, cell)

    def __repr__(self) -> str:
        return f"Row({self.name!r}, {self.condition!r}, {self.cells!r})"


def column_keys(rows: list[Row], column: int) -> list[Sortable]:
    """`row.sort_key(column)` of each row: what a sort by that column compares, worked out
    column by column (a keystroke sorts 100,000 rows)."""
    if column == 0:
        return [r.name for r in rows]
    if 2 <= column <= 4:
        at = column - 2
        return [r._numbers[at] for r in rows]
    return [r.sort_key(column) for r in rows]


def condition(view: SubscriberView) -> Condition:
    if view.not_effective:
        return "not effective"
    state = view.state
    if view.limited and not state.limited:
        # The drivers hold a limit that the last decision does not explain (a ledger between
        # two writes): what bites is the limit.
        return "limited"
    return _CONDITION[state]


_CONDITION: dict[State, Condition] = {state: state.value for state in State}  # type: ignore[misc]
"""Each state's name (an enum's `.value` costs a descriptor call; a row is built per
subscriber per refresh)."""


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
    caps = view.caps
    if len(caps) < 2:  # most plans have one cap (a row is built per subscriber per refresh)
        return caps[0] if caps else None
    return max(caps, key=lambda cap: (cap.limited, percent(cap)))


def bar(fraction: float, width: int = BAR) -> str:
    """A bar of `width` cells, full at 100% and beyond (eighths for the last cell)."""
    return _bar(round(max(0.0, min(fraction, 1.0)) * width * 8), width)


@lru_cache(maxsize=1024)
def _bar(eighths: int, width: int) -> str:
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
    eighths = round(max(0.0, min(share / 100, 1.0)) * BAR * 8)
    return _usage_text(eighths, round(share), cap.label, len(view.caps) - 1), share


@lru_cache(maxsize=1 << 14)
def _usage_text(eighths: int, rounded: int, label: str, more: int) -> str:
    # A few hundred distinct texts among 100,000 rows: formatted once each (round() and
    # format's "3.0f" both round half to even).
    return f"{_bar(eighths, BAR)} {rounded:3d}% {label}{f' +{more}' if more else ''}"


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
    if view.limit is None:  # most subscribers (what limit_cell and lifts_in say of them)
        limit, rate, lifts, lifts_seconds = "-", 0, "-", float("inf")
    else:
        limit, rate = limit_cell(view)
        lifts, lifts_seconds = lifts_in(view, as_of)
    session = view.session
    if session is not None:
        server, interface, online = session.access_server, session.interface, session.online
    else:
        server, interface, online = "", "", False
    addresses = view.addresses
    address = addresses[0] if addresses else ""
    if len(addresses) > 1:
        address += f" +{len(addresses) - 1}"
    cells = (view.name, state, usage, limit, lifts, "yes" if online else "-", address, server,
             interface)  # fmt: skip
    return Row(view.name, state, cells, view.limit is not None, state == "not effective",
               view.plan or "", addresses, (share, float(rate), lifts_seconds))  # fmt: skip


class Prepared:
    """What the subscribers screen needs of one snapshot before it sorts and filters: every
    subscriber's row in name order, what the filter matches in each, and each column's
    widest cell. Made in the app's read worker right after the read (rows take 0.5 s at
    100,000 subscribers), off the event loop, where it held every keystroke meanwhile."""

    __slots__ = ("names", "rows", "snapshot", "texts", "widths")

    def __init__(self, snapshot: Snapshot, last: Prepared | None) -> None:
        as_of = snapshot.as_of
        self.snapshot = snapshot
        self.rows: list[Row] = sorted((row(view, as_of) for view in snapshot.subscribers),
                                      key=lambda r: r.name)  # fmt: skip
        self.names: list[str] = [r.name for r in self.rows]
        # The filter texts of rows whose cells did not change are the last snapshot's.
        old = last if last is not None and last.names == self.names else None
        self.texts: list[str] = filter_texts(self.rows, old.rows if old else None,
                                             old.texts if old else [])  # fmt: skip
        self.widths: list[int] = column_widths(self.rows)


_last: Prepared | None = None
"""The last snapshot prepared (one slot: a console shows one snapshot at a time)."""


def prepared(snapshot: Snapshot) -> Prepared:
    """The snapshot's rows and what goes with them, made once: the read worker makes them,
    the screen that shows the snapshot finds them made."""
    global _last
    last = _last
    if last is not None and last.snapshot is snapshot:
        return last
    made = _last = Prepared(snapshot, last)
    return made


def column_widths(rows: Sequence[Row]) -> list[int]:
    """Each column's widest cell over `rows`, in terminal cells: column by column, each
    distinct value measured once where a column is not all ASCII (a usage bar repeats),
    else by `len`, so that 100,000 rows cost tens of milliseconds."""
    widths = []
    for column in zip(*(r.cells for r in rows), strict=True):
        if "".join(column).isascii():
            widths.append(max(map(len, column)))
        else:  # the usage bars, a name in another script: few distinct values, measured once
            widths.append(max(map(cell_len, set(column))))
    return widths


def filter_texts(rows: Sequence[Row], old: Sequence[Row] | None, texts: Sequence[str]) -> list[str]:
    """What the filter matches for each of `rows`: built once per snapshot, so that a
    keystroke only searches, and kept from the last snapshot for a row whose cells did not
    change (`old`: the last snapshot's rows, when they were the same subscribers)."""
    if old is None or len(texts) != len(rows):
        return [r.text for r in rows]
    return [
        text if o.cells == r.cells and o.addresses == r.addresses and o.plan == r.plan
        else r.text
        for o, r, text in zip(old, rows, texts, strict=True)
    ]  # fmt: skip


RANK: dict[str, int] = {
    "not effective": 0, "limited": 1, "forced": 2, "stepped": 3, "warned": 4,
    "topped-up": 5, "exempt": 6, "ok": 7,
}  # fmt: skip
"""The STATE column sorts what needs attention first."""


@lru_cache(maxsize=1 << 18)
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
