"""The access servers: how each answered the last poll, what it counts with, the profile it
is polled with, the entries of its interface map that charge nobody, and the last cycle's
load (what answered, what was skipped for load, what failed and why, CPU, capacity)."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Label, Static

from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.keyed_table import Cells, selected_key, sync_rows
from nmsquota.console.live import LiveScreen
from nmsquota.console.moments import moment, seconds
from nmsquota.standings import CycleView, DeviceView, Snapshot
from nmsquota.units import format_duration

DEVICE_COLUMNS = ("Device", "Profile", "SNMP", "Last poll", "Latency", "Fails", "Ifaces",
                  "Bits", "Status", "Host")  # fmt: skip
MAPPING_COLUMNS = ("Device", "Entry", "Problem", "Since", "Cycles", "What the poll found")


class DevicesScreen(LiveScreen):
    """Every access server the ledger or the configuration knows, one row each."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    DevicesScreen #load { height: auto; padding: 0 1; background: $boost; }
    DevicesScreen #load.troubled { color: $text-warning; }
    DevicesScreen #devices { height: 1fr; }
    DevicesScreen #device-detail { height: auto; max-height: 4; padding: 0 1; }
    DevicesScreen #mapping-title { padding: 0 1; color: $text-muted; }
    DevicesScreen #mapping { height: auto; max-height: 8; }
    """

    def compose(self) -> ComposeResult:
        # The app keeps these up to date on whichever screen is active.
        yield SummaryBar()
        yield Banner()
        yield Static("no cycle yet", id="load")
        yield DataTable[Text](id="devices", cursor_type="row")
        yield Static(id="device-detail")
        yield Label("Interface map entries that charge nobody: none", id="mapping-title")
        yield DataTable[Text](id="mapping", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#devices", DataTable).add_columns(*DEVICE_COLUMNS)
        self.query_one("#mapping", DataTable).add_columns(*MAPPING_COLUMNS)
        self.show_kept()

    def show(self, snapshot: Snapshot) -> None:
        """Update every row in place from `snapshot`, keeping the cursor."""
        self.snapshot = snapshot
        if not self.query("#load"):
            return  # the app may show a snapshot before the screen is composed
        today = snapshot.as_of
        load = self.query_one("#load", Static)
        load.update(Text(load_line(snapshot.cycle, self.zone, today)))
        load.set_class(snapshot.cycle is not None and snapshot.cycle.troubled, "troubled")
        devices = {view.name: self._device_row(view, snapshot.cycle, today)
                   for view in snapshot.devices}  # fmt: skip
        sync_rows(self.query_one("#devices", DataTable), devices)
        self._show_selected()
        problems = {
            f"{device}\0{p.entry}": _cells(
                device, p.entry, p.kind, moment(p.since, self.zone, today), str(p.cycles), p.text
            )
            for device, p in snapshot.mapping_problems
        }
        sync_rows(self.query_one("#mapping", DataTable), problems)
        title = f"Interface map entries that charge nobody: {len(problems) or 'none'}"
        self.query_one("#mapping-title", Label).update(title)

    @property
    def selected_device(self) -> str | None:
        return selected_key(self.query_one("#devices", DataTable))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "devices":
            self._show_selected()

    def _show_selected(self) -> None:
        """The selected device in full, where the table's columns cut it short."""
        name, snapshot = self.selected_device, self.snapshot
        view = next((d for d in snapshot.devices if d.name == name), None) if snapshot else None
        text = ""
        if view is not None and snapshot is not None:
            record = view.record
            host = f" ({record.host})" if record is not None and record.host else ""
            last = moment(record.last_answer, self.zone, snapshot.as_of) if record else "-"
            text = f"{view.name}{host}: {device_status(view, snapshot.cycle)}; last answer {last}"
        self.query_one("#device-detail", Static).update(Text(text))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def _device_row(self, view: DeviceView, cycle: CycleView | None, today: int | None) -> Cells:
        record = view.record
        bits = record.counter_bits if record is not None else None
        return _cells(
            view.name,
            view.source or "-",
            f"v{record.snmp_version}" if record is not None and record.snmp_version else "-",
            moment(record.last_poll if record else None, self.zone, today),
            seconds(record.latency if record else None),
            str(record.failures) if record is not None else "-",
            str(record.interfaces) if record is not None else "-",
            str(bits) if bits is not None else "-",
            device_status(view, cycle),
            record.host if record is not None and record.host else "-",
        )


def device_status(view: DeviceView, cycle: CycleView | None) -> str:
    """How it fared in the last cycle, with why it failed."""
    if view.answered:
        return "answered"
    if view.answered is False:
        cause = cycle.causes.get(view.name) if cycle is not None else None
        said = f"{cause}: {view.error}" if cause and view.error else view.error or cause
        return f"FAILED: {said}" if said else "FAILED"
    if cycle is not None and view.name in cycle.devices_skipped:
        return "skipped for load"
    if view.error:
        return f"not in the last cycle (last error: {view.error})"
    return "not in the last cycle"


def load_line(cycle: CycleView | None, zone: tzinfo | None, today: int | None) -> str:
    """The last cycle's load, in a line or two."""
    if cycle is None:
        return "no cycle recorded: no daemon has run on this ledger"
    failed = cycle.failed_by()
    causes = ", ".join(f"{count} {cause}" for cause, count in sorted(failed.items()))
    capacity = (f"capacity {cycle.capacity} devices per interval"
                if cycle.capacity is not None else "capacity not measured")  # fmt: skip
    flags = (" OVERRAN" if cycle.overran else "") + (" (simulated clock)" if cycle.simulated
                                                      else "")  # fmt: skip
    return (
        f"cycle {cycle.number} at {moment(cycle.started, zone, today)}, "
        f"{seconds(cycle.seconds)} of {format_duration(cycle.interval)}{flags}\n"
        f"answered {len(cycle.devices_ok)}, skipped for load {len(cycle.devices_skipped)}, "
        f"failed {len(cycle.devices_failed)}{f' ({causes})' if causes else ''}; "
        f"poll CPU {seconds(cycle.cpu)}, {cycle.queued} queued, {capacity}"
    )


def _cells(*values: str) -> Cells:
    return tuple(Text(value) for value in values)
