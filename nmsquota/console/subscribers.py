"""The main screen: every subscriber, live, sortable and filterable, updated in place.

The rows are plain data held here, not in a widget: each refresh turns the snapshot into
rows (nmsquota.console.rows), sorts and filters them as plain lists (a column's sort order
is worked out once per snapshot and kept while its values do not change), and hands the
resulting order of names to a Grid, which draws only the rows on screen. The cursor stays
on its subscriber. bench/bench_console.py measures it with 10,000 and 100,000 subscribers.
"""

from __future__ import annotations

import gc
from itertools import count
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from nmsquota import gcpause
from nmsquota.console.grid import Grid, Line
from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.rows import COLUMNS, Row, Sortable, column_keys, prepared
from nmsquota.standings import Snapshot

QUICK = ("all", "limited", "not effective")
"""The quick filters `f` goes through, in order."""
DESCENDING_FIRST = {"usage", "limit"}
"""Columns whose first sort is biggest first."""
KEYS = [key for key, _heading in COLUMNS]
STYLED = {KEYS.index("state"), KEYS.index("usage"), KEYS.index("limit")}
"""Columns in the colour of the subscriber's condition."""


class SubscribersScreen(Screen[None]):
    AUTO_FOCUS = "#subscribers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Detail"),
        Binding("slash", "filter", "Filter"),
        Binding("f", "quick", "Quick"),
        Binding("s", "sort_next", "Sort"),
        Binding("o", "reverse", "Reverse", show=False),
        Binding("escape", "clear", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Row] = {}
        """Every subscriber of the last snapshot, filtered or not, by name."""
        self.sort_column = "state"
        self.descending = False
        self.filter_text = ""
        self.quick = "all"
        self._all: list[Row] = []
        """The same rows in name order: what the orders below index."""
        self._names: list[str] = []
        """Their names, in the same order."""
        self._order: list[str] = []
        """The names shown, in the order shown."""
        self._keys: dict[int, list[Sortable]] = {}
        """Each column's sort values, per row of `_all`, for this snapshot (when asked)."""
        self._ranked: dict[tuple[int, bool], list[int]] = {}
        """Each (column, descending) sort of `_all` for this snapshot (when asked)."""
        self._texts: list[str] = []
        """What the filter matches, per row of `_all`."""
        self._widths: list[int] = []
        """Each column's widest cell over `_all`."""
        self._styles: dict[str, str] = {}
        self._ready = False

    def compose(self) -> ComposeResult:
        yield SummaryBar()
        yield Banner()
        yield Static(id="status")
        yield Input(placeholder="filter: name, address, state, server...", id="filter")
        yield Grid(COLUMNS, self._line, id="subscribers")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())
        self._ready = True
        self._sync()

    @property
    def table(self) -> Grid:
        return self.query_one("#subscribers", Grid)

    @property
    def subscriber(self) -> str | None:
        """The subscriber under the cursor (the app's actions act on it)."""
        return self.table.cursor_key if self._ready else None

    # -- the contract: one snapshot, shown in place ----------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        # Whatever this allocates lives until the next snapshot and is frozen at the end
        # (settle_garbage): collecting it on the way is wasted work (0.1-0.5 s at 100,000).
        with gcpause.paused():
            try:
                self._take(snapshot)
            finally:
                settle_garbage()

    def _take(self, snapshot: Snapshot) -> None:
        made = prepared(snapshot)
        rows, names = made.rows, made.names
        self.rows = dict(zip(names, rows, strict=True))
        same_names = names == self._names
        self._all, self._names = rows, names
        self._texts, self._widths = made.texts, made.widths
        kept_keys, kept_ranked = self._keys, self._ranked
        self._keys, self._ranked = {}, {}
        if same_names:
            # The shown order stands while the sorted column's values do: most refreshes
            # change usage, not state, and sorting 100,000 rows again is the costliest part.
            column = KEYS.index(self.sort_column)
            previous = kept_keys.get(column)
            if previous is not None and previous == self._column_keys(column):
                for (at, descending), ranked in kept_ranked.items():
                    if at == column:
                        self._ranked[at, descending] = ranked
        if self._ready:  # else on_mount shows them, once composed
            self._sync(widths=True)

    def _column_keys(self, column: int) -> list[Sortable]:
        keys = self._keys.get(column)
        if keys is None:
            keys = self._keys[column] = column_keys(self._all, column)
        return keys

    def _ranking(self, column: int, descending: bool) -> list[int]:
        """Indexes into `_all` sorted by `column`, ties in name order either way (a stable
        sort of rows already in name order)."""
        ranked = self._ranked.get((column, descending))
        if ranked is None:
            keys = self._column_keys(column)
            ranked = sorted(range(len(keys)), key=keys.__getitem__, reverse=descending)
            self._ranked[column, descending] = ranked
        return ranked

    def _visible(self) -> list[str]:
        """The names shown: filtered, in the sort's order."""
        ranked = self._ranking(KEYS.index(self.sort_column), self.descending)
        rows, names = self._all, self._names
        needle = self.filter_text.lower()
        if self.quick == "all" and not needle:
            return list(map(names.__getitem__, ranked))
        keep = [True] * len(rows)
        if self.quick == "limited":
            keep = [r.limited for r in rows]
        elif self.quick == "not effective":
            keep = [r.not_effective for r in rows]
        if needle:
            texts = self._texts
            keep = [k and needle in text for k, text in zip(keep, texts, strict=True)]
        return [names[i] for i in ranked if keep[i]]

    def _sync(self, widths: bool = False) -> None:
        """Show `_visible()` in the table, the cursor staying on its subscriber; `widths`:
        the rows changed, and a column may have to widen."""
        table = self.table
        if widths and self._all:
            table.widen(self._widths)
        self._order = self._visible()
        table.show_rows(self._order)
        self._show_status()

    def _line(self, name: str) -> Line:
        """A shown row's cells and their styles (the Grid asks for the rows it draws)."""
        r = self.rows.get(name)
        if r is None:
            return tuple(("", "") for _ in COLUMNS)
        styles = self._style_map()
        emphasis = styles.get(r.condition, "")
        return tuple(
            (text, emphasis if column in STYLED else "bold" if column == 0 and r.limited else "")
            for column, text in enumerate(r.cells)
        )

    def _style_map(self) -> dict[str, str]:
        """Each condition's colour from the active theme, so that dark and light both read."""
        if self._styles:
            return self._styles
        theme = self.app.current_theme
        error = theme.error or "red"
        warning = theme.warning or "yellow"
        self._styles = {
            "not effective": f"bold reverse {error}",
            "limited": f"bold {error}",
            "forced": f"bold {error}",
            "stepped": warning,
            "warned": warning,
            "topped-up": theme.success or "green",
            "exempt": theme.accent or "blue",
            "ok": "",
        }
        return self._styles

    def _restyle(self) -> None:
        """A new theme: every row in its colours."""
        self._styles = {}
        self.table.redraw()

    def _show_status(self) -> None:
        arrow = "▼" if self.descending else "▲"
        heading = dict(COLUMNS)[self.sort_column]
        parts = [f"sorted by {heading} {arrow}"]
        if self.filter_text:
            parts.append(f"filter {self.filter_text!r}")
        if self.quick != "all":
            parts.append(f"{self.quick} only")
        parts.append(f"{len(self._order)} of {len(self.rows)} shown")
        self.query_one("#status", Static).update("  ·  ".join(parts))

    # -- keys and clicks ---------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one(Input)
        box.add_class("-open")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._sync()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()
        if not self.filter_text:
            self.query_one(Input).remove_class("-open")

    def action_clear(self) -> None:
        """escape: the text filter first, then the quick filter."""
        box = self.query_one(Input)
        if self.filter_text or box.has_class("-open"):
            with box.prevent(Input.Changed):  # one sync below, not one for the box too
                box.value = ""
            box.remove_class("-open")
            self.filter_text = ""
            self.table.focus()
        elif self.quick != "all":
            self.quick = "all"
        else:
            return
        self._sync()

    def action_quick(self) -> None:
        self.quick = QUICK[(QUICK.index(self.quick) + 1) % len(QUICK)]
        self._sync()

    def action_sort_next(self) -> None:
        self.sort_by(KEYS[(KEYS.index(self.sort_column) + 1) % len(KEYS)])

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._sync()

    def sort_by(self, column: str) -> None:
        """Sort by `column`; the same column again reverses the order."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = column
            self.descending = column in DESCENDING_FIRST
        self._sync()

    @on(Grid.HeaderSelected)
    def _header_clicked(self, event: Grid.HeaderSelected) -> None:
        self.sort_by(event.column)

    class Opened(Message):
        """`enter` (or a click) on a subscriber: the app opens their detail."""

        def __init__(self, subscriber: str) -> None:
            super().__init__()
            self.subscriber = subscriber

    def action_open(self) -> None:
        """enter, when the table does not have it (the filter box has the focus)."""
        if self.subscriber is not None:
            self.post_message(self.Opened(self.subscriber))

    @on(Grid.RowSelected)
    def _open(self, event: Grid.RowSelected) -> None:
        self.post_message(self.Opened(event.key))


GARBAGE_EVERY = 30
"""Snapshots shown between two full collections of the garbage collector."""
_shown = count(1)
"""Snapshots shown so far, in this process."""


def settle_garbage() -> None:
    """Keep the garbage collector's full collections off the operator's keystrokes.

    A snapshot of 100,000 subscribers and their rows are millions of objects that live until
    the next refresh; Python's full collections walk them all (0.15 s at 10,000 subscribers,
    over 1 s at 100,000, bench/RESULTS.md) and land on whatever keystroke triggers them.
    Once a snapshot is shown the live objects are frozen (gc.freeze: full collections pass
    them by; they are still freed by their reference counts when the next snapshot replaces
    them). What freezing would keep of cyclic garbage is collected every GARBAGE_EVERY
    snapshots, here, where a refresh has just done its work."""
    if next(_shown) % GARBAGE_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
