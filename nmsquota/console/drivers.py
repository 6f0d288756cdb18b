"""The enforcement drivers as of the last cycle: health (ok, drifting, failing), whom each
holds limited, what reconciliation added, removed and repaired, errors, and the limits it
holds that were measured not to bite. Where several POPs' daemons share the ledger, every
POP's drivers as its last cycle left them, named POP/driver."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.keyed_table import Cells, selected_key, sync_rows
from nmsquota.console.live import LiveScreen
from nmsquota.console.moments import moment
from nmsquota.standings import DriverHealth, DriverView, Snapshot

COLUMNS = ("Driver", "Health", "Holds", "Added", "Removed", "Repairs", "Errors",
           "Not effective")  # fmt: skip
HEALTH: dict[DriverHealth, str] = {"ok": "ok", "drifting": "DRIFTING", "failing": "FAILING"}


class DriversScreen(LiveScreen):
    """One row per driver, and the selected driver in full below."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    DriversScreen #drivers-summary { height: auto; padding: 0 1; background: $boost; }
    DriversScreen #drivers { height: auto; max-height: 12; }
    DriversScreen #driver-detail { height: 1fr; padding: 0 1; overflow-y: auto; }
    """

    def compose(self) -> ComposeResult:
        # The app keeps these up to date on whichever screen is active.
        yield SummaryBar()
        yield Banner()
        yield Static("no cycle yet", id="drivers-summary")
        yield DataTable[Text](id="drivers", cursor_type="row")
        yield Static(id="driver-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#drivers", DataTable).add_columns(*COLUMNS)
        self.show_kept()

    def show(self, snapshot: Snapshot) -> None:
        """Update every row in place from `snapshot`, keeping the cursor."""
        self.snapshot = snapshot
        if not self.query("#drivers"):
            return  # the app may show a snapshot before the screen is composed
        sync_rows(self.query_one("#drivers", DataTable),
                  {label: driver_row(driver, label)
                   for label, driver in every_driver(snapshot)})  # fmt: skip
        self.query_one("#drivers-summary", Static).update(Text(summary(snapshot)))
        self._show_selected()

    @property
    def selected_driver(self) -> str | None:
        return selected_key(self.query_one("#drivers", DataTable))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def _show_selected(self) -> None:
        snapshot, name = self.snapshot, self.selected_driver
        found = dict(every_driver(snapshot)) if snapshot is not None else {}
        driver = found.get(name) if name is not None else None
        text = "" if driver is None or snapshot is None or name is None else "\n".join(
            in_full(driver, self.zone, snapshot.as_of, name))  # fmt: skip
        self.query_one("#driver-detail", Static).update(Text(text))


def every_driver(snapshot: Snapshot) -> list[tuple[str, DriverView]]:
    """The last cycle's drivers by name; where several POPs' daemons share the ledger, every
    POP's (a following POP's hold the limits of the subscribers online there), as
    POP/driver."""
    if snapshot.several_pops:
        return [(f"{pop.name}/{driver.name}", driver)
                for pop in snapshot.pops for driver in pop.drivers]  # fmt: skip
    drivers = snapshot.cycle.drivers if snapshot.cycle is not None else ()
    return [(driver.name, driver) for driver in drivers]


def summary(snapshot: Snapshot) -> str:
    cycle = snapshot.cycle
    if cycle is None:
        return "no cycle recorded: no daemon has run on this ledger"
    health = [driver.health for _, driver in every_driver(snapshot)]
    counts = ", ".join(f"{health.count(h)} {h}" for h in HEALTH if health.count(h))
    of = f" of {len(snapshot.pops)} POPs" if snapshot.several_pops else ""
    return (f"cycle {cycle.number}: {len(health)} drivers{of} ({counts or 'none'}); "
            f"{len(cycle.limited)} limited, {len(cycle.not_effective)} not effective")  # fmt: skip


def driver_row(driver: DriverView, label: str | None = None) -> Cells:
    holds = str(len(driver.installed)) if driver.installed is not None else "?"
    repairs = len(driver.drifting.lines) if driver.drifting is not None else len(driver.drift)
    health = Text(HEALTH[driver.health], style="" if driver.ok else "bold")
    return (Text(label or driver.name), health, Text(holds), Text(str(len(driver.added))),
            Text(str(len(driver.removed))), Text(str(repairs)), Text(str(len(driver.errors))),
            Text(", ".join(driver.not_effective) or "-"))  # fmt: skip


def in_full(driver: DriverView, zone: tzinfo | None, today: int | None,
            label: str | None = None) -> list[str]:  # fmt: skip
    """The selected driver's every name and line."""
    lines = [f"{label or driver.name}: {HEALTH[driver.health]}"]
    if driver.installed is None:
        lines.append("holds: not recorded by the daemon that wrote this ledger")
    else:
        lines.append(f"holds limited: {', '.join(driver.installed) or 'nobody'}")
    lines += [f"{label}: {', '.join(names)}" for label, names in (
        ("added this cycle", driver.added), ("removed this cycle", driver.removed),
        ("not effective (measured not to bite)", driver.not_effective),
        ("unenforceable (no address known)", driver.unenforceable)) if names]  # fmt: skip
    lines += [f"error: {error}" for error in driver.errors]
    if driver.drifting is not None:
        kept = driver.drifting
        lines.append(f"drifting for {kept.cycles} cycles since "
                     f"{moment(kept.since, zone, today)}:")  # fmt: skip
        lines += [f"  repair: {line}" for line in kept.lines]
    else:
        lines += [f"repair: {line}" for line in driver.drift]
    return lines
