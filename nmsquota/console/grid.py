"""A virtual table: rows stay plain data in the screen that owns them, and only the rows on
screen are ever turned into text.

Textual's DataTable keeps every row in the widget (cells, keys, a full re-sort on each
change) and drops every cache at any change; with 10,000 subscribers a refresh or a filter
that brought thousands of rows back cost 0.3-4 s (bench/RESULTS.md). A Grid holds only the
keys of the rows shown, in order, and asks its owner for a row's cells (`line_of`) when
that row is drawn; a drawn row is cached by its cells, so a refresh that leaves a row alike
redraws nothing. It looks and answers like a DataTable with a row cursor and zebra stripes
(the same component styles, header click, enter and a click on the cursor's row select).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Line = tuple[tuple[str, str], ...]
"""One row as drawn: (text, Rich style) per column, in column order."""

PADDING = 1
"""Blank cells on each side of a column, as DataTable draws them."""
_COLUMN_META = tuple(Style.from_meta({"column": column}) for column in range(64))
CACHED = 4_000
"""Rows drawn kept at most (a screen shows a few dozen; scrolling back finds them)."""


class Grid(ScrollView, can_focus=True):
    """Rows of one-line cells under a fixed header, a row cursor kept on its key."""

    # DataTable's own look (Textual 8.2), under this widget's names.
    DEFAULT_CSS = """
    Grid {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .grid--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .grid--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .grid--even-row {
            background: $surface-darken-1 40%;
        }
        & > .grid--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .grid--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .grid--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .grid--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .grid--hover {
            background: $block-hover-background;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "grid--header", "grid--even-row", "grid--odd-row", "grid--cursor", "grid--hover",
    }  # fmt: skip
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    class RowSelected(Message):
        """enter, or a click on the cursor's row."""

        def __init__(self, grid: Grid, key: str) -> None:
            super().__init__()
            self.grid = grid
            self.key = key

        @property
        def control(self) -> Grid:
            return self.grid

    class HeaderSelected(Message):
        """A click on a column's heading."""

        def __init__(self, grid: Grid, column: str) -> None:
            super().__init__()
            self.grid = grid
            self.column = column

        @property
        def control(self) -> Grid:
            return self.grid

    def __init__(self, columns: Sequence[tuple[str, str]], line_of: Callable[[str], Line], *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:  # fmt: skip
        """`columns`: (key, heading) in order; `line_of(key)`: a shown row's cells."""
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self.widths = [cell_len(heading) for _, heading in self.columns]
        """Each column's content width (padding not included): it only grows."""
        self.keys: Sequence[str] = ()
        """The rows shown, top to bottom."""
        self.cursor = 0
        """The cursor's row (an index into `keys`)."""
        self._line_of = line_of
        self._hover: int | None = None
        """The row under the mouse (None: none, or the keyboard moved the cursor since)."""
        self._drawn: dict[tuple[Line, bool, bool, bool, bool, int], Strip] = {}
        """Rows drawn: (cells, odd, header, under the cursor, under the mouse, scroll x)."""
        self._drawn_for: tuple[object, ...] = ()
        """What every drawn row depends on (widths, width, focus): a change drops them."""
        self._looks: dict[str, Style] = {}

    # -- what the owner calls ---------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def cursor_key(self) -> str | None:
        """The key of the cursor's row (None: no rows)."""
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    def show_rows(self, keys: Sequence[str]) -> None:
        """Show `keys` (their cells through `line_of`), the cursor staying on its key, and at
        the same height on screen, wherever that row went; if it went, the cursor stays
        where it was."""
        kept, was = self.cursor_key, self.cursor
        self.keys = keys
        if kept is not None:
            with suppress(ValueError):  # gone: the cursor stays at its place
                self.cursor = keys.index(kept)
        self.cursor = max(0, min(self.cursor, len(keys) - 1))
        self._set_virtual_size()
        if self.cursor != was:
            self.scroll_to(y=max(0, self.scroll_y + self.cursor - was), animate=False,
                           immediate=True)  # fmt: skip
        self.refresh()

    def widen(self, widths: Sequence[int]) -> None:
        """Columns at least this wide (content cells); a column never narrows."""
        wider = [max(old, new) for old, new in zip(self.widths, widths, strict=True)]
        if wider != self.widths:
            self.widths = wider
            self._set_virtual_size()
            self.refresh()

    def redraw(self) -> None:
        """Draw every row again (their styles changed: a new theme)."""
        self._drawn.clear()
        self._looks.clear()
        self.refresh()

    def move_cursor(self, row: int) -> None:
        """The cursor to `row` (clamped), scrolled into view."""
        self.cursor = max(0, min(row, len(self.keys) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def cells(self, key: str) -> tuple[str, ...]:
        """A row's texts as drawn."""
        return tuple(text for text, _style in self._line_of(key))

    # -- sizes ------------------------------------------------------------------------------

    @property
    def table_width(self) -> int:
        return sum(self.widths) + 2 * PADDING * len(self.widths)

    def _set_virtual_size(self) -> None:
        self.virtual_size = Size(self.table_width, len(self.keys) + 1)

    @property
    def page(self) -> int:
        """Rows on screen (the header not counted)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_y)
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + self.page:
            top = self.cursor - self.page + 1
        if top != int(self.scroll_y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def column_at(self, x: int) -> str | None:
        """The key of the column at x (table cells from the left edge)."""
        edge = 0
        for (key, _heading), width in zip(self.columns, self.widths, strict=True):
            edge += width + 2 * PADDING
            if x < edge:
                return key
        return None

    # -- drawing ----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._looks.clear()
        self._drawn.clear()

    def _look(self, name: str) -> Style:
        style = self._looks.get(name)
        if style is None:
            style = self._looks[name] = self.get_component_styles(name).rich_style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        depends = (tuple(self.widths), width, self.get_pseudo_class_state())
        if depends != self._drawn_for or len(self._drawn) > CACHED:
            self._drawn_for = depends
            self._drawn.clear()
            self._looks.clear()
        if y == 0:
            line = tuple((heading, "") for _key, heading in self.columns)
            return self._draw(line, None, False, False, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self.keys):
            return Strip.blank(width, self.rich_style)
        line = self._line_of(self.keys[index])
        hover = self._hover == index
        return self._draw(line, index % 2 == 1, index == self.cursor, hover, scroll_x, width)

    def _draw(self, line: Line, odd: bool | None, cursor: bool, hover: bool, scroll_x: int,
              width: int) -> Strip:  # fmt: skip
        """A row (odd None: the header) as DataTable draws it: each cell padded, in the row's
        style, the cursor's colours over the cell's own, the row's style to the right edge."""
        key = (line, bool(odd), odd is None, cursor, hover, scroll_x)
        strip = self._drawn.get(key)
        if strip is not None:
            return strip
        if odd is None:
            row_style = self._look("grid--header")
        else:
            row_style = self._look("grid--odd-row" if odd else "grid--even-row")
        over = Style()
        if hover:
            over += self._look("grid--hover")
        if cursor:
            over += self._look("grid--cursor")
        # The cursor's colours win over a cell's own (DataTable's "css" priority).
        post = Style.from_color(over.color, over.bgcolor)
        pre = row_style + over
        blank = pre + post
        segments: list[Segment] = []
        pad = " " * PADDING
        for column, ((text, style), cells) in enumerate(zip(line, self.widths, strict=True)):
            length = cell_len(text)
            if length > cells:
                text, length = set_cell_size(text, cells), cells
            # Each cell's segments marked with its column, so that no later simplification
            # merges two cells (none does in a DataTable): an SVG screenshot places each
            # cell at its column, and a viewer without the font does not drift.
            where = _COLUMN_META[column] if column < len(_COLUMN_META) else Style()
            fill = " " * (cells - length) + pad
            plain = blank + where
            styled = pre + Style.parse(style) + post + where if style else plain
            if styled == plain:  # "bold" on the cursor's row, already bold
                segments.append(Segment(pad + text + fill, plain))
            else:
                segments.append(Segment(pad, plain))
                segments.append(Segment(text, styled))
                segments.append(Segment(fill, plain))
        total = self.table_width
        if total < width:
            segments.append(Segment(" " * (width - total), pre))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        strip = strip.adjust_cell_length(width, self.rich_style)
        self._drawn[key] = strip
        return strip

    # -- keys -------------------------------------------------------------------------------

    def _keyboard(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def action_cursor_up(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._keyboard()
        self.move_cursor(self.cursor + 1)

    def action_page_down(self) -> None:
        self._keyboard()
        page = self.page
        self.scroll_to(y=self.scroll_y + page, animate=False, immediate=True)
        self.move_cursor(self.cursor + page)

    def action_page_up(self) -> None:
        self._keyboard()
        page = self.page
        self.scroll_to(y=max(0, self.scroll_y - page), animate=False, immediate=True)
        self.move_cursor(self.cursor - page)

    def action_first(self) -> None:
        self._keyboard()
        self.move_cursor(0)

    def action_last(self) -> None:
        self._keyboard()
        self.move_cursor(len(self.keys) - 1)

    def action_select_cursor(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    # -- the mouse --------------------------------------------------------------------------

    def _row_at(self, event: events.MouseEvent) -> int | None:
        """The row under the mouse: an index into `keys`, -1 the header, None: neither."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        if offset.y == 0:
            return -1
        index = int(self.scroll_y) + offset.y - 1
        return index if index < len(self.keys) else None

    def on_click(self, event: events.Click) -> None:
        index = self._row_at(event)
        if index is None:
            return
        event.stop()
        if index == -1:
            offset = event.get_content_offset(self)
            column = self.column_at(int(self.scroll_x) + offset.x) if offset else None
            if column is not None:
                self.post_message(self.HeaderSelected(self, column))
            return
        if index == self.cursor:  # a click on the cursor's row selects it, as in a DataTable
            self.action_select_cursor()
        else:
            self.move_cursor(index)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._row_at(event)
        hover = index if index is not None and index >= 0 else None
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
