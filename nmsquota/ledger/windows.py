"""Window totals kept incrementally: what each tally counts, where its edge stands, and how a
commit moves it. A tally counts samples with time > edge, edge = now - window (or the start of
the calendar period); a commit adds its new samples and moves each edge to its new position,
subtracting the samples it passes. No commit rescans history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from nmsquota.ledger.columns import Doc, rows_of
from nmsquota.usage import FreeHours, Monthly, Tally

Rows = dict[str, list[int]]


@dataclass
class TallyState:
    tally: Tally
    edge: int
    totals: Rows


def state_from_doc(doc: dict[str, Any]) -> TallyState:
    """A tally as state.json keeps it (KeyError, TypeError or ValueError when it is not one)."""
    free = FreeHours(**doc["free"]) if doc.get("free") else None
    period = Monthly(**doc["period"]) if doc.get("period") else None
    return TallyState(Tally(doc["window"], free, period), doc["edge"], doc["totals"])


def state_doc(key: str, state: TallyState) -> dict[str, Any]:
    return {
        "key": key,
        "window": state.tally.window,
        "free": asdict(state.tally.free) if state.tally.free else None,
        "period": asdict(state.tally.period) if state.tally.period else None,
        "edge": state.edge,
        "totals": state.totals,
    }


def advanced(state: TallyState, new_docs: list[Doc], now: int,
         docs_between: Callable[[int, int], Iterable[Doc]]) -> TallyState:  # fmt: skip
    """`state` moved to `now`: the new documents added, the edge moved to its new place,
    subtracting the documents it passes (adding them back if the clock went backwards)."""
    # Changed in place, not copied (a copy per window per cycle was most of a window's
    # cost): a commit that fails is rolled back by batch(), which reloads the tallies
    # from disk, so a half-moved window is never kept.
    totals = state.totals
    tally, edge = state.tally, state.edge
    touched: list[Doc] = []
    for doc in new_docs:
        if doc["t"] > edge and tally.counts(doc["t"]):
            add_rows(totals, doc, 1)
            touched.append(doc)
    new_edge = tally.edge_at(now)
    low, high, sign = (edge, new_edge, -1) if new_edge > edge else (new_edge, edge, 1)
    for doc in docs_between(low, high):
        if tally.counts(doc["t"]):
            add_rows(totals, doc, sign)
            touched.append(doc)
    # Subscribers whose usage has all aged out leave the table, so it does not grow with
    # every subscriber ever seen. Only the rows this cycle moved can have reached zero.
    for doc in touched:
        for name in doc["names"]:
            if totals.get(name) == [0, 0]:
                del totals[name]
    return TallyState(tally, new_edge, totals)


def add_rows(totals: Rows, doc: Doc, sign: int) -> None:
    for name, bytes_in, bytes_out in rows_of(doc):
        pair = totals.get(name)
        if pair is None:
            totals[name] = [sign * bytes_in, sign * bytes_out]
        else:
            pair[0] += sign * bytes_in
            pair[1] += sign * bytes_out
