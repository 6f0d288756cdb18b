"""The drivers screen: health, whom each holds, reconciliation's repairs, errors and the
limits it holds that do not bite; the selected driver in full; updated in place."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable, Static

from console.screen_ledger import T0, UTC, Host, data_dir, snapshot_of
from nmsquota.console.drivers import DriversScreen
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import DriftRecord

DRIFT = DriftRecord(since=T0 + 3000, cycles=4,
                    lines=("limit on bob [10.0.0.2] was missing: reinstalled",))  # fmt: skip


def drifting(data: Path) -> Path:
    """The shaper holds erin, frank and gina, with drift kept; log holds everyone."""
    with Ledger.open_writer(data / "ledger") as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None
        log = replace(health.drivers["log"],
                      installed=("alice", "carol", "erin", "frank", "gina"))  # fmt: skip
        shaper = replace(health.drivers["shaper"], installed=("erin", "frank", "gina"),
                         errors=(), drifting=DRIFT, removed=("bob",))  # fmt: skip
        ledger.records.set_health(replace(health, drivers={"log": log, "shaper": shaper}))
    return data


def row(table: DataTable[object], key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


def test_each_driver_shows_health_holds_repairs_errors_and_limits_not_effective(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        app = Host(DriversScreen(zone=UTC), snapshot_of(drifting(data_dir(tmp_path))))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#drivers", DataTable)
            assert row(table, "log") == ["log", "FAILING", "5", "1", "0", "0", "0", "alice"]
            assert row(table, "shaper") == ["shaper", "DRIFTING", "3", "1", "1", "1", "0", "-"]
            summary = str(app.screen.query_one("#drivers-summary", Static).render())
            assert "2 drivers (1 drifting, 1 failing); 5 limited, 1 not effective" in summary

    asyncio.run(run())


def test_the_selected_driver_is_shown_in_full_brackets_and_all(tmp_path: Path) -> None:
    async def run() -> None:
        app = Host(DriversScreen(zone=UTC), snapshot_of(drifting(data_dir(tmp_path))))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            detail = app.screen.query_one("#driver-detail", Static)
            assert "not effective (measured not to bite): alice" in str(detail.render())
            await pilot.press("down")
            shown = str(detail.render())
            assert "holds limited: erin, frank, gina" in shown
            assert "removed this cycle: bob" in shown
            assert "drifting for 4 cycles since 08:50:00:" in shown
            assert "repair: limit on bob [10.0.0.2] was missing: reinstalled" in shown

    asyncio.run(run())


def test_a_new_snapshot_updates_in_place_keeping_the_cursor(tmp_path: Path) -> None:
    data = data_dir(tmp_path)

    async def run() -> None:
        screen = DriversScreen(zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("down")
            assert screen.selected_driver == "shaper"
            table = screen.query_one("#drivers", DataTable)
            assert row(table, "shaper")[1] == "FAILING"
            screen.show(snapshot_of(drifting(data)))
            await pilot.pause()
            assert row(table, "shaper")[1] == "DRIFTING"
            assert screen.selected_driver == "shaper"

    asyncio.run(run())
