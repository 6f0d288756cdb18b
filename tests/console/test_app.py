"""The console application: the banner when no daemon is cycling on the ledger, the keys
that move between screens and start actions, and each screen shown the latest snapshot."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest
from fixtures.control_server import Recorder, served
from textual.pilot import Pilot

from console.conftest import NOW, STALE_AT, T0, console_app, drive, settled
from nmsquota.actions import Performer
from nmsquota.clock import ManualClock
from nmsquota.console import rows
from nmsquota.console.actions import ActionScreen
from nmsquota.console.app import ConsoleApp
from nmsquota.console.detail import SubscriberDetail
from nmsquota.console.devices import DevicesScreen
from nmsquota.console.drivers import DriversScreen
from nmsquota.console.events import EventsScreen
from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.help import HelpScreen
from nmsquota.console.subscribers import SubscribersScreen
from nmsquota.control import socket_path
from nmsquota.ledger import Ledger
from nmsquota.standings import Reader
from nmsquota.usage import Sample


def banner(app: ConsoleApp) -> str:
    widget = app.screen.query_one(Banner)
    return str(widget.render()) if widget.display else ""


def test_no_banner_while_the_daemon_cycles(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert banner(app) == ""

    drive(console_app(console_data, now=NOW), script)


def test_a_stale_ledger_says_so_and_since_when(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert app.summary is not None and app.summary.health == "stale"
        # Stale from three intervals after the last cycle (10:00 Berlin time).
        assert banner(app) == (
            "STALE since 2027-01-15 10:15:00: the last cycle (13) was at 2027-01-15 10:00:00, "
            "16m ago, and cycles are due every 5m: the daemon is not running, or not cycling."
        )

    drive(console_app(console_data, now=STALE_AT + 59), script)


def test_every_screen_carries_the_header_and_the_stale_banner(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        for keys in (["2"], ["3"], ["4"], ["1", "down", "enter"]):
            await pilot.press(*keys)
            await settled(app, pilot)
            assert banner(app).startswith("STALE since 2027-01-15 10:15:00"), keys
            header = app.screen.query_one(SummaryBar).render_line(0).text
            assert "stale" in header, keys

    drive(console_app(console_data, now=STALE_AT + 59), script)


def test_a_daemon_whose_ledger_writes_fail_is_named_in_the_banner_as_status_says_it(
    console_data: Path,
) -> None:
    # The ledger looks healthy (its last cycle a minute old): only the daemon, over its
    # control socket, can say that its writes are refused.
    failing = {"failing_since": T0 + 3630, "error": "ledger: cannot write x: No space left",
               "cycles": 2}  # fmt: skip
    daemon = Recorder({"ok": True, "cycles": 14, "ledger_write_failure": failing})

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert app.summary is not None and app.summary.health == "writes failing"
        assert banner(app) == (
            "Ledger: writes failing since 2027-01-15 10:00:30 (2 not recorded; the ledger "
            "shows the last good commit): ledger: cannot write x: No space left"
        )
        assert [type(request).__name__ for request in daemon.requests] == ["Ping"]

    with served(socket_path(console_data / "ledger"), daemon):
        drive(console_app(console_data, now=NOW), script)


def test_writes_that_work_again_take_the_failure_out_of_the_banner(console_data: Path) -> None:
    failing = {"failing_since": T0 + 3630, "error": "No space left", "cycles": 1}
    daemon = Recorder({"ok": True, "cycles": 14, "ledger_write_failure": failing})

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert banner(app).startswith("Ledger: writes failing since")
        daemon.reply = {"ok": True, "cycles": 15}
        app.refresh_now()
        await settled(app, pilot)
        assert banner(app) == ""
        # The fixture's own health again (a map entry that charges nobody: troubled).
        assert app.summary is not None and app.summary.health == "troubled"

    with served(socket_path(console_data / "ledger"), daemon):
        drive(console_app(console_data, now=NOW), script)


def test_a_ledger_no_daemon_ever_cycled_on_says_so(tmp_path: Path) -> None:
    with Ledger.open_writer(tmp_path / "ledger") as ledger:
        ledger.commit(T0, [Sample("zed", T0, 5, 0)])

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert banner(app) == "No cycle recorded: the daemon has not run on this ledger."

    drive(ConsoleApp(None, tmp_path / "ledger", ManualClock(T0)), script)


def test_a_ledger_that_cannot_be_read_any_more_keeps_the_last_snapshot_and_says_why(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        (console_data / "ledger" / "state.json").write_text("{ not json")
        app.refresh_now()
        await settled(app, pilot)
        assert banner(app).startswith("The ledger cannot be read (showing the last snapshot "
                                      "read): ledger file ")  # fmt: skip
        assert app.snapshot is not None and len(app.snapshot.subscribers) == 7

    drive(console_app(console_data), script)


# -- moving between screens and acting -------------------------------------------------------


def test_keys_1_to_4_move_between_screens_each_shown_the_last_snapshot(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await settled(app, pilot)
        assert isinstance(app.screen, DevicesScreen) and app.screen.snapshot is app.snapshot
        await pilot.press("3")  # instead of the devices, not above them
        await settled(app, pilot)
        assert isinstance(app.screen, DriversScreen) and len(app.screen_stack) == 3
        before = app.snapshot
        app.refresh_now()
        await settled(app, pilot)
        assert app.snapshot is not before and app.screen.snapshot is app.snapshot
        await pilot.press("4")
        await settled(app, pilot)
        assert isinstance(app.screen, EventsScreen) and len(app.screen_stack) == 3
        await pilot.press("1")
        assert isinstance(app.screen, SubscribersScreen)

    drive(console_app(console_data), script)


def test_enter_opens_the_detail_with_a_reader_of_its_own_and_escape_goes_back(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("down", "enter")
        await settled(app, pilot)
        detail = app.screen
        assert isinstance(detail, SubscriberDetail) and detail.subscriber == "carol"
        assert isinstance(detail.reader(), Reader) and detail.reader() is not app._reader
        await pilot.press("escape")
        assert isinstance(app.screen, SubscribersScreen)

    drive(console_app(console_data), script)


def test_action_keys_open_the_dialog_on_the_selected_subscriber_and_escape_cancels(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("down", "T")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionScreen)
        assert (dialog.kind, dialog.subscriber) == ("topup", "carol")
        assert isinstance(app.performer, Performer)
        assert app.performer.directory == app.directory
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SubscribersScreen)

    drive(console_app(console_data), script)


def test_removing_an_override_needs_one_selected_on_a_detail_screen(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("down", "X")
        await pilot.pause()
        assert isinstance(app.screen, SubscribersScreen)
        assert [n.message for n in app._notifications] == [
            "select an override on the Overrides tab first"
        ]

    drive(console_app(console_data), script)


def test_question_mark_shows_every_key_and_closes_again(console_data: Path) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, SubscribersScreen)

    drive(console_app(console_data), script)


def test_on_a_narrow_terminal_the_header_keeps_the_cycles_health_whole(
    console_data: Path,
) -> None:
    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        line = app.screen.query_one(SummaryBar).render_line(0).text  # inside its padding
        # This clock is behind the daemon's: the counts give way, the cycle stays whole.
        assert (
            line == "7 subscribers  4 online  5 limited  1 not ef…  cycle 13 56m40s ahead: troubled"
        )

    drive(console_app(console_data, now=T0 + 200), script, size=(80, 24))


def test_the_subscribers_rows_are_built_in_the_read_worker_not_on_the_event_loop(
    console_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_on: set[str] = set()
    build = rows.row

    def recording(*args: Any) -> rows.Row:
        built_on.add(threading.current_thread().name)
        return build(*args)

    monkeypatch.setattr(rows, "row", recording)

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert app.snapshot is not None and rows.prepared(app.snapshot).rows  # already built
        built_on.clear()
        app.refresh_now()
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, SubscribersScreen) and screen.rows

    drive(console_app(console_data), script)
    assert built_on and threading.main_thread().name not in built_on


def test_the_collector_is_off_while_a_snapshot_is_read_and_on_again_once_it_is_shown(
    console_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collecting: list[bool] = []
    build = rows.row

    def recording(*args: Any) -> rows.Row:
        collecting.append(gc.isenabled())
        return build(*args)

    monkeypatch.setattr(rows, "row", recording)

    async def script(app: ConsoleApp, pilot: Pilot[None]) -> None:
        assert gc.isenabled()
        collecting.clear()
        app.refresh_now()
        await settled(app, pilot)
        assert collecting and not any(collecting)
        assert gc.isenabled()
        # A read that fails turns it back on too.
        (console_data / "ledger" / "state.json").write_text("{not json")
        app.refresh_now()
        await settled(app, pilot)
        assert app.problem and gc.isenabled()

    try:
        drive(console_app(console_data), script)
    finally:
        gc.enable()
