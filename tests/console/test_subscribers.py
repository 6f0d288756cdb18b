"""The subscribers screen: every subscriber's state, usage, limit and session, sorted and
filtered as the operator asks, kept in place (cursor, sort, filter) across refreshes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

import nmsquota.console as console_module
from console.conftest import NOW, SIZE, T0, console_app, drive, settled
from nmsquota.console.app import ConsoleApp
from nmsquota.console.grid import Grid
from nmsquota.console.rows import COLUMNS, Row, column_keys, column_widths, filter_texts, row
from nmsquota.console.subscribers import SubscribersScreen
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
    return [table.cells(key)[column] for key in table.keys]


def row_of(app: ConsoleApp, name: str) -> list[str]:
    return list(screen_of(app).table.cells(name))


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
        # The LIMIT heading: past the columns before it (each padded by a cell each side).
        x = sum(width + 2 for width in table.widths[:3])
        await pilot.click(Grid, offset=(x + 2, 0))
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
        assert isinstance(app.focused, Grid) and shown(app) == ["frank"]
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


def test_a_refresh_keeps_the_cursor_the_sort_and_the_filter(console_data: Path) -> None:
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
        table = screen.table
        app.refresh_now()
        await settled(app, pilot)
        assert (screen.sort_column, screen.filter_text) == ("usage", "10.60")
        assert shown(app) == ["erin"] + [name for name in before if name != "erin"]
        assert row_of(app, "erin")[2] == "████████ 500% 1d"
        assert screen.subscriber == "frank"
        assert screen.table is table  # changed in place, not rebuilt

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
            assert screen.table.cells("gina")[:2] == ("gina", "stepped")
            assert screen.table.row_count == 7

    asyncio.run(main())


def test_widening_the_filter_brings_the_rows_back_in_order_under_the_cursor(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        screen = screen_of(app)
        await pilot.press("s")  # by usage
        everyone = shown(app)
        await pilot.press("slash", *"bras-", "enter")
        assert shown(app) == ["frank"] and screen.subscriber == "frank"
        await pilot.press("escape")
        assert shown(app) == everyone
        assert screen.subscriber == "frank"
        assert row_of(app, "carol")[1:3] == ["limited", "████████ 120% 1h +1"]

    drive(console_app(console_data), script)


def test_a_refresh_that_reorders_and_removes_rows_keeps_the_cursor_on_its_subscriber(
    console_snapshot: Snapshot,
) -> None:
    class Host(App[None]):
        CSS_PATH = str(Path(console_module.__file__).with_name("console.tcss"))

    async def main() -> None:
        async with Host().run_test(size=SIZE) as pilot:
            screen = SubscribersScreen()
            await pilot.app.push_screen(screen)
            screen.show(console_snapshot)
            await pilot.pause()
            await pilot.press("down", "down", "down")
            assert screen.subscriber == "frank"
            # alice and carol (above the cursor) gone, the rest in another order.
            kept = tuple(reversed([view for view in console_snapshot.subscribers
                                   if view.name not in ("alice", "carol")]))  # fmt: skip
            screen.show(replace(console_snapshot, subscribers=kept))
            await pilot.pause()
            assert screen.table.keys == ["erin", "frank", "gina", "bob", "dave"]
            assert screen.subscriber == "frank"
            # frank goes too: the cursor stays where it was, on whoever is there now.
            screen.show(replace(console_snapshot, subscribers=tuple(
                view for view in kept if view.name != "frank")))  # fmt: skip
            await pilot.pause()
            assert screen.subscriber == "gina"

    asyncio.run(main())


def test_the_filter_narrows_then_widens_again_as_the_operator_deletes(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"bras")
        assert shown(app) == ["alice", "carol", "frank", "gina", "dave"]
        await pilot.press("minus")
        assert shown(app) == ["frank"]
        await pilot.press("backspace")
        assert shown(app) == ["alice", "carol", "frank", "gina", "dave"]
        await pilot.press(*["backspace"] * 4)
        assert len(shown(app)) == 7
        assert "7 of 7 shown" in str(app.screen.query_one("#status", Static).render())

    drive(console_app(console_data), script)


def test_a_second_click_on_a_heading_reverses_its_order(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        screen = screen_of(app)
        # SUBSCRIBER, the first heading: by name, then reversed.
        await pilot.click(Grid, offset=(2, 0))
        assert (screen.sort_column, screen.descending) == ("name", False)
        assert shown(app) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
        await pilot.click(Grid, offset=(2, 0))
        assert (screen.sort_column, screen.descending) == ("name", True)
        assert shown(app) == ["gina", "frank", "erin", "dave", "carol", "bob", "alice"]

    drive(console_app(console_data), script)


def test_a_click_on_a_row_selects_it_and_a_second_click_opens_it(console_data: Path) -> None:
    opened: list[str] = []

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        app.open_detail = opened.append  # type: ignore[method-assign]
        await pilot.click(Grid, offset=(2, 4))  # the fourth row: frank
        assert screen_of(app).subscriber == "frank" and opened == []
        await pilot.click(Grid, offset=(2, 4))
        await pilot.pause()
        assert opened == ["frank"]

    drive(console_app(console_data, now=NOW), script)


def test_column_widths_count_wide_characters_twice_and_take_the_widest_value() -> None:
    def made(name: str, interface: str) -> Row:
        cells = (name, "ok", "██······  25% 1d", "-", "-", "-", "", "bras", interface)
        return Row(name, "ok", cells, False, False, "home", (), (25.0, 0.0, 0.0))

    widths = column_widths([made("bob", "<pppoe-bob>"), made("用户-宽", "-")])
    assert widths[0] == 7 and widths[2] == 16 and widths[8] == 11


def test_the_filter_text_is_kept_for_a_row_alike_and_made_again_for_a_changed_one(
    console_snapshot: Snapshot,
) -> None:
    before = [row(view, console_snapshot.as_of) for view in console_snapshot.subscribers]
    texts = filter_texts(before, None, [])
    assert texts == [r.text for r in before]
    after = [row(view, console_snapshot.as_of) for view in console_snapshot.subscribers]
    changed = after[0]
    after[0] = Row(changed.name, changed.condition, ("zed", *changed.cells[1:]),
                   changed.limited, changed.not_effective, changed.plan,
                   changed.addresses, (0.0, 0.0, 0.0))  # fmt: skip
    again = filter_texts(after, before, texts)
    assert again[0].startswith("zed ") and all(
        a is b for a, b in zip(again[1:], texts[1:], strict=True)
    )


def test_a_columns_sort_values_are_those_of_each_row(console_snapshot: Snapshot) -> None:
    rows = [row(view, console_snapshot.as_of) for view in console_snapshot.subscribers]
    for column in range(len(COLUMNS)):
        assert column_keys(rows, column) == [r.sort_key(column) for r in rows]
