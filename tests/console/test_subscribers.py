"""The subscribers screen: every subscriber's state, usage, limit and session, sorted and
filtered as the operator asks, kept in place (cursor, sort, filter) across refreshes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

import nmsquota.console as console_module
from console.conftest import NOW, SIZE, T0, console_app, drive, settled
from nmsquota.console.app import ConsoleApp
from nmsquota.console.subscribers import Cell, SubscribersScreen, SubscriberTable
from nmsquota.ledger import Ledger
from nmsquota.standings import Snapshot
from nmsquota.usage import Sample


def screen_of(app: ConsoleApp) -> SubscribersScreen:
    screen = app.screen
    assert isinstance(screen, SubscribersScreen)
    return screen


def shown(app: ConsoleApp, column: int = 0) -> list[str]:
    """One column of the table, top to bottom (the subscribers' names by default)."""
    table = screen_of(app).table
    return [str(table.get_row(row.key)[column]) for row in table.ordered_rows]


def row_of(app: ConsoleApp, name: str) -> list[str]:
    return [str(cell) for cell in screen_of(app).table.get_row(name)]


def test_each_row_says_state_usage_limit_lifts_and_session(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert row_of(app, "alice") == [
            "alice", "not effective", "████████ 295% 1d", "8kbit", "23h25m", "yes",
            "10.60.1.2", "bras", "<pppoe-alice>",
        ]  # fmt: skip
        # Two caps: the one that bites (the hour's), and a marker for the other.
        assert row_of(app, "carol")[1:6] == ["limited", "████████ 120% 1h +1", "64kbit", "15m",
                                             "-"]  # fmt: skip
        assert row_of(app, "gina")[1:4] == ["stepped", "██████▌·  82% 1d", "1Mbit at 80%"]
        assert row_of(app, "erin")[1:5] == ["forced", "········   0% 1d", "8kbit", "override"]
        assert row_of(app, "bob")[1:4] == ["exempt", "████████ 200% 1d", "-"]
        assert row_of(app, "frank")[5:8] == ["yes", "10.60.1.6", "bras-2"]

    drive(console_app(console_data), script)


def test_the_header_counts_online_limited_not_effective_and_the_cycle(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert app.summary is not None
        # old-bras did not answer and a limit does not bite: troubled, as `status` says.
        assert app.summary.line == ("7 subscribers  4 online  5 limited  1 not effective  "
                                    "cycle 13 1m ago: troubled")  # fmt: skip

    drive(console_app(console_data), script)


def test_what_needs_attention_comes_first_then_any_column_sorts(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert shown(app) == ["alice", "carol", "erin", "frank", "gina", "bob", "dave"]
        await pilot.press("s")  # the next column: usage, fullest first
        assert shown(app) == ["alice", "dave", "bob", "carol", "frank", "gina", "erin"]
        await pilot.press("o")  # reversed
        assert shown(app) == ["erin", "gina", "frank", "carol", "bob", "dave", "alice"]
        screen_of(app).sort_by("state")
        screen_of(app).sort_by("state")  # the same column again: reversed, ties by name still
        assert shown(app) == ["bob", "dave", "frank", "gina", "erin", "carol", "alice"]
        screen_of(app).sort_by("address")  # what a click on its heading does
        assert shown(app, 6) == ["10.60.1.2", "10.60.1.3", "10.60.1.4", "10.60.1.5",
                                 "10.60.1.6", "10.60.1.7", ""]  # fmt: skip

    drive(console_app(console_data), script)


def test_a_click_on_a_heading_sorts_by_that_column(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        table = screen_of(app).table
        # The LIMIT heading: past the widths of the columns before it.
        x = sum(column.get_render_width(table) for column in list(table.columns.values())[:3])
        await pilot.click(DataTable, offset=(x + 2, 0))
        assert screen_of(app).sort_column == "limit"
        assert shown(app, 3)[:2] == ["1Mbit at 80%", "1Mbit at 80%"]  # fastest first

    drive(console_app(console_data), script)


def test_the_filter_narrows_as_the_operator_types_and_escape_clears_it(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash", "b", "r", "a", "s")
        # Last seen on bras or bras-2 (carol is offline, where she was last)
        assert shown(app) == ["alice", "carol", "frank", "gina", "dave"]
        await pilot.press("minus")
        assert shown(app) == ["frank"]
        await pilot.press("enter")  # the filter stays; the table has the keys again
        assert isinstance(app.focused, DataTable) and shown(app) == ["frank"]
        await pilot.press("escape")
        assert len(shown(app)) == 7

    drive(console_app(console_data), script)


def test_quick_filters_show_the_limited_then_the_limits_that_do_not_bite(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("f")
        assert shown(app) == ["alice", "carol", "erin", "frank", "gina"]
        await pilot.press("f")
        assert shown(app) == ["alice"]
        await pilot.press("f")
        assert len(shown(app)) == 7
        await pilot.press("f", "escape")  # escape ends a quick filter too
        assert len(shown(app)) == 7

    drive(console_app(console_data), script)


def test_a_refresh_keeps_the_cursor_the_sort_and_the_filter(
    console_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        screen = screen_of(app)
        await pilot.press("s")  # by usage
        await pilot.press("slash", "1", "0", ".", "6", "0", "enter")  # everyone with an address
        await pilot.press("down", "down", "down")
        assert screen.subscriber == "frank"
        before = shown(app)
        # A cycle: erin downloads past everyone, hank appears.
        with Ledger.open_writer(console_data / "ledger") as ledger:
            ledger.commit(T0 + 3900, [Sample("erin", T0 + 3900, 5_000_000, 0)])
        cleared: list[bool] = []
        monkeypatch.setattr(DataTable, "clear", lambda *a, **k: cleared.append(True))
        app.refresh_now()
        await settled(app, pilot)
        assert (screen.sort_column, screen.filter_text) == ("usage", "10.60")
        assert shown(app) == ["erin"] + [name for name in before if name != "erin"]
        assert row_of(app, "erin")[2] == "████████ 500% 1d"
        assert screen.subscriber == "frank"
        assert cleared == []  # changed in place, not rebuilt

    drive(console_app(console_data), script)


def test_enter_opens_the_subscriber_under_the_cursor(console_data: Path) -> None:
    opened: list[str] = []

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        app.open_detail = opened.append  # type: ignore[method-assign]
        await pilot.press("down", "enter")
        assert opened == ["carol"]

    drive(console_app(console_data, now=NOW), script)


def test_a_snapshot_shown_before_the_screen_is_mounted_is_shown_once_it_is(
    console_snapshot: Snapshot,
) -> None:
    class Host(App[None]):
        CSS_PATH = str(Path(console_module.__file__).with_name("console.tcss"))

    async def main() -> None:
        async with Host().run_test(size=SIZE) as pilot:
            screen = SubscribersScreen()
            screen.show(console_snapshot)  # the app may read faster than a screen composes
            await pilot.app.push_screen(screen)
            await pilot.pause()
            assert [str(c) for c in screen.table.get_row("gina")][:2] == ["gina", "stepped"]
            assert screen.table.row_count == 7

    asyncio.run(main())


def test_widening_the_filter_adds_the_rows_back_at_once_in_order_under_the_cursor(
    console_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        screen = screen_of(app)
        await pilot.press("s")  # by usage
        everyone = shown(app)
        await pilot.press("slash", *"bras-", "enter")
        assert shown(app) == ["frank"] and screen.subscriber == "frank"
        one_by_one: list[object] = []
        add_row = DataTable.add_row
        monkeypatch.setattr(DataTable, "add_row",
                            lambda *a, **k: one_by_one.append(a) or add_row(*a, **k))  # fmt: skip
        await pilot.press("escape")
        assert shown(app) == everyone
        assert screen.subscriber == "frank"
        assert row_of(app, "carol")[1:3] == ["limited", "████████ 120% 1h +1"]
        # Six rows came back in one batch (Textual's add_row costs ~50 µs a row: 10,000 rows
        # one by one kept a widening keystroke busy for seconds).
        assert one_by_one == []

    drive(console_app(console_data), script)


def test_a_batch_of_rows_is_laid_out_as_datatable_lays_out_rows_added_one_by_one() -> None:
    rows = [
        ("alice", ["alice", "not effective", "████████ 295% 1d", ""]),
        ("bob", ["bob", "ok", "··  3% 1d", "用户-宽"]),  # wide characters: two cells each
        ("carol", ["carol", "limited", "█▌······ 20% 1h +1", "<pppoe-carol>"]),
    ]
    styles = {"alice": "bold red", "bob": "", "carol": "yellow"}

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="plain")
            yield SubscriberTable(id="batched")

    async def main() -> None:
        async with Host().run_test(size=SIZE) as pilot:
            plain = pilot.app.query_one("#plain", DataTable)
            batched = pilot.app.query_one("#batched", SubscriberTable)
            for table in (plain, batched):
                for key in ("name", "state", "usage", "interface"):
                    table.add_column(key.upper(), key=key)
            for key, cells in rows:
                plain.add_row(*(Text(c, style=styles[key], no_wrap=True) for c in cells),
                              key=key)  # fmt: skip
            batched.add_keyed_rows((key, [Cell(c, styles[key]) for c in cells])
                                   for key, cells in rows)  # fmt: skip
            await pilot.pause()
            assert [c.content_width for c in batched.ordered_columns] == [
                c.content_width for c in plain.ordered_columns
            ]
            assert [r.key for r in batched.ordered_rows] == [r.key for r in plain.ordered_rows]
            assert batched.cursor_coordinate == plain.cursor_coordinate
            assert batched.virtual_size == plain.virtual_size
            for y in range(len(rows) + 1):
                assert batched.render_line(y).text == plain.render_line(y).text
            batched.update_cells([("bob", "state", Cell("limited", "bold"))])
            assert str(batched.get_cell("bob", "state")) == "limited"
            # A refresh with a wider value widens its column ("-" becoming "yes" in ON).
            wider = "<pppoe-alice-at-home>"
            batched.update_cells([("alice", "interface", Cell(wider, ""))])
            await pilot.pause()
            assert batched.columns[ColumnKey("interface")].content_width == len(wider)
            assert wider in batched.render_line(1).text

    asyncio.run(main())
