"""The read API's event log, newest first, live: filtered by kind (`k` cycles through the
kinds in the log) and by subscriber (`/`, an incremental text filter; `escape` clears it)."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Label, Static

from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.keyed_table import Cells, selected_key, sync_rows
from nmsquota.console.live import LiveScreen
from nmsquota.console.moments import moment
from nmsquota.standings import EventKind, EventRecord, Snapshot

COLUMNS = ("Time", "Kind", "Subscriber", "Where", "What happened")


class EventsScreen(LiveScreen):
    """Every kept event, one row each, keyed by its sequence number."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back/clear"),
        Binding("slash", "filter", "Subscriber"),
        Binding("k", "next_kind", "Kind"),
        Binding("K", "previous_kind", "Kind", show=False),
    ]
    DEFAULT_CSS = """
    EventsScreen #filters { height: 1; }
    EventsScreen #subscriber-filter { width: 1fr; height: 1; border: none; padding: 0 1; }
    EventsScreen #kind-filter { width: auto; padding: 0 1; background: $boost; }
    EventsScreen #events { height: 1fr; }
    EventsScreen #event-detail { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, zone: tzinfo | None = None, name: str | None = None,
                 id: str | None = None) -> None:  # fmt: skip
        super().__init__(zone=zone, name=name, id=id)
        self.kind: EventKind | None = None
        """Only events of this kind (None: all)."""

    def compose(self) -> ComposeResult:
        # The app keeps these up to date on whichever screen is active.
        yield SummaryBar()
        yield Banner()
        with Horizontal(id="filters"):
            yield Input(placeholder="/ subscriber", id="subscriber-filter")
            yield Label("kind: all (k)", id="kind-filter")
        yield DataTable[Text](id="events", cursor_type="row")
        yield Static(id="event-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#events", DataTable)
        table.add_columns(*COLUMNS)
        table.focus()
        self.show_kept()

    def show(self, snapshot: Snapshot) -> None:
        """Update the rows in place from `snapshot` (new events on top), keeping the cursor
        on the event it was on and the filters as they are."""
        self.snapshot = snapshot
        if not self.query("#events"):
            return  # the app may show a snapshot before the screen is composed
        wanted = self.subscriber_filter.casefold()
        rows = {
            str(event.seq): self._row(event, snapshot.as_of)
            for event in reversed(snapshot.events)
            if (self.kind is None or event.kind is self.kind)
            and (not wanted or wanted in (event.subscriber or "").casefold())
        }
        sync_rows(self.query_one("#events", DataTable), rows)
        self._show_selected()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        """The selected event's text in full, where the table's column cuts it short."""
        seq, snapshot = self.selected_event, self.snapshot
        found = (next((e for e in snapshot.events if e.seq == seq), None)
                 if snapshot is not None and seq is not None else None)  # fmt: skip
        self.query_one("#event-detail", Static).update(Text(found.text if found else ""))

    @property
    def subscriber_filter(self) -> str:
        return self.query_one("#subscriber-filter", Input).value.strip()

    @property
    def selected_event(self) -> int | None:
        """The sequence number of the event under the cursor."""
        key = selected_key(self.query_one("#events", DataTable))
        return int(key) if key is not None else None

    def kinds(self) -> list[EventKind]:
        """The kinds `k` cycles through: those in the log, in EventKind's order, and the
        one chosen even if it has left the log."""
        found = {event.kind for event in self.snapshot.events} if self.snapshot else set()
        return [kind for kind in EventKind if kind in found or kind is self.kind]

    def action_next_kind(self) -> None:
        self._choose_kind(+1)

    def action_previous_kind(self) -> None:
        self._choose_kind(-1)

    def _choose_kind(self, step: int) -> None:
        choices: list[EventKind | None] = [None, *self.kinds()]
        self.kind = choices[(choices.index(self.kind) + step) % len(choices)]
        label = self.kind.value if self.kind is not None else "all"
        self.query_one("#kind-filter", Label).update(Text(f"kind: {label} (k)"))
        self._refilter()

    def action_filter(self) -> None:
        self.query_one("#subscriber-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#events", DataTable).focus()

    def action_back(self) -> None:
        """Clear the filters first; go back when there are none."""
        box = self.query_one("#subscriber-filter", Input)
        if box.value or box.has_focus or self.kind is not None:
            box.value = ""
            self.kind = None
            self.query_one("#kind-filter", Label).update(Text("kind: all (k)"))
            self.query_one("#events", DataTable).focus()
            self._refilter()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def _refilter(self) -> None:
        self.show_kept()

    def _row(self, event: EventRecord, today: int | None) -> Cells:
        where = event.device or event.driver or ""
        return (Text(moment(event.time, self.zone, today)), Text(event.kind.value),
                Text(event.subscriber or ""), Text(where), Text(event.text))  # fmt: skip
