"""The operator's graphs (issue 22, item 2): the ISP's daily volume with the number of
subscribers limited each day, the top users' daily volume (the paper's "Volume Downloaded
by Biggest User"), the distribution of usage as a share of cap, and how far past the cap
usage went in each limit at a cap.

Pure: a snapshot, samples and events from the read API; "now" is the snapshot's as_of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pygal

from nmsquota.ledger.records import EventRecord
from nmsquota.report import fleet
from nmsquota.report.style import byte_ticks, common, finish, plain, short_bytes
from nmsquota.standings import Snapshot
from nmsquota.usage import Sample

MOST_OVERSHOOTS = 40
"""Bars on the overshoot chart: the latest limits, so that each keeps a readable label."""


@dataclass(frozen=True, slots=True)
class OperatorChart:
    name: str
    """Its file's stem: daily-volume, top-users, share-of-cap, overshoot."""
    svg: str
    summary: str


@dataclass(frozen=True, slots=True)
class OperatorFigures:
    """The numbers under the operator's charts, worked out once: the charts and the site's
    table of the daily volume show the same."""

    days: list[date]
    """The local days shown, the day of `as_of` (so far) the last."""
    volumes: fleet.Volumes
    limited: dict[date, int]
    """How many subscribers were limited at some moment of each day."""
    shares: dict[str, list[float]]
    overshoots: list[fleet.Overshoot]

    @property
    def volume(self) -> dict[date, int]:
        """The ISP's: everyone's per day."""
        return fleet.isp_volume(self.volumes)


def operator_figures(snap: Snapshot, samples: Mapping[str, Sequence[Sample]],
                     events: Sequence[EventRecord], as_of: int, zone: ZoneInfo,
                     days: int = 7) -> OperatorFigures:  # fmt: skip
    """The figures over the last `days` local days up to `as_of`. `samples`: subscriber ->
    theirs, oldest first, everyone's from the longest window before the first day on (for
    the overshoot's peaks)."""
    day_list = fleet.days_until(as_of, days, zone)
    first = fleet.day_start(day_list[0], zone)
    spans = fleet.limited_spans(events, snap.limits, as_of)
    return OperatorFigures(
        days=day_list,
        volumes=fleet.volumes_of(samples, day_list, zone),
        limited=fleet.limited_per_day(spans, day_list, zone),
        shares=fleet.shares_of_cap(snap.subscribers),
        overshoots=fleet.overshoots(events, spans, snap.by_name, samples, first),
    )


def operator_charts(snap: Snapshot, samples: Sequence[Sample], events: Sequence[EventRecord],
                    as_of: int, zone: ZoneInfo, days: int = 7, top: int = 5,
                    dark: bool = False) -> list[OperatorChart]:  # fmt: skip
    """The four charts over the last `days` local days up to `as_of`. `samples`: everyone's
    from the longest window before the first day on (for the overshoot's peaks), oldest
    first."""
    figures = operator_figures(snap, fleet.by_subscriber(samples), events, as_of, zone, days)
    return charts_of(figures, zone, top, dark)


def charts_of(figures: OperatorFigures, zone: ZoneInfo, top: int = 5,
              dark: bool = False) -> list[OperatorChart]:  # fmt: skip
    """The four charts of figures already worked out."""
    return [
        daily_volume_chart(figures.volume, figures.limited, dark),
        top_users_chart(figures.volumes, top, dark),
        share_chart(figures.shares, dark),
        overshoot_chart(figures.overshoots, zone, dark),
    ]


def _day_labels(days: Sequence[date]) -> list[str]:
    return [day.strftime("%a %d %b") for day in days]


def daily_volume_chart(volume: dict[date, int], limited: dict[date, int],
                       dark: bool = False) -> OperatorChart:  # fmt: skip
    days = sorted(volume)
    title = "Downloaded by all subscribers per day"
    busiest = max(days, key=lambda d: volume[d])
    most = max(limited.values(), default=0)
    summary = (f"{short_bytes(sum(volume.values()))} downloaded in {len(days)} days; the "
               f"most on {busiest.strftime('%A %d %B')} ({short_bytes(volume[busiest])}); "
               f"at most {most} subscribers limited in a day.")  # fmt: skip
    # The count of limited subscribers goes with each day's label: pygal labels a second
    # axis with the first's formatter (bytes here), at ticks that are not whole numbers.
    labels = [f"{d.strftime('%a %d %b')}: {limited.get(d, 0)} limited" for d in days]
    chart = pygal.Bar(**common(
        dark, title, ["usage"], x_labels=labels, x_label_rotation=20, y_title="downloaded",
        y_labels=byte_ticks(max(volume.values(), default=0) * 1.05), value_formatter=short_bytes,
    ))  # fmt: skip
    chart.add("Downloaded (under each day: the subscribers limited that day)",
              [volume[d] for d in days])  # fmt: skip
    svg = finish(chart, "nmsquota-daily-volume", title, summary)
    return OperatorChart("daily-volume", svg, summary)


def top_users_chart(volumes: fleet.Volumes, count: int, dark: bool = False) -> OperatorChart:
    days = sorted(volumes)
    names = fleet.top_users(volumes, count)
    title = f"Downloaded per day by the {len(names)} biggest users" if len(names) > 1 else (
        "Downloaded per day by the biggest user")  # fmt: skip
    totals = {name: sum(volumes[d].get(name, 0) for d in days) for name in names}
    summary = "; ".join(f"{name}: {short_bytes(totals[name])}" for name in names)
    summary = f"Over {len(days)} days, {summary}." if names else "Nobody downloaded anything."
    top = max((volumes[d].get(n, 0) for d in days for n in names), default=0)
    # pygal fails on axis labels given to a chart with no series (it draws "No data").
    ticks = byte_ticks(top * 1.05) if names else None
    chart = pygal.Bar(**common(
        dark, title, x_labels=_day_labels(days), y_labels=ticks,
        value_formatter=short_bytes, x_label_rotation=0,
    ))  # fmt: skip
    for name in names:
        chart.add(f"{name}: {short_bytes(totals[name])}", [volumes[d].get(name, 0) for d in days])
    return OperatorChart("top-users", finish(chart, "nmsquota-top-users", title, summary),
                         summary)  # fmt: skip


def share_chart(shares: dict[str, list[float]], dark: bool = False) -> OperatorChart:
    title = "Usage as a share of the cap, subscribers per bin"
    labels = sorted(shares)
    over = {label: sum(1 for p in shares[label] if p > fleet.SHARE_BINS[-1]) for label in labels}
    said = [f"{over[label]} of {len(shares[label])} past the {label} cap" for label in labels]
    summary = plain(said) + "." if said else "No subscriber on a plan."
    counts = {label: fleet.share_bins(shares[label]) for label in labels}
    most = max((n for row in counts.values() for n in row), default=0)
    chart = pygal.Bar(**common(
        dark, title, x_labels=fleet.bin_labels(), x_label_rotation=30,
        y_labels=_count_ticks(most) if labels else None, value_formatter=lambda n: f"{n:g}",
        y_title="subscribers",
    ))  # fmt: skip
    for label in labels:
        chart.add(f"cap {label}", counts[label])
    return OperatorChart("share-of-cap", finish(chart, "nmsquota-share-of-cap", title, summary),
                         summary)  # fmt: skip


def overshoot_chart(found: Sequence[fleet.Overshoot], zone: ZoneInfo,
                    dark: bool = False) -> OperatorChart:  # fmt: skip
    title = "Past the cap, per limit at a cap"
    shown = list(found)[-MOST_OVERSHOOTS:]
    if shown:
        worst = max(shown, key=lambda o: o.past)
        summary = (f"{len(found)} limits at a cap; the most past the cap: {worst.subscriber}, "
                   f"{short_bytes(worst.past)} past {short_bytes(worst.cap)} "
                   f"({worst.cap_label}).")  # fmt: skip
    else:
        summary = "No limit at a cap in these days."
    labels = [f"{o.subscriber} {o.cap_label} {_when(o.time, zone)}" for o in shown]
    chart = pygal.Bar(**common(
        dark, title, ["cap"], x_labels=labels, x_label_rotation=30 if len(shown) > 4 else 0,
        y_labels=byte_ticks(max((o.past for o in shown), default=0) * 1.05),
        value_formatter=short_bytes, y_title="past the cap", show_legend=False,
    ))  # fmt: skip
    chart.add("Past the cap", [o.past for o in shown])
    return OperatorChart("overshoot", finish(chart, "nmsquota-overshoot", title, summary), summary)


def _when(time: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(time, zone).strftime("%a %H:%M")


def _count_ticks(most: int) -> list[int]:
    step = max(1, -(-most // 5))
    return list(range(0, most + step + 1, step))
