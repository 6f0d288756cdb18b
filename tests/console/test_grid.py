"""The virtual table under the subscribers screen (nmsquota.console.grid): it draws only the
rows on screen, as a DataTable would draw them, and keeps its cursor on a row's key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from nmsquota.console.grid import Grid, Line

COLUMNS = (("name", "NAME"), ("state", "STATE"), ("where", "WHERE"))


class Host(App[None]):
    """A Grid over `rows` (key -> texts), drawing what it is asked for into `asked`."""

    def __init__(self, rows: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.rows = rows
        self.asked: list[str] = []
        self.selected: list[str] = []
        self.headings: list[str] = []

    def line_of(self, key: str) -> Line:
        self.asked.append(key)
        return tuple((text, "bold" if column == 1 else "") for column, text in
                     enumerate(self.rows[key]))  # fmt: skip

    def compose(self) -> ComposeResult:
        yield Grid(COLUMNS, self.line_of)

    def on_grid_row_selected(self, event: Grid.RowSelected) -> None:
        self.selected.append(event.key)

    def on_grid_header_selected(self, event: Grid.HeaderSelected) -> None:
        self.headings.append(event.column)


def numbered(count: int) -> dict[str, tuple[str, ...]]:
    return {f"row-{i:05d}": (f"row-{i:05d}", "ok", f"bras-{i % 4}") for i in range(count)}


Steps = Callable[[Pilot[None], Host, Grid], Awaitable[None]]


def hosted(
    rows: dict[str, tuple[str, ...]], steps: Steps, size: tuple[int, int] = (60, 20)
) -> None:
    async def main() -> None:
        app = Host(rows)
        async with app.run_test(size=size) as pilot:
            grid = app.query_one(Grid)
            grid.widen([max(len(cells[i]) for cells in rows.values()) for i in range(3)])
            grid.show_rows(list(rows))
            await pilot.pause()
            await steps(pilot, app, grid)

    asyncio.run(main())


def screen_text(grid: Grid) -> list[str]:
    return [grid.render_line(y).text.rstrip() for y in range(grid.size.height)]


def test_a_grid_draws_its_rows_as_a_datatable_draws_them() -> None:
    rows = {
        "alice": ("alice", "not effective", "████████ 295% 1d"),
        "bob": ("bob", "ok", "用户-宽"),  # wide characters: two cells each
        "carol": ("carol", "limited", "<pppoe-carol>"),
    }

    class Both(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Grid(COLUMNS, lambda key: tuple((text, "") for text in rows[key]))

    async def main() -> None:
        async with Both().run_test(size=(60, 20)) as pilot:
            table, grid = pilot.app.query_one(DataTable), pilot.app.query_one(Grid)
            for key, heading in COLUMNS:
                table.add_column(heading, key=key)
            for key, cells in rows.items():
                table.add_row(*(Text(cell) for cell in cells), key=key)
            grid.widen([5, 13, 16])  # as the screen measures them: wide characters count 2
            grid.show_rows(list(rows))
            await pilot.pause()
            for y in range(len(rows) + 1):
                assert grid.render_line(y).text == table.render_line(y).text
            # A refresh with a wider value widens its column, and never narrows one.
            grid.widen([21, 2, 2])
            assert grid.widths == [21, 13, 16]

    asyncio.run(main())


def test_only_the_rows_on_screen_are_drawn_and_the_end_shows_the_last_row() -> None:
    async def steps(pilot: Pilot[None], host: Host, grid: Grid) -> None:
        # 20 lines: the header and 19 rows of the 5,000 are ever asked for.
        assert len(set(host.asked)) == 19
        host.asked.clear()
        await pilot.press("end")
        assert grid.cursor_key == "row-04999"
        text = screen_text(grid)
        assert text[-1].split()[0] == "row-04999" and text[0].split()[0] == "NAME"
        assert len(set(host.asked)) <= 19
        await pilot.press("home")
        assert screen_text(grid)[1].split()[0] == "row-00000"

    hosted(numbered(5000), steps)


def test_the_mouse_wheel_scrolls_to_the_end_of_a_long_table() -> None:
    async def steps(pilot: Pilot[None], host: Host, grid: Grid) -> None:
        for _ in range(1000):
            grid.post_message(events.MouseScrollDown(grid, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert screen_text(grid)[-1].split()[0] == "row-01499"
        assert grid.cursor_key == "row-00000"  # the wheel scrolls; it does not move the cursor

    hosted(numbered(1500), steps)


def test_pagedown_moves_a_page_and_keeps_the_cursor_on_screen() -> None:
    async def steps(pilot: Pilot[None], host: Host, grid: Grid) -> None:
        await pilot.press("pagedown")
        assert grid.cursor == 19
        await pilot.press("pagedown", "down", "up", "pageup")
        assert grid.cursor == 19
        on_screen = [line.split()[0] for line in screen_text(grid)[1:]]
        assert "row-00019" in on_screen

    hosted(numbered(1000), steps)


def test_the_cursor_stays_on_its_key_when_rows_move_and_where_it_was_when_its_row_goes() -> None:
    async def steps(pilot: Pilot[None], host: Host, grid: Grid) -> None:
        await pilot.press("down", "down", "down")
        assert grid.cursor_key == "row-00003"
        keys = list(host.rows)
        grid.show_rows(list(reversed(keys)))
        assert grid.cursor_key == "row-00003" and grid.cursor == 96
        await pilot.pause()
        assert "row-00003" in [line.split()[0] for line in screen_text(grid)[1:]]
        grid.show_rows([key for key in reversed(keys) if key != "row-00003"])
        assert grid.cursor == 96 and grid.cursor_key == "row-00002"
        grid.show_rows(keys[10:20])  # gone, and fewer rows than its place: the last one
        assert grid.cursor_key == "row-00019"
        grid.show_rows([])
        assert grid.cursor_key is None

    hosted(numbered(100), steps)


def test_a_click_moves_the_cursor_a_second_selects_and_a_heading_click_names_its_column() -> None:
    async def steps(pilot: Pilot[None], host: Host, grid: Grid) -> None:
        await pilot.click(Grid, offset=(2, 3))  # the third row (the header is line 0)
        assert grid.cursor_key == "bob-2" and host.selected == []
        await pilot.click(Grid, offset=(2, 3))
        await pilot.pause()
        assert host.selected == ["bob-2"]
        # NAME is 5 wide + 2 padding = 7 cells; STATE starts at x=7.
        await pilot.click(Grid, offset=(8, 0))
        await pilot.click(Grid, offset=(1, 0))
        await pilot.pause()
        assert host.headings == ["state", "name"]
        await pilot.press("enter")
        await pilot.pause()
        assert host.selected == ["bob-2", "bob-2"]

    rows = {f"bob-{i}": (f"bob-{i}", "ok", "-") for i in range(5)}
    hosted(rows, steps)
