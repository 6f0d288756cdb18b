"""The events screen: the read API's event log newest first, filtered by kind (`k`) and by
subscriber (`/`), and live: new events on top, the cursor staying on its event."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Label, Static

from console.screen_ledger import T0, UTC, Host, data_dir, snapshot_of
from nmsquota.console.events import EventsScreen
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventKind, EventRecord


def shown(screen: EventsScreen) -> list[int]:
    table = screen.query_one("#events", DataTable)
    return [int(str(row.key.value)) for row in table.ordered_rows]


def test_events_are_shown_newest_first_with_their_text_whole(tmp_path: Path) -> None:
    async def run() -> None:
        screen = EventsScreen(zone=UTC)
        app = Host(screen, snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert shown(screen) == [6, 5, 4, 3, 2, 1]
            table = screen.query_one("#events", DataTable)
            assert [str(c) for c in table.get_row("6")] == [
                "08:55:00", "repair", "", "shaper",
                "limit on bob [10.0.0.2] was missing: reinstalled"]  # fmt: skip
            await pilot.press("down")
            detail = str(screen.query_one("#event-detail", Static).render())
            assert detail == "session up: carol on <pppoe-carol> at bras"

    asyncio.run(run())


def test_k_cycles_through_the_kinds_in_the_log(tmp_path: Path) -> None:
    async def run() -> None:
        screen = EventsScreen(zone=UTC)
        app = Host(screen, snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("k")
            assert screen.kind is EventKind.LIMIT_APPLIED and shown(screen) == [2, 1]
            await pilot.press("k")
            assert screen.kind is EventKind.OVERRIDE and shown(screen) == [3]
            label = str(screen.query_one("#kind-filter", Label).render())
            assert label == "kind: override (k)"
            await pilot.press("K", "K")
            assert screen.kind is None and len(shown(screen)) == 6

    asyncio.run(run())


def test_slash_filters_by_subscriber_as_typed_and_escape_clears_then_goes_back(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        screen = EventsScreen(zone=UTC)
        app = Host(screen, snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("slash", "c", "a")
            assert shown(screen) == [5, 3, 2]  # carol's
            await pilot.press("backspace", "backspace", "l", "i")
            assert shown(screen) == [1]  # alice's
            await pilot.press("escape")
            assert len(shown(screen)) == 6 and app.screen is screen
            await pilot.press("escape")
            assert app.screen is not screen

    asyncio.run(run())


def test_new_events_arrive_on_top_and_the_cursor_stays_on_its_event(tmp_path: Path) -> None:
    data = data_dir(tmp_path)

    async def run() -> None:
        screen = EventsScreen(zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("down", "down")
            assert screen.selected_event == 4
            with Ledger.open_writer(data / "ledger") as ledger:
                ledger.records.add_events([EventRecord(
                    time=T0 + 3600, kind=EventKind.LIMIT_LIFTED, subscriber="carol",
                    text="carol's limit lifted")])  # fmt: skip
            screen.show(snapshot_of(data))
            await pilot.pause()
            assert shown(screen)[:2] == [7, 6]
            assert screen.selected_event == 4

    asyncio.run(run())
