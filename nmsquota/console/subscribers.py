"""The main screen: every subscriber, live, sortable and filterable, updated in place.

Each refresh turns the snapshot into rows (nmsquota.console.rows) and changes only what
changed in the table: cells that differ are updated, rows that appear are added, rows that
go are removed (a mass change clears and refills, which is far faster than removing rows one
by one), and the order is put right by a sort. The cursor stays on its subscriber. Rows are
added and cells updated in batches (SubscriberTable), and a cell becomes a Rich Text only when
drawn (Cell): bench/bench_console.py measures what that saves at 10,000 subscribers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import (
    CellDoesNotExist,
    ColumnKey,
    DuplicateKey,
    RowKey,
)
from textual.widgets.data_table import Row as TableRow

from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.rows import COLUMNS, Row, row
from nmsquota.standings import Snapshot

QUICK = ("all", "limited", "not effective")
"""The quick filters `f` goes through, in order."""
DESCENDING_FIRST = {"usage", "limit"}
"""Columns whose first sort is biggest first."""
MASS_REMOVAL = 50
"""Above this many rows to remove, clear and refill (remove_row costs ~15 ms a row)."""


class Cell:
    """One cell: its text and style, made a Rich Text only when drawn. A screen draws some
    40 rows of thousands, and building a Text for every cell of 10,000 rows took ~0.4 s."""

    __slots__ = ("plain", "style", "width")

    def __init__(self, plain: str, style: str) -> None:
        self.plain = plain
        self.style = style
        self.width = cell_len(plain)
        """Cells on screen (as Rich measures a one-line Text)."""

    def __rich__(self) -> Text:
        return Text(self.plain, style=self.style, no_wrap=True)

    def __str__(self) -> str:
        return self.plain

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and (self.plain, self.style) == (other.plain, other.style)

    def __hash__(self) -> int:
        return hash((self.plain, self.style))

    def __repr__(self) -> str:
        return f"Cell({self.plain!r}, {self.style!r})"


class SubscriberTable(DataTable[Cell]):
    """A DataTable for thousands of rows whose cells are all one line (Cell: height 1, no
    row labels), with Textual's per-row costs paid once per batch (Textual 8.2, 10,000 rows:
    `add_row` one by one ~0.5 s, mostly the cursor's reactive set on every row; measuring
    each new cell through Rich ~1.5 s). Everything else is DataTable's own."""

    def add_keyed_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Add rows at the bottom, in order: what `add_row(*cells, key=key)` for each does,
        with the cursor checked and the caches dropped once for the batch."""
        was_empty = self.row_count == 0
        columns = self.ordered_columns
        added = False
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            self._row_locations[row_key] = len(self.rows)
            self._data[row_key] = {
                column.key: cell for column, cell in zip_longest(columns, cells)
            }  # fmt: skip
            self.rows[row_key] = TableRow(row_key, 1)
            self._new_rows.add(row_key)
            added = True
        if not added:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate  # clamped, as add_row does
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor where there was none: highlighted, as add_row
        self._update_count += 1
        self.check_idle()

    def update_cells(self, cells: Iterable[tuple[str, str, Cell]]) -> None:
        """`update_cell(row, column, value)` for each, a column widened to a wider value,
        with the caches dropped and the repaint asked for once."""
        changed = widened = False
        for name, column, value in cells:
            row_key, column_key = RowKey(name), ColumnKey(column)
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(
                    f"No cell exists for row_key={name!r}, column_key={column!r}."
                )
            self._data[row_key][column_key] = value
            changed = True
            # A column grows to a wider value ("-" becoming "yes"), never shrinks: shrinking
            # would mean measuring the whole column again at every refresh.
            wanted = self.columns[column_key]
            if isinstance(value, Cell) and value.width > wanted.content_width:
                wanted.content_width = value.width
                widened = True
        if widened:
            self._require_update_dimensions = True
        if changed:
            self._update_count += 1
            self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # A one-line cell is as wide as its text: what Rich's measurement finds (the maximum
        # of Text's __rich_measure__) without building a Text and console options for each.
        columns = self.ordered_columns
        for row_key in new_rows:
            cells = self._data.get(row_key)
            if cells is None:  # removed before the table went idle
                continue
            for column in columns:
                cell = cells.get(column.key)
                if isinstance(cell, Cell) and "\n" not in cell.plain:
                    column.content_width = max(column.content_width, cell.width)
                else:  # not ours: let DataTable measure the row
                    super()._update_dimensions([row_key])
                    break
        super()._update_dimensions(())


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
        """Every subscriber of the last snapshot, filtered or not."""
        self.sort_column = "state"
        self.descending = False
        self.filter_text = ""
        self.quick = "all"
        self._shown: dict[str, Row] = {}
        """What the table holds, by row key (the subscriber's name)."""
        self._order: list[str] = []
        """The table's rows in the order it shows them."""
        self._styles: dict[str, str] = {}
        self._cells: dict[str, tuple[Row, tuple[Cell, ...]]] = {}
        """Each row's cells as last built, for a row that comes back unchanged (a filter
        widening again re-adds thousands)."""
        self._ready = False

    def compose(self) -> ComposeResult:
        yield SummaryBar()
        yield Banner()
        yield Static(id="status")
        yield Input(placeholder="filter: name, address, state, server...", id="filter")
        yield SubscriberTable(id="subscribers", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.table
        for key, heading in COLUMNS:
            table.add_column(heading, key=key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())
        self._ready = True
        self._sync()

    @property
    def table(self) -> SubscriberTable:
        return self.query_one("#subscribers", SubscriberTable)

    @property
    def subscriber(self) -> str | None:
        """The subscriber under the cursor (the app's actions act on it)."""
        table = self.table
        if not self._order or table.cursor_row < 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return key.value

    # -- the contract: one snapshot, shown in place ----------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        self.rows = {view.name: row(view, snapshot.as_of) for view in snapshot.subscribers}
        self._cells = {name: kept for name, kept in self._cells.items() if name in self.rows}
        if self._ready:  # else on_mount shows them, once the table has its columns
            self._sync()

    def _visible(self) -> list[Row]:
        needle = self.filter_text.lower()
        found = [
            r for r in self.rows.values()
            if (self.quick != "limited" or r.limited)
            and (self.quick != "not effective" or r.not_effective)
            and (not needle or needle in r.text)
        ]  # fmt: skip
        index = [key for key, _ in COLUMNS].index(self.sort_column)
        # Ties in name order whichever way the column goes (a stable sort, names first).
        found.sort(key=lambda r: r.name)
        found.sort(key=lambda r: r.sort[index], reverse=self.descending)
        return found

    def _sync(self) -> None:
        """Make the table show `_visible()`, changing only what differs."""
        table = self.table
        keep = self.subscriber
        wanted = self._visible()
        names = {r.name for r in wanted}
        gone = [name for name in self._order if name not in names]
        if len(gone) > MASS_REMOVAL:
            table.clear()
            self._shown, self._order = {}, []
        else:
            for name in gone:
                table.remove_row(name)
                del self._shown[name]
            self._order = [name for name in self._order if name in names]
        styles = self._style_map()
        added = [r for r in wanted if r.name not in self._shown]
        table.add_keyed_rows((r.name, self._cells_of(r, styles)) for r in added)
        changes: list[tuple[str, str, Cell]] = []
        for r in wanted:
            old = self._shown.get(r.name)
            if old is not None and old != r:
                changes += self._changes(r, old, styles)
            self._shown[r.name] = r
        table.update_cells(changes)
        self._order += [r.name for r in added]
        order = [r.name for r in wanted]
        if self._order != order:
            position = {name: i for i, name in enumerate(order)}
            table.sort("name", key=lambda cell: position[cell.plain])
            self._order = order
        if keep is not None and keep in self._shown:
            # The cursor stays on its subscriber wherever the row went.
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_status()

    def _changes(self, new: Row, old: Row, styles: dict[str, str]) -> list[tuple[str, str, Cell]]:
        """The cells of `new` that differ from `old`: (row, column, cell)."""
        restyle = new.condition != old.condition
        return [
            (new.name, key, self._cell(new, i, styles))
            for i, (key, _heading) in enumerate(COLUMNS)
            if restyle or new.cells[i] != old.cells[i]
        ]

    def _cells_of(self, r: Row, styles: dict[str, str]) -> tuple[Cell, ...]:
        cached = self._cells.get(r.name)
        if cached is not None and cached[0] == r:
            return cached[1]
        cells = tuple(self._cell(r, i, styles) for i in range(len(COLUMNS)))
        self._cells[r.name] = (r, cells)
        return cells

    def _cell(self, r: Row, column: int, styles: dict[str, str]) -> Cell:
        key = COLUMNS[column][0]
        style = styles.get(r.condition, "") if key in ("state", "usage", "limit") else ""
        if key == "name" and r.limited:
            style = "bold"
        return Cell(r.cells[column], style)

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
        """A new theme: every cell in its colours."""
        self._styles, self._cells = {}, {}
        table = self.table
        table.clear()
        self._shown, self._order = {}, []
        self._sync()

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
        keys = [key for key, _ in COLUMNS]
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])

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

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column: ColumnKey = event.column_key
        if column.value is not None:
            self.sort_by(column.value)

    class Opened(Message):
        """`enter` (or a click) on a subscriber: the app opens their detail."""

        def __init__(self, subscriber: str) -> None:
            super().__init__()
            self.subscriber = subscriber

    def action_open(self) -> None:
        """enter, when the table does not have it (the filter box has the focus)."""
        if self.subscriber is not None:
            self.post_message(self.Opened(self.subscriber))

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name is not None:
            self.post_message(self.Opened(name))
