"""The console application: reads snapshots in a worker every refresh interval, holds the
last one, and hands it to the active screen (`show(snapshot)`, the contract every live screen
keeps); the keys that move between screens and start the operator's actions."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from nmsquota.actions import Performer
from nmsquota.clock import Clock
from nmsquota.config import Config
from nmsquota.console.actions import ActionScreen
from nmsquota.console.detail import SubscriberDetail
from nmsquota.console.devices import DevicesScreen
from nmsquota.console.drivers import DriversScreen
from nmsquota.console.events import EventsScreen
from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.health import Summary, summary
from nmsquota.console.rows import prepared
from nmsquota.console.subscribers import SubscribersScreen
from nmsquota.control.writes import WriteFailure, write_failure
from nmsquota.standings import LedgerCorrupt, LedgerMissing, LedgerRecordError, Reader, Snapshot

PING_TIMEOUT = 1.0
"""Seconds a refresh waits for the daemon's answer on its ledger writes."""

ActionKind = Literal["limit", "release", "exempt", "topup", "remove"]


@runtime_checkable
class Shows(Protocol):
    """A screen of live data: updates its widgets in place from one snapshot."""

    def show(self, snapshot: Snapshot) -> None: ...


class ConsoleApp(App[None]):
    """`nmsquota console`: the operator's live view of one ledger."""

    CSS_PATH = "console.tcss"
    TITLE = "nmsquota console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "section('subscribers')", "Subs"),
        Binding("2", "section('devices')", "Servers"),
        Binding("3", "section('drivers')", "Drivers"),
        Binding("4", "section('events')", "Events"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "back", "Back", show=False),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False),
        Binding("L", "act('limit')", "Limit", show=False),
        Binding("R", "act('release')", "Release", show=False),
        Binding("E", "act('exempt')", "Exempt", show=False),
        Binding("T", "act('topup')", "Top-up", show=False),
        Binding("X", "act('remove')", "Remove override", show=False),
    ]
    SECTIONS: ClassVar[dict[str, type[DevicesScreen | DriversScreen | EventsScreen]]] = {
        "devices": DevicesScreen,
        "drivers": DriversScreen,
        "events": EventsScreen,
    }
    """The screens of keys 2-4."""

    def __init__(
        self,
        config: Config | None,
        directory: Path,
        clock: Clock,
        *,
        zone: ZoneInfo | None = None,
        refresh: float = 2.0,
        reader: Reader | None = None,
        location: Path | str | None = None,
    ) -> None:
        """`directory`: this host's data directory (the daemon's control socket);
        `location`: the ledger's, when not there (a database URL). `reader`: one already
        open (the command opens it to refuse a missing or corrupt ledger before the screen
        starts); else the first refresh opens one."""
        super().__init__()
        self.config = config
        self.directory = directory
        self.location = directory if location is None else location
        self.clock = clock
        self.zone = zone or ZoneInfo("UTC")
        self.refresh_seconds = refresh
        self.snapshot: Snapshot | None = None
        self.summary: Summary | None = None
        self.problem = ""
        """Why the last refresh failed ("" when it did not): shown in the banner."""
        self.write_failure: WriteFailure | None = None
        """What the daemon said of its ledger writes at the last refresh (None: they
        succeed, or no daemon answered)."""
        self.performer = Performer(config, directory, clock, location=location)
        """Performs the operator's actions: through the daemon, or into the ledger when none
        runs, as the CLI does (nmsquota.actions)."""
        self._reader = reader
        self._reading = False
        self._collector_held = False
        """Whether the read worker turned the garbage collector off (and take turns it on)."""

    def reader_factory(self) -> Reader:
        """A reader of its own for a screen's worker (SubscriberDetail): a Reader is not
        shared between threads."""
        return Reader.open(self.location, self.config)

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.push_screen(SubscribersScreen())
        self.refresh_now()
        self.set_interval(self.refresh_seconds, self.refresh_now)

    # -- reading ----------------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Read the next snapshot in a worker, unless a read is still under way (on a big
        ledger a read may outlast the interval: reads never pile up)."""
        if self._reading:
            return
        self._reading = True
        self._read()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    @work(thread=True, group="refresh", exit_on_error=False)
    def _read(self) -> None:
        # No cyclic collection while the snapshot and its rows are made (millions of objects
        # at 100,000 subscribers, none of them garbage: a third of the read went to the
        # collector walking them); take() freezes them once shown and turns it back on.
        self._collector_held = gc.isenabled()
        gc.disable()
        try:
            self._read_snapshot()
        except BaseException:
            self._release_collector()
            raise

    def _read_snapshot(self) -> None:
        try:
            if self._reader is None:
                self._reader = Reader.open(self.location, self.config)
            else:
                self._reader.refresh()
            snap = self._reader.snapshot()
        except (LedgerMissing, LedgerCorrupt, LedgerRecordError, OSError) as error:
            self.call_from_thread(self._failed, str(error))
            return
        # A full disk: only the daemon can say so (the ledger looks healthy until its last
        # cycle turns stale). Asked here, in the worker, briefly: a daemon busy with its
        # cycle is asked again at the next refresh.
        failing = write_failure(self.directory, timeout=PING_TIMEOUT)
        # The subscribers' rows, built here rather than on the event loop, where they held
        # every keystroke for half a second at 100,000 subscribers.
        prepared(snap)
        self.call_from_thread(self.take, snap, failing)

    def _release_collector(self) -> None:
        """The collector back on, past the objects now live (frozen: its full collections
        pass them by; subscribers.settle_garbage collects them now and then)."""
        if self._collector_held:
            self._collector_held = False
            gc.freeze()
            gc.enable()

    def _failed(self, problem: str) -> None:
        self._release_collector()
        self._reading = False
        self.problem = f"The ledger cannot be read (showing the last snapshot read): {problem}"
        self.show_active()

    def take(self, snap: Snapshot, failing: WriteFailure | None = None) -> None:
        """A new snapshot (and what the daemon said of its ledger writes): keep it and show
        it on the active screen."""
        self._reading = False
        self.problem = ""
        self.snapshot = snap
        self.write_failure = failing
        try:
            self.show_active()
        finally:
            self._release_collector()

    def show_active(self) -> None:
        """The last snapshot on the active screen: its header, banner and data."""
        snap = self.snapshot
        if snap is None:
            return
        self.summary = summary(snap, self.clock.now(), self.zone, self.write_failure)
        screen = self.screen
        for bar in screen.query(SummaryBar):
            bar.show_summary(self.summary)
        for banner in screen.query(Banner):
            banner.show_text(self.problem or self.summary.banner)
        if isinstance(screen, Shows):
            screen.show(snap)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        # A screen just pushed is not composed yet: show it once its own queue has run
        # compose (messages to a screen are handled in order).
        screen.call_later(self._show_if_active, screen)

    def _show_if_active(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self.show_active()

    # -- moving between screens -------------------------------------------------------------

    async def action_section(self, section: str) -> None:
        """Keys 1-4: back to the subscribers, or one other screen above them."""
        if section == "subscribers":
            await self._to_base()
            return
        await self._to_base()
        await self.push_screen(self.SECTIONS[section](zone=self.zone))

    async def _to_base(self) -> None:
        """Pop everything above the subscribers screen (the second on the stack, above
        Textual's default screen)."""
        while len(self.screen_stack) > 2:
            await self.pop_screen()

    async def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            await self.pop_screen()

    @on(SubscribersScreen.Opened)
    def _opened(self, event: SubscribersScreen.Opened) -> None:
        self.open_detail(event.subscriber)

    def open_detail(self, subscriber: str) -> None:
        """`enter` on a subscriber: their detail screen."""
        self.push_screen(SubscriberDetail(subscriber, self.reader_factory, zone=self.zone))

    def action_help(self) -> None:
        from nmsquota.console.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_act(self, kind: ActionKind) -> None:
        """L, R, E, T: an action on the subscriber the active screen has selected (its
        `subscriber` attribute); X: removing the override selected on a detail screen. Each
        through a confirmation dialog."""
        subscriber = getattr(self.screen, "subscriber", None)
        if not isinstance(subscriber, str) or not subscriber:
            self.notify("select a subscriber first", severity="warning")
            return
        override_id = None
        if kind == "remove":
            screen = self.screen
            override_id = (
                screen.selected_override_id() if isinstance(screen, SubscriberDetail) else None
            )
            if override_id is None:
                self.notify("select an override on the Overrides tab first", severity="warning")
                return
        self.push_screen(ActionScreen(kind, subscriber, override_id), callback=self._acted)

    def _acted(self, result: str | None) -> None:
        if result:
            self.notify(result)
            self.refresh_now()
