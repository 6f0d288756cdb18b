"""The access-server screen: each device's last poll, latency, failures, counters, SNMP
version and profile, the interface map entries that charge nobody, the last cycle's load;
updated in place by each snapshot."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable, Static

from console.screen_ledger import BRAS, UTC, Host, data_dir, snapshot_of
from nmsquota.console.devices import DevicesScreen
from nmsquota.ledger import Ledger


def row(table: DataTable[object], key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


def test_each_access_server_shows_how_it_was_polled_and_why_it_failed(tmp_path: Path) -> None:
    async def run() -> None:
        app = Host(DevicesScreen(zone=UTC), snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#devices", DataTable)
            assert [r.key.value for r in table.ordered_rows] == ["bras", "edge-3", "old-bras"]
            assert row(table, "bras") == ["bras", "if-mib", "v2c", "09:00:00", "12 ms", "0",
                                          "6", "64", "answered", "127.0.0.1"]  # fmt: skip
            old = row(table, "old-bras")
            assert old[2:8] == ["v1", "09:00:00", "2.0 s", "3", "0", "32"]
            assert old[8].startswith("FAILED: timeout: old-bras (127.0.0.1:53688): No SNMP")
            assert row(table, "edge-3")[8] == "skipped for load"

    asyncio.run(run())


def test_the_last_cycles_load_is_one_summary(tmp_path: Path) -> None:
    async def run() -> None:
        app = Host(DevicesScreen(zone=UTC), snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            load = str(app.screen.query_one("#load", Static).render())
            assert "cycle 13 at 09:00:00, 1.0 s of 5m" in load
            assert ("answered 1, skipped for load 1, failed 1 (1 timeout); poll CPU 250 ms, "
                    "2 queued, capacity 1200 devices per interval") in load  # fmt: skip

    asyncio.run(run())


def test_interface_map_entries_that_charge_nobody_are_listed(tmp_path: Path) -> None:
    async def run() -> None:
        app = Host(DevicesScreen(zone=UTC), snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#mapping", DataTable)
            (only,) = table.ordered_rows
            assert row(table, str(only.key.value)) == [
                "bras", 'interfaces."ge-0/0/7"', "none", "08:10:00", "11",
                "no interface named ge-0/0/7"]  # fmt: skip

    asyncio.run(run())


def test_a_new_snapshot_updates_the_rows_in_place_keeping_the_cursor(tmp_path: Path) -> None:
    data = data_dir(tmp_path)

    async def run() -> None:
        screen = DevicesScreen(zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("down", "down")
            assert screen.selected_device == "old-bras"
            with Ledger.open_writer(data / "ledger") as ledger:
                ledger.records.set_devices([replace(BRAS, latency=0.5, interfaces=7)])
            screen.show(snapshot_of(data))
            await pilot.pause()
            table = screen.query_one("#devices", DataTable)
            assert row(table, "bras")[4:7] == ["500 ms", "0", "7"]
            assert screen.selected_device == "old-bras"
            assert table.cursor_row == 2

    asyncio.run(run())


def test_escape_goes_back(tmp_path: Path) -> None:
    async def run() -> None:
        app = Host(DevicesScreen(zone=UTC), snapshot_of(data_dir(tmp_path)))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, DevicesScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, DevicesScreen)

    asyncio.run(run())
