"""The console on a ledger several POPs' daemons share (issue 24): under the counts, a line
per POP (deciding or following, its last cycle's age, its access servers, what is wrong
there), the header troubled and the banner naming a POP whose daemon stopped cycling; a
ledger with one daemon keeps its one-line header."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures.pops_ledger import NOW, PopCycle, configured, write_pops
from textual.pilot import Pilot

from console.conftest import NOW as ONE_DAEMON_NOW
from console.conftest import console_app, drive
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.app import ConsoleApp
from nmsquota.console.header import Banner, SummaryBar

STALE = 3 * 300 + 60
TWO_POPS = [PopCycle("adelaide", deciding=True, online=("alice",)),
            PopCycle("darwin", age=STALE, online=("bob", "carol"), other_plans=True)]  # fmt: skip


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


def pops_app(tmp_path: Path, url: str) -> ConsoleApp:
    config = load_config(configured(tmp_path, url))
    return ConsoleApp(config, tmp_path / "local", ManualClock(NOW + 30), zone=ZoneInfo("UTC"),
                      refresh=3600, location=url)  # fmt: skip


def header(app: ConsoleApp) -> list[str]:
    bar = app.screen.query_one(SummaryBar)
    return [bar.render_line(y).text.rstrip() for y in range(bar.size.height)]


def banner(app: ConsoleApp) -> str:
    widget = app.screen.query_one(Banner)
    return str(widget.render()) if widget.display else ""


def test_the_header_has_a_line_per_pop_and_the_banner_names_the_stale_one(
    tmp_path: Path, database: str
) -> None:
    write_pops(database, TWO_POPS)

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert app.summary is not None and app.summary.health == "troubled"
        lines = header(app)
        assert len(lines) == 3 and lines[0].endswith("cycle 7 1m30s ago: troubled")
        assert lines[1].strip() == "POP adelaide deciding, 1m30s ago: 1 ok, 0 failed"
        assert lines[2].strip() == ("POP darwin following, 16m30s ago: 1 ok, 0 failed; STALE "
                                    "(2 sessions not counted); OTHER PLANS")  # fmt: skip
        assert banner(app) == (
            "POP darwin STALE: its last cycle (7) was at 2027-01-15 07:44:00, 16m30s ago: its "
            "daemon is not running, or not cycling; the 2 sessions on its access servers are "
            "not counted."
        )
        # Every screen's header carries them.
        await pilot.press("2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("POP darwin following" in line for line in header(app))

    drive(pops_app(tmp_path, database), script)


def test_pops_that_cycle_on_the_same_plans_leave_the_header_well_and_no_banner(
    tmp_path: Path, database: str
) -> None:
    write_pops(database, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=200)])

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        lines = header(app)
        assert lines[0].endswith("cycle 7 1m30s ago: ok") and len(lines) == 3
        assert lines[2].strip() == "POP darwin following, 3m50s ago: 1 ok, 0 failed"
        assert banner(app) == ""

    drive(pops_app(tmp_path, database), script)


def test_one_daemons_ledger_keeps_a_one_line_header(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert len(header(app)) == 1 and "POP" not in header(app)[0]

    drive(console_app(console_data, now=ONE_DAEMON_NOW), script)


def test_the_drivers_screen_has_every_pop_s_drivers(tmp_path: Path, database: str) -> None:
    """A following POP's drivers hold the limits of the subscribers online there: its
    failing nftables is shown beside the deciding POP's, named POP/driver."""
    from textual.widgets import DataTable, Static

    from nmsquota.console.drivers import DriversScreen

    write_pops(database, [PopCycle("adelaide", deciding=True),
                          PopCycle("darwin", driver_errors=("nft: table missing",))])  # fmt: skip

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DriversScreen)
        table = app.screen.query_one("#drivers", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(y)][:2] for y in range(table.row_count)]
        assert rows == [["adelaide/nftables", "ok"], ["darwin/nftables", "FAILING"]]
        summary = str(app.screen.query_one("#drivers-summary", Static).render())
        assert summary.startswith("cycle 7: 2 drivers of 2 POPs (1 ok, 1 failing)")
        await pilot.press("down")
        await pilot.pause()
        detail = str(app.screen.query_one("#driver-detail", Static).render())
        assert detail.startswith("darwin/nftables: FAILING") and "nft: table missing" in detail

    drive(pops_app(tmp_path, database), script)
