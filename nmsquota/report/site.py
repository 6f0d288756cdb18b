"""The static private site (issue 22, item 3): a page per subscriber and the operator's
index in one directory, each page named by an HMAC of its subscriber under a secret
(nmsquota.report.names), written whole (temp file + rename) and only when its data changed.

A page's data is what its subscriber's standing is made of (plan and terms, each cap's
state, limit, step, lift time, top-ups, their limit events), fingerprinted into the page
itself, plus whether they moved any bytes since the site was last written (the ledger's
samples since the moment kept in DIR/.nmsquota-site.json, one cycle's worth to read). A
page whose fingerprint is unchanged and whose subscriber moved nothing is kept as it is:
the figures on it are those of the time it states, and a rolling window's usage only falls
while nothing is downloaded. Nothing in the directory maps a name to a page: the manifest
holds one moment, and a page's fingerprint is a hash of what the page already shows.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger.records import EventKind, EventRecord
from nmsquota.report import fleet
from nmsquota.report.darkmode import adaptive
from nmsquota.report.files import ReportUnwritable, write_atomically
from nmsquota.report.names import PAGE_FILE, SHORTEST_SECRET, index_name, page_name
from nmsquota.report.operator import charts_of, operator_figures
from nmsquota.report.pages import (
    FORMAT,
    Section,
    Table,
    decoy_page,
    index_page,
    subscriber_page,
)
from nmsquota.report.series import WindowUsage
from nmsquota.report.style import short_bytes
from nmsquota.report.subscriber import subscriber_charts
from nmsquota.standings import CapView, Reader, Sample, Snapshot, SubscriberView
from nmsquota.standings.terms import plan_terms
from nmsquota.usage import SampleColumns

MANIFEST = ".nmsquota-site.json"
FINGERPRINT = re.compile(rb'<meta name="nmsquota-data" content="([0-9a-f]*)">')
ROLE_CHARTS = {"daily-volume", "overshoot"}
"""The operator's charts coloured by role (the others from the palette): see darkmode."""
DAYS = 7
INDEX_EVERY = 3600
"""Seconds: the operator's index, whose graphs read every subscriber's samples (most of an
incremental writing's cost at thousands of subscribers), is redrawn for new usage at most
this often; at once when a page comes or goes."""


@dataclass
class SiteWritten:
    """What one `write_site` did."""

    directory: Path
    index: Path
    """The operator's index (its name is an HMAC too)."""
    pages: dict[str, Path] = field(default_factory=dict)
    """Every subscriber with a page -> its file, written now or kept."""
    drawn: list[str] = field(default_factory=list)
    """The subscribers whose page was written now."""
    index_drawn: bool = False
    removed: list[str] = field(default_factory=list)
    """Files of pages no longer current (a subscriber gone, or a new secret)."""

    @property
    def kept(self) -> int:
        return len(self.pages) - len(self.drawn)


def write_site(directory: Path, reader: Reader, secret: str, zone: ZoneInfo,
               index_every: int = INDEX_EVERY) -> SiteWritten:  # fmt: skip
    """Bring the site in `directory` (made if missing) up to `reader`'s last commit: pages
    of subscribers on a plan, the operator's index (for new usage, once in `index_every`
    seconds at most), DIR/index.html saying nothing. UsageError
    for a secret under SHORTEST_SECRET characters; ReportUnwritable if the directory cannot
    be written; NmsquotaError for a ledger with no commit."""
    if len(secret) < SHORTEST_SECRET:
        raise UsageError(f"the site's secret is {len(secret)} characters long: it needs "
                         f"{SHORTEST_SECRET} or more, or page names can be guessed")  # fmt: skip
    snap = reader.snapshot()
    if snap.as_of is None:
        raise NmsquotaError("the ledger has no commit yet: no usage to draw")
    as_of = snap.as_of
    _make(directory)
    views = [view for view in snap.subscribers if view.caps]
    files = {view.name: page_name(secret, view.name) for view in views}
    current = _fingerprints(directory)
    kept = Manifest.read(directory, as_of)
    moved = _moved_since(reader, snap, kept.as_of)
    events = reader.events()
    applied = _limits_applied(events)
    plans = {plan: plan_terms(reader.config, plan) for plan in {view.plan for view in views}}
    terms = {view.name: plans[view.plan] for view in views}
    prints = {view.name: page_fingerprint(view, terms[view.name], applied[view.name], zone)
              for view in views}  # fmt: skip
    todo = [view for view in views if moved is None or view.name in moved
            or current.get(files[view.name]) != prints[view.name]]  # fmt: skip
    index = index_name(secret)
    wanted = {*files.values(), index}
    stale = sorted(name for name in current if name not in wanted)
    # The index shows every page's link: a link that comes or goes redraws it at once.
    index_print = _digest([FORMAT, zone.key, sorted(files.items())])
    done = SiteWritten(directory, directory / index, {n: directory / f for n, f in files.items()})
    due = kept.index_as_of is None or as_of - kept.index_as_of >= index_every
    done.index_drawn = current.get(index) != index_print or (due and bool(todo or stale))
    samples = _samples(reader, snap, todo, done.index_drawn, events, zone)
    for view in todo:
        page = subscriber_page(view.name, _sections(view, samples.get(view.name, []), events,
                                                    as_of, zone, terms[view.name]),
                               as_of, zone, prints[view.name])  # fmt: skip
        write_atomically(directory / files[view.name], page.encode("utf-8"))
        done.drawn.append(view.name)
    if done.index_drawn:
        page = index_page(_operator_sections(snap, samples, events, zone),
                          subscriber_table(views), files, as_of, zone, index_print)  # fmt: skip
        write_atomically(done.index, page.encode("utf-8"))
    for name in stale:
        _remove(directory / name)
        done.removed.append(name)
    _write_if_changed(directory / "index.html", decoy_page())
    Manifest(as_of, as_of if done.index_drawn else kept.index_as_of).write(directory)
    return done


# -- what a page's data is ------------------------------------------------------------------


def page_fingerprint(view: SubscriberView, terms: Sequence[Any], applied: Sequence[int],
                     zone: ZoneInfo) -> str:  # fmt: skip
    """A hash of everything a page shows but the usage itself (whose change the samples
    since the last writing tell): a change of plan or terms, of any cap's standing, limit,
    step, lift time or top-ups, a new limit event, another time zone, another FORMAT."""
    caps = [[cap.label, cap.cap, str(cap.state), cap.rate_bps, cap.step_at, cap.lifts_at,
             cap.decided.since if cap.decided is not None else None,
             [[t.amount, t.until] for t in cap.topups]] for cap in view.caps]  # fmt: skip
    limit = view.limit
    return _digest([FORMAT, zone.key, view.name, view.plan, [repr(rule) for rule in terms],
                    caps, None if limit is None else [limit.since, limit.rate_bps],
                    list(applied)])  # fmt: skip


def _digest(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _limits_applied(events: Iterable[EventRecord]) -> defaultdict[str, list[int]]:
    found: defaultdict[str, list[int]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.LIMIT_APPLIED and event.subscriber is not None:
            found[event.subscriber].append(round(event.time))
    return found


@dataclass(frozen=True)
class Manifest:
    """DIR/.nmsquota-site.json: the commit the site was last written for, and the one its
    index was. No names: the directory is served."""

    as_of: int | None
    index_as_of: int | None

    @classmethod
    def read(cls, directory: Path, now: int) -> Manifest:
        """What the last writing left; nothing known (everything drawn) if it is missing,
        of another format, or later than `now` (another ledger, or one rolled back)."""
        try:
            kept = json.loads((directory / MANIFEST).read_text())
            if kept["format"] != FORMAT or not int(kept["as_of"]) <= now:
                return cls(None, None)
            index = kept.get("index_as_of")
            return cls(int(kept["as_of"]), int(index) if index is not None else None)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls(None, None)

    def write(self, directory: Path) -> None:
        kept = {"format": FORMAT, "as_of": self.as_of, "index_as_of": self.index_as_of}
        write_atomically(directory / MANIFEST, json.dumps(kept).encode())


def _moved_since(reader: Reader, snap: Snapshot, before: int | None) -> set[str] | None:
    """Who moved bytes since `before`, the site's last writing (None: not known, draw
    everyone)."""
    if before is None:
        return None
    everyone = [view.name for view in snap.subscribers]
    return {s.subscriber for s in reader.samples(everyone, before) if s.bytes_in or s.bytes_out}


def _fingerprints(directory: Path) -> dict[str, str]:
    """Each page file in `directory` -> the fingerprint written in its head."""
    found = {}
    for entry in os.scandir(directory):
        if PAGE_FILE.fullmatch(entry.name):
            try:
                with open(entry.path, "rb") as page:
                    head = page.read(256)
            except OSError:
                head = b""
            match = FINGERPRINT.search(head)
            found[entry.name] = match.group(1).decode() if match else ""
    return found


def _samples(reader: Reader, snap: Snapshot, todo: Sequence[SubscriberView], index: bool,
             events: Sequence[EventRecord],
             zone: ZoneInfo) -> dict[str, SampleColumns]:  # fmt: skip
    """The samples the pages to draw need (their longest window), and everyone's over the
    index's days when the index is drawn too, with the longest window before them for the
    subscribers it shows a limit at a cap of (the overshoot's peak); by subscriber, as
    columns (a Sample each is made only for whoever iterates over them)."""
    as_of = snap.as_of or 0
    names = {view.name for view in todo}
    edges = [cap.tally.edge_at(as_of) for view in todo for cap in view.caps]
    limited: set[str] = set()
    if index:
        first = fleet.day_start(fleet.days_until(as_of, DAYS, zone)[0], zone)
        longest = max((cap.tally.window for view in snap.subscribers for cap in view.caps),
                      default=86400)  # fmt: skip
        edges.append(first - 1)  # a sample at the first day's midnight is on that day
        names = {view.name for view in snap.subscribers}
        # Only they need the window before the days (a ledger keeps weeks).
        limited = {name for _, _, name in fleet.limits_at_cap(events, first)}
        limited = limited if first - longest < min(edges) else set()
    if not names:
        return {}
    found = reader.sample_columns(names, min(edges))
    if limited:
        older = reader.sample_columns(limited, first - longest, until=min(edges))
        for name, early in older.items():
            later = found.get(name)
            found[name] = early if later is None else early.then(later)
    return found


# -- what a page shows ----------------------------------------------------------------------


def _sections(view: SubscriberView, samples: Sequence[Sample], events: Sequence[EventRecord],
              as_of: int, zone: ZoneInfo, terms: Sequence[Any]) -> list[Section]:  # fmt: skip
    charts = subscriber_charts(view, samples, events, as_of, zone, terms)
    sections = []
    for cap, chart in zip(view.caps, charts, strict=True):
        table = usage_table(cap, chart.usage, zone)
        sections.append(Section(f"Cap {cap.label}: {short_bytes(cap.cap)}", chart.summary,
                                chart.svg, table))  # fmt: skip
    return sections


def usage_table(cap: CapView, usage: WindowUsage, zone: ZoneInfo) -> Table:
    """The chart's numbers per local day of the window: counted that day, counted in the
    window up to the day's end, and (with free hours) what was free that day."""
    free = cap.tally.free is not None
    head = ["Day", "Counted that day", "Counted in the window by its end"]
    head += ["Free that day"] if free else []
    rows = []
    day = datetime.fromtimestamp(usage.edge, zone).date()
    while (start := max(usage.edge, _midnight(day, zone))) < usage.as_of:
        end = min(usage.as_of, _midnight(day + timedelta(days=1), zone))
        row = [day.strftime("%a %d %b"),
               short_bytes(_at(usage.counted, end) - _at(usage.counted, start)),
               short_bytes(_at(usage.counted, end))]  # fmt: skip
        if free:
            row.append(short_bytes(_at(usage.free, end) - _at(usage.free, start)))
        rows.append(row)
        day += timedelta(days=1)
    return Table(f"Usage per day in the {cap.label} window (the numbers behind the graph)",
                 head, rows)  # fmt: skip


@lru_cache(maxsize=64)
def _midnight(day: date, zone: ZoneInfo) -> int:
    # Every page's table walks the same days of the same week: each worked out once.
    return fleet.day_start(day, zone)


def _at(points: Sequence[tuple[int, int]], when: int) -> int:
    """The cumulative total at `when` (points in time order, the first at the edge).
    Bisected on the points themselves: (when, inf) sorts after every point at or before
    `when` and before every later one, with no key function called (a site asks 200,000
    times)."""
    index = bisect_right(points, (when, math.inf))
    return points[index - 1][1] if index else 0


def subscriber_table(views: Sequence[SubscriberView]) -> Table:
    rows = []
    for view in views:
        caps = "; ".join(f"{cap.label}: {short_bytes(cap.used)} of {short_bytes(cap.cap)} "
                         f"({cap.percent:.0f}%)" for cap in view.caps)  # fmt: skip
        rows.append([view.name, view.plan or "", str(view.state), caps])
    return Table("Every subscriber (each name links to their page)",
                 ["Subscriber", "Plan", "State", "Usage of each cap"], rows)  # fmt: skip


def _operator_sections(snap: Snapshot, samples: Mapping[str, Sequence[Sample]],
                       events: Sequence[EventRecord], zone: ZoneInfo) -> list[Section]:  # fmt: skip
    """The operator's charts, the daily volume's with its numbers. `samples`: subscriber ->
    theirs, everyone's, oldest first (see _samples)."""
    figures = operator_figures(snap, samples, events, snap.as_of or 0, zone, days=DAYS)
    volume = figures.volume
    daily = Table("Downloaded by all subscribers per day (the numbers behind the graph)",
                  ["Day", "Downloaded", "Subscribers limited"],
                  [[d.strftime("%a %d %b"), short_bytes(volume.get(d, 0)),
                    str(figures.limited.get(d, 0))] for d in figures.days])  # fmt: skip
    return [Section(chart.name.replace("-", " ").capitalize(), chart.summary,
                    adaptive(chart.svg, roles=chart.name in ROLE_CHARTS),
                    daily if chart.name == "daily-volume" else None)
            for chart in charts_of(figures, zone)]  # fmt: skip


# -- the directory --------------------------------------------------------------------------


def _make(directory: Path) -> None:
    try:
        directory.mkdir(exist_ok=True)
    except OSError as error:
        raise ReportUnwritable(f"cannot write {directory}: {error.strerror or error}") from None
    if not directory.is_dir():
        raise ReportUnwritable(f"cannot write {directory}: not a directory")


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        raise ReportUnwritable(f"cannot remove {path}: {error.strerror or error}") from None


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_atomically(path, text.encode("utf-8"))


__all__ = ["SiteWritten", "page_fingerprint", "usage_table", "write_site"]
