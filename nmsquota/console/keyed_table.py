"""Bringing a DataTable up to date with a new snapshot without losing the operator's place.

Rows are keyed by what they show (a device, a driver, an event, an override): only the
cells that changed are rewritten, and the cursor stays on the same key. Rows are removed
one by one only when few go (`remove_row` costs ~15 ms a row: FIELD-NOTES.md); otherwise,
or when the order changed (new events on top), the table is refilled, which costs about
as much as adding the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Cells = Sequence[Text]
"""Text, never str: DataTable reads a str as Rich markup, and a name or an event's text
with brackets in it ("limit on bob [10.0.0.2]") would be taken for styles."""

FEW = 20
"""Removals done row by row; more and the table is refilled."""


def selected_key(table: DataTable[Text]) -> str | None:
    """The key of the row under the cursor (None: an empty table)."""
    if not table.row_count:
        return None
    row = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
    return row.value


def sync_rows(table: DataTable[Text], rows: Mapping[str, Cells]) -> None:
    """Make `table` show `rows`, in their order, keeping the cursor on the row it was on
    (or where it was, if that row went)."""
    selected = selected_key(table)
    current = [row.key.value for row in table.ordered_rows if row.key.value is not None]
    gone = [key for key in current if key not in rows]
    known = set(current)
    kept = [key for key in current if key in rows]
    new = [key for key in rows if key not in known]
    if len(gone) > FEW or kept + new != list(rows):
        _refill(table, rows)
    else:
        for key in gone:
            table.remove_row(key)
        for index, key in enumerate(kept):
            for column, (old, cell) in enumerate(zip(table.get_row(key), rows[key], strict=True)):
                if old != cell:
                    table.update_cell_at(Coordinate(index, column), cell)
        for key in new:
            table.add_row(*rows[key], key=key)
    if selected is not None and selected in rows:
        table.move_cursor(row=table.get_row_index(selected))


def _refill(table: DataTable[Text], rows: Mapping[str, Cells]) -> None:
    row = table.cursor_row
    table.clear()
    for key, cells in rows.items():
        table.add_row(*cells, key=key)
    if table.row_count:
        table.move_cursor(row=min(row, table.row_count - 1))
