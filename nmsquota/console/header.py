"""The header line (counts, cycle health and age) and the banner (why the data cannot be
trusted, since when) that screens compose; the app updates them after each refresh, on
whichever screen is active (ConsoleApp.show_active)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from nmsquota.console.health import Summary


class SummaryBar(Static):
    """Counts and the cycle's health, one line; and a line per POP where several POPs'
    daemons share the ledger."""

    DEFAULT_CLASSES = "summary"

    def show_summary(self, summary: Summary) -> None:
        # The cycle's health stays whole on the right; a narrow terminal shortens the counts.
        line = Table.grid(expand=True)
        line.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        line.add_column(justify="right", no_wrap=True)
        line.add_row(summary.counts, "  " + summary.cycle_health)
        # Several POPs' daemons on the ledger: a line each under the counts, wrapped rather
        # than cut on a narrow terminal (what is wrong at a POP comes last).
        self.update(Group(line, *map(Text, summary.pops)) if summary.pops else line)
        self.set_class(summary.health != "ok", "-unhealthy")
        self.set_class(bool(summary.pops), "-pops")


class Banner(Static):
    """A plain sentence when no daemon is cycling on the ledger (or it cannot be read);
    hidden otherwise."""

    DEFAULT_CLASSES = "banner"

    def show_text(self, text: str) -> None:
        self.update(text)
        self.display = bool(text)
