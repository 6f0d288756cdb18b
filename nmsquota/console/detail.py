"""One subscriber in full: per cap, their usage in the window against the cap over time
(the paper's subscriber graph), recent samples, the session, the history of limits, steps,
overrides and sessions with reasons and authors, the overrides in force or kept (their ids,
for removal), and the rate measured while limited against the limit.

The snapshot gives everything but the samples, which a thread worker loads through the
reader factory once per commit, so that a week of samples never blocks the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from itertools import pairwise
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from nmsquota.console.curve import loaded_from, window_usage
from nmsquota.console.header import Banner, SummaryBar
from nmsquota.console.keyed_table import Cells, selected_key, sync_rows
from nmsquota.console.live import LiveScreen
from nmsquota.console.moments import moment
from nmsquota.ledger.records import OverrideRecord
from nmsquota.standings import CapView, Reader, Sample, Snapshot, SubscriberView
from nmsquota.units import format_bytes, format_measured_rate, format_rate

RECENT = 200
"""Samples shown in the samples tab, newest first."""
NO_PLAN_SPAN = 86400
"""Samples loaded for someone without a plan (no window to draw): the last day's."""


class SubscriberDetail(LiveScreen):
    """`name`'s detail; `reader` gives a Reader to load samples with (called in a worker
    thread, once per commit shown)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("c", "next_cap", "Next cap"),
        Binding("g", "tab('usage')", "Graph"),
        Binding("s", "tab('samples')", "Samples"),
        Binding("h", "tab('history')", "History"),
        Binding("o", "tab('overrides')", "Overrides"),
    ]
    DEFAULT_CSS = """
    SubscriberDetail #title { height: auto; padding: 0 1; background: $boost; }
    SubscriberDetail #title.troubled { color: $text-warning; }
    SubscriberDetail #caps { height: auto; padding: 0 1; }
    SubscriberDetail #plot { height: 1fr; min-height: 6; }
    SubscriberDetail TabbedContent { height: 1fr; }
    SubscriberDetail TabPane { padding: 0; }
    """

    def __init__(self, name: str, reader: Callable[[], Reader], *,
                 zone: tzinfo | None = None) -> None:  # fmt: skip
        """`zone`: the time zone moments are shown in (None: this machine's)."""
        super().__init__(zone=zone)
        self.subscriber = name
        self.reader = reader
        self.samples: list[Sample] | None = None
        """The samples loaded for the commit `loaded_as_of` (None: not loaded yet)."""
        self.loaded_as_of: int | None = None
        self.asked_as_of: int | None = None
        self.cap_shown = 0
        """The index of the cap the graph shows (`c` moves on)."""
        self.snapshot_count = 0

    def compose(self) -> ComposeResult:
        # The app keeps these up to date on whichever screen is active.
        yield SummaryBar()
        yield Banner()
        yield Static(Text(self.subscriber), id="title")
        with TabbedContent(id="tabs"):
            with TabPane("Usage", id="usage"):
                yield Static(id="caps")
                yield PlotextPlot(id="plot")
            with TabPane("Samples", id="samples"):
                yield DataTable[Text](id="samples-table", cursor_type="row")
            with TabPane("History", id="history"):
                yield DataTable[Text](id="history-table", cursor_type="row")
            with TabPane("Overrides", id="overrides"):
                yield DataTable[Text](id="overrides-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#samples-table", DataTable).add_columns(
            "Time", "Download", "Upload", "Rate down"
        )
        self.query_one("#history-table", DataTable).add_columns("Time", "Kind", "What happened")
        self.query_one("#overrides-table", DataTable).add_columns(
            "Id", "Kind", "Cap", "Amount", "Since", "Until", "By", "Reason", "Active"
        )
        self.show_kept()

    # -- the snapshot --------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        """Update from `snapshot` in place; load the samples again if it is a new commit."""
        self.snapshot = snapshot
        if not self.query("#title"):
            return  # the app may show a snapshot before the screen is composed
        view = snapshot.subscriber(self.subscriber)
        title = self.query_one("#title", Static)
        title.update(Text("\n".join(self._title(view, snapshot))))
        title.set_class(view is not None and view.not_effective, "troubled")
        self.query_one("#caps", Static).update(Text("\n".join(self._caps(view, snapshot))))
        history = {
            str(e.seq): (
                Text(moment(e.time, self.zone, snapshot.as_of)),
                Text(e.kind.value),
                Text(e.text),
            )
            for e in reversed(snapshot.events)
            if e.subscriber == self.subscriber
        }
        sync_rows(self.query_one("#history-table", DataTable), history)  # fmt: skip
        overrides = view.overrides if view is not None else ()
        sync_rows(self.query_one("#overrides-table", DataTable),
                  self._override_rows(overrides, snapshot.as_of))  # fmt: skip
        if self.snapshot_count == 0 and view is not None and view.caps:
            self.cap_shown = closest_to_biting(view.caps)
        self.snapshot_count += 1
        if snapshot.as_of is not None and snapshot.as_of != self.asked_as_of:
            self.asked_as_of = snapshot.as_of
            self.load_samples(snapshot.as_of, self._loaded_from(view, snapshot.as_of))
        self._draw()

    def selected_override_id(self) -> str | None:
        """The id of the override under the overrides table's cursor (None: none kept)."""
        return selected_key(self.query_one("#overrides-table", DataTable))

    # -- the samples, in a worker --------------------------------------------------------

    @work(thread=True, exclusive=True, group="samples")
    def load_samples(self, as_of: int, after: int) -> None:
        try:
            samples = self.reader().samples([self.subscriber], after)
        except Exception as error:  # a ledger read failed: say so, keep the screen
            self.app.call_from_thread(self._samples_failed, as_of, str(error))
            return
        self.app.call_from_thread(self._samples_loaded, as_of, samples)

    def _samples_loaded(self, as_of: int, samples: list[Sample]) -> None:
        self.samples, self.loaded_as_of = samples, as_of
        rows = {}
        previous = {s.time: p.time for p, s in pairwise(samples)}
        for sample in reversed(samples[-RECENT:]):
            span = sample.time - previous.get(sample.time, sample.time)
            rate = format_measured_rate(sample.bytes_in * 8 / span) if span > 0 else "-"
            rows[str(sample.time)] = (Text(moment(sample.time, self.zone, as_of)),
                                      Text(format_bytes(sample.bytes_in)),
                                      Text(format_bytes(sample.bytes_out)), Text(rate))  # fmt: skip
        sync_rows(self.query_one("#samples-table", DataTable), rows)
        self._draw()

    def _samples_failed(self, as_of: int, error: str) -> None:
        self.asked_as_of = None  # try again with the next snapshot
        self.query_one("#caps", Static).update(Text(f"samples could not be read: {error}"))

    def _loaded_from(self, view: SubscriberView | None, as_of: int) -> int:
        caps = view.caps if view is not None else ()
        if not caps:
            return as_of - NO_PLAN_SPAN
        return min(loaded_from(cap.tally, as_of) for cap in caps)

    # -- the graph -----------------------------------------------------------------------

    def action_next_cap(self) -> None:
        view = self.snapshot.subscriber(self.subscriber) if self.snapshot else None
        if view is not None and view.caps:
            self.cap_shown = (self.cap_shown + 1) % len(view.caps)
            self._draw()

    def action_tab(self, pane: str) -> None:
        self.query_one("#tabs", TabbedContent).active = pane

    def _draw(self) -> None:
        """The shown cap's window usage against the cap, over the window up to the commit."""
        plot = self.query_one("#plot", PlotextPlot)
        plt = cast(Any, plot.plt)  # plotext has no type hints
        plt.clear_data()
        plt.clear_figure()
        snapshot = self.snapshot
        view = snapshot.subscriber(self.subscriber) if snapshot is not None else None
        if view is None or not view.caps or snapshot is None or snapshot.as_of is None:
            plt.title("no plan: no cap to draw against")
            plot.refresh()
            return
        cap = view.caps[self.cap_shown % len(view.caps)]
        as_of = snapshot.as_of
        unit, scale = _unit(max(cap.cap, cap.used))
        hours = cap.tally.window >= 2 * 86400
        per = 86400 if hours else 3600
        plt.title(f"cap {cap.label}: {cap.direction} in the window, {unit}"
                  + (" (c: next cap)" if len(view.caps) > 1 else ""))  # fmt: skip
        plt.xlabel(f"{'days' if hours else 'hours'} before the last commit")
        variables = self.app.theme_variables
        line = Color.parse(variables.get("primary", "blue")).rgb
        limit = Color.parse(variables.get("error", "red")).rgb
        if self.samples is not None and self.loaded_as_of == as_of:
            points = window_usage(self.samples, cap.tally, cap.direction, as_of)
            if points:
                # A step line: the usage holds from one moment to the next.
                xs = [
                    x
                    for (t, _), (u, _) in pairwise(points)
                    for x in ((t - as_of) / per, (u - as_of) / per)
                ]
                ys = [used / scale for _, used in points[:-1] for _ in range(2)]
                plt.plot(xs, ys, color=line)  # fmt: skip
        else:
            plt.title("loading samples…")
        in_force = cap.decided.cap if cap.decided is not None and cap.decided.cap else cap.cap
        plt.hline(in_force / scale, color=limit)
        plt.ylim(0, max(in_force, cap.used) * 1.1 / scale)
        plt.xlim((as_of - cap.tally.edge_at(as_of)) / -per, 0)
        plot.refresh()

    # -- text ----------------------------------------------------------------------------

    def _title(self, view: SubscriberView | None, snapshot: Snapshot) -> list[str]:
        if view is None:
            return [f"{self.subscriber}: not in the ledger or the configuration"]
        today = snapshot.as_of
        state = view.state.value.upper() if view.state.value != "ok" else "ok"
        since = f" since {moment(view.since, self.zone, today)}" if view.since else ""
        reason = f": {view.limit.reason}" if view.limit is not None else ""
        lines = [f"{view.name} · plan {view.plan or 'none'} · {state}{since}{reason}"]
        if view.limit is not None:
            rate = (format_rate(view.limit.rate_bps) if view.limit.rate_bps is not None
                    else "rate not recorded")  # fmt: skip
            lines.append(f"limited to {rate} by {view.limit.driver}"
                         + self._measured(view, today))  # fmt: skip
        lines.append(self._session(view, today))
        return lines

    def _measured(self, view: SubscriberView, today: int | None) -> str:
        """The rate measured while limited against the limit (nmsquota.verify)."""
        check = view.check
        if check is None or not check.measured_bps:
            return "; rate while limited not measured"
        said = (f"; measured {format_measured_rate(check.measured_bps)} against "
                f"{format_rate(check.expected_bps)}")  # fmt: skip
        if check.flagged:
            return said + (f": NOT EFFECTIVE since {moment(check.since, self.zone, today)}"
                           f" ({check.over} checks over)")  # fmt: skip
        return said + (f" ({check.over} checks over)" if check.over else ": it bites")

    def _session(self, view: SubscriberView, today: int | None) -> str:
        session = view.session
        addresses = ", ".join(view.addresses) or "no address"
        if session is None:
            return f"no session seen · {addresses}"
        where = f"{session.access_server} {session.interface}".strip()
        if session.online:
            return (
                f"online at {where} since {moment(session.since, self.zone, today)} · {addresses}"
            )
        return (
            f"offline since {moment(session.seen, self.zone, today)} (was at {where}) · {addresses}"
        )

    def _caps(self, view: SubscriberView | None, snapshot: Snapshot) -> list[str]:
        if view is None or not view.caps:
            return ["no plan: nothing to count against"]
        return [self._cap_line(cap, snapshot.as_of) for cap in view.caps]

    def _cap_line(self, cap: CapView, today: int | None) -> str:
        in_force = cap.decided.cap if cap.decided is not None and cap.decided.cap else cap.cap
        topped = f" (+{format_bytes(in_force - cap.cap)} top-up)" if in_force > cap.cap else ""
        line = (f"{cap.label}: {format_bytes(cap.used)} of {format_bytes(cap.cap)}{topped} "
                f"in {cap.tally.key} ({cap.percent:.0f}%) {cap.state.value}")  # fmt: skip
        if cap.limited:
            step = f" (step at {cap.step_at:g}%)" if cap.step_at is not None else ""
            lifts = (f", lifts {moment(cap.lifts_at, self.zone, today)}"
                     if cap.lifts_at is not None else "")  # fmt: skip
            line += f" at {format_rate(cap.rate_bps)}{step}{lifts}"
        return line

    def _override_rows(self, overrides: Sequence[OverrideRecord],
                       today: int | None) -> dict[str, Cells]:  # fmt: skip
        rows: dict[str, Cells] = {}
        for o in overrides:
            amount = format_bytes(o.bytes) if o.kind == "topup" else "-"
            until = moment(o.until, self.zone, today) if o.until is not None else "removed"
            active = "yes" if today is not None and o.active(today) else "no"
            # Two overrides alike in every field share an id and are removed together.
            rows.setdefault(o.id, tuple(Text(value) for value in (
                o.id, o.kind, o.cap or "all", amount, moment(o.since, self.zone, today),
                until, o.author or "-", o.reason, active)))  # fmt: skip
        return rows

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()


def closest_to_biting(caps: Sequence[CapView]) -> int:
    """The cap the graph shows first: a limited one, else the one most used."""
    return max(range(len(caps)), key=lambda i: (caps[i].limited, caps[i].percent))


def _unit(most: int) -> tuple[str, int]:
    """The unit the graph's axis counts in, for values up to `most` bytes."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if most >= scale:
            return unit, scale
    return "bytes", 1
