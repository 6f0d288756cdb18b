"""A subscriber's graph, one per cap of their plan (issue 22, item 1): the usage counted in
the cap's window, cumulative from its edge, against the cap line, its steps' thresholds,
top-ups, where a limit began and when it lifts if nothing more is downloaded, the free
hours' usage beside it; and the plain-language summary that goes with it.

Pure: the view, samples and events come from the read API, "now" is the snapshot's as_of.
A site writer calls `subscriber_charts` once per subscriber.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from nmsquota.ledger.records import EventKind, EventRecord
from nmsquota.policy import Rule
from nmsquota.report.draw import Axes, Line, Scheme, line_chart
from nmsquota.report.series import WindowUsage, pace, reaches, thinned, window_usage
from nmsquota.report.style import byte_ticks, short_bytes, ticks_with, time_formatter
from nmsquota.standings import CapView, SubscriberView
from nmsquota.units import format_duration, format_rate
from nmsquota.usage import FreeHours, Sample, Tally
from nmsquota.verdict import ReasonKind

DAY = 86400


@dataclass(frozen=True, slots=True)
class CapChart:
    """One cap's graph and the sentence that says what it shows."""

    label: str
    """The cap as the configuration names it ("1d", "7d")."""
    svg: str
    summary: str
    usage: WindowUsage
    """What it is drawn from (the site's table of the numbers behind it reads it too)."""


def subscriber_charts(view: SubscriberView, samples: Sequence[Sample],
                      events: Iterable[EventRecord], as_of: int, zone: ZoneInfo,
                      terms: Sequence[Rule] = (),
                      scheme: Scheme = Scheme.ADAPTIVE) -> list[CapChart]:  # fmt: skip
    """One chart per cap of `view`'s plan. `samples`: theirs, at least over the longest of
    their windows; `events`: the kept log (theirs are picked out); `terms`: the plan's
    rules in the order of `view.caps` (their steps; () draws none)."""
    mine = [e for e in events if e.subscriber == view.name and e.kind is EventKind.LIMIT_APPLIED]
    rules: list[Rule | None] = list(terms) if len(terms) == len(view.caps) else []
    charts = []
    for index, cap in enumerate(view.caps):
        usage = window_usage(samples, cap.tally, cap.direction, as_of)
        rule = rules[index] if rules else None
        sentence = summary(view, cap, usage, zone, rule)
        svg = cap_chart(view.name, cap, usage, limit_times(cap, mine, usage), zone, rule,
                        sentence, scheme)  # fmt: skip
        charts.append(CapChart(cap.label, svg, sentence, usage))
    return charts


def limit_times(cap: CapView, applied: Iterable[EventRecord], usage: WindowUsage) -> list[int]:
    """When a limit on this cap began within its window: the kept events' (over this cap,
    or forced), and the limit in force's start if the bounded event log lost it."""
    times = {e.time for e in applied if e.reason is not None and usage.edge < e.time
             and (e.reason.kind is ReasonKind.FORCED or e.reason.cap_name == cap.name)}  # fmt: skip
    since = cap.decided.since if cap.decided is not None and cap.limited else None
    if since is not None and usage.edge < since <= usage.as_of:
        times.add(since)
    return sorted(round(t) for t in times)


def cap_in_force(cap: CapView) -> int:
    """The plan's cap raised by the top-ups on it."""
    return cap.cap + sum(topup.amount for topup in cap.topups)


# -- the summary ----------------------------------------------------------------------------


def summary(view: SubscriberView, cap: CapView, usage: WindowUsage, zone: ZoneInfo,
            rule: Rule | None = None) -> str:  # fmt: skip
    """What the chart says, in sentences: "2.1 GB of 5 GB used in the last 7 days; at this
    pace you reach the cap on Friday. Usage between 00:00 and 07:00 is free." """
    as_of = usage.as_of
    parts = [f"{short_bytes(usage.used)} of {short_bytes(cap.cap)} used "
             f"{window_words(cap.tally)}"]  # fmt: skip
    if cap.limited:
        parts.append(_limited_words(cap, as_of, zone))
    else:
        parts.append(_pace_words(cap, usage, zone))
    sentences = ["; ".join(parts) + "."]
    sentences += [_topup_words(topup.amount, topup.left, topup.until, as_of, zone)
                  for topup in cap.topups]  # fmt: skip
    if cap.tally.free is not None:
        sentences.append(free_words(cap.tally.free, usage.free_total))
    if rule is not None and rule.steps and not cap.limited:
        first = rule.steps[0]
        sentences.append(f"From {first.at:g}% of the cap ({short_bytes(cap.cap * first.at / 100)})"
                         f" the speed is held to {_rate(first.rate_bps)}.")  # fmt: skip
    return " ".join(sentences)


def window_words(tally: Tally) -> str:
    if tally.period is not None:
        return "this month"
    if tally.window == 7 * DAY:
        return "in the last 7 days"
    if tally.window == DAY:
        return "in the last 24 hours"
    return f"in the last {format_duration(tally.window)}"


def free_words(free: FreeHours, moved: int) -> str:
    said = f"Usage between {_hhmm(free.start)} and {_hhmm(free.end)} is free"
    return f"{said} ({short_bytes(moved)} of it in this window)." if moved else f"{said}."


def _limited_words(cap: CapView, as_of: int, zone: ZoneInfo) -> str:
    since = cap.decided.since if cap.decided is not None else None
    held = f"your speed is held to {_rate(cap.rate_bps)}"
    if cap.step_at is not None:
        held += f" (past {cap.step_at:g}% of the cap)"
    if since is not None:
        held += f" since {day_words(since, as_of, zone).removeprefix('on ')}"
    if cap.lifts_at is not None:
        held += f"; if you download nothing more it lifts {day_words(cap.lifts_at, as_of, zone)}"
    return held


def _pace_words(cap: CapView, usage: WindowUsage, zone: ZoneInfo) -> str:
    per_second = pace(usage.moved, usage.as_of)
    per_day = short_bytes(per_second * DAY)
    when = reaches(usage, cap.tally, cap_in_force(cap), per_second)
    if when is None:
        return f"at this pace ({per_day} a day) you stay under the cap"
    if when <= usage.as_of:
        return "you have reached the cap"
    return f"at this pace ({per_day} a day) you reach the cap {day_words(when, usage.as_of, zone)}"


def _topup_words(amount: int, left: int, until: int | None, as_of: int, zone: ZoneInfo) -> str:
    lasting = "until removed"
    if until is not None:
        lasting = f"until {day_words(until, as_of, zone).removeprefix('on ')}"
    return f"A top-up adds {short_bytes(amount)} {lasting} ({short_bytes(left)} of it left)."


def day_words(when: float, now: float, zone: ZoneInfo) -> str:
    """A moment as people say it, from `now`: "today at 18:00", "tomorrow at 09:00", "on
    Friday at 14:00" (within a week either way), "on Fri 14 Dec at 14:00"."""
    moment = datetime.fromtimestamp(when, zone)
    days = (moment.date() - datetime.fromtimestamp(now, zone).date()).days
    clock = moment.strftime("%H:%M")
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days == -1:
        return f"yesterday at {clock}"
    if -7 < days < 7:
        return f"on {moment.strftime('%A')} at {clock}"
    return f"on {moment.strftime('%a')} {moment.day} {moment.strftime('%b')} at {clock}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _rate(bps: int) -> str:
    # "32kbit" -> "32 kbit/s", as a subscriber's contract says it.
    text = format_rate(bps)
    number = text.rstrip("bitkMG")
    return f"{number} {text[len(number) :]}/s"


# -- the chart ------------------------------------------------------------------------------


TRACE = {"dot": 1.5, "most_dots": 56}
"""A series of usage: a line, with dots carrying their time and value in the SVG (about one
every three hours of a week; the line itself has up to 150 points)."""
DASHED = {"dash": "8,5"}
DOTTED = {"dash": "2,4"}
MARK = {"joined": False, "dot": 6.0}


@dataclass(frozen=True, slots=True)
class Series:
    role: str
    """What it shows (a key of nmsquota.report.style.ROLES: its colour)."""
    label: str
    points: Sequence[tuple[float, float]]
    options: dict[str, Any]


def cap_chart(name: str, cap: CapView, usage: WindowUsage, limited_at: Sequence[int],
              zone: ZoneInfo, rule: Rule | None, sentence: str,
              scheme: Scheme = Scheme.ADAPTIVE) -> str:  # fmt: skip
    """The SVG of one cap: see the module's docstring."""
    per_second = pace(usage.moved, usage.as_of)
    reach = None if cap.limited else reaches(usage, cap.tally, cap_in_force(cap), per_second)
    end = max(usage.as_of, cap.lifts_at or 0, reach or 0)
    series = cap_series(cap, usage, limited_at, rule, zone, end, reach)
    top = byte_ticks(max(cap_in_force(cap), usage.used, usage.free_total) * 1.05)
    levels = [cap.cap, cap_in_force(cap)]
    title = f"{name}: {short_bytes(usage.used)} of {short_bytes(cap.cap)} ({cap.label})"
    axes = Axes((usage.edge, end), _time_ticks(usage.edge, end, zone), ticks_with(top, levels),
                _tick_formatter(usage.edge, end, zone), short_bytes)  # fmt: skip
    lines = [Line(one.role, one.label, one.points, **one.options) for one in series]
    return line_chart(f"nmsquota-{name}-{cap.label}", title, sentence, axes, lines, scheme)


def cap_series(cap: CapView, usage: WindowUsage, limited_at: Sequence[int], rule: Rule | None,
               zone: ZoneInfo, end: int, reach: int | None) -> list[Series]:  # fmt: skip
    """What one cap's chart draws, in the order of its legend."""
    edge, as_of = usage.edge, usage.as_of

    def level(at: float, label: str, role: str, style: dict[str, Any]) -> Series:
        return Series(role, label, [(edge, at), (end, at)], style)

    series = [Series("usage", f"Counted: {short_bytes(usage.used)}", _points(usage.counted),
                     TRACE)]  # fmt: skip
    free = cap.tally.free
    if free is not None:
        series.append(Series("free", f"Free {_hhmm(free.start)}-{_hhmm(free.end)}, not "
                             f"counted: {short_bytes(usage.free_total)}",
                             _points(usage.free if usage.free_total else
                                     (usage.free[0], usage.free[-1])), TRACE))  # fmt: skip
    series.append(level(cap.cap, f"Cap: {short_bytes(cap.cap)}", "cap", DASHED))
    if cap.topups:
        raised = cap_in_force(cap)
        series.append(level(raised, f"Cap with top-ups: {short_bytes(raised)}", "topup", DASHED))
    for step in rule.steps if rule is not None else ():
        at = cap.cap * step.at / 100
        series.append(level(at, f"Step {step.at:g}% ({short_bytes(at)}): {_rate(step.rate_bps)}",
                            "step", DOTTED))  # fmt: skip
    if limited_at:
        series.append(Series("limit", "Limit applied",
                             [(t, usage.at(t)) for t in limited_at], MARK))  # fmt: skip
    if cap.lifts_at is not None:
        at = lift_level(cap, rule)
        series.append(Series("lift", f"Lifts {time_formatter(zone)(cap.lifts_at)} if nothing "
                             "more is downloaded", [(cap.lifts_at, at)], MARK))  # fmt: skip
    if reach is not None and reach > as_of:
        ahead = [(as_of, usage.used), (reach, cap_in_force(cap))]
        series.append(Series("pace", "At this pace", ahead, DOTTED))
    return series


def lift_level(cap: CapView, rule: Rule | None) -> float:
    """The usage under which the limit in force lifts, as the policy has it: its threshold
    (of the cap in force, top-ups included) less its margin (a step's own, or the cap's
    hysteresis)."""
    in_force = cap.decided.cap if cap.decided is not None and cap.decided.cap else cap.cap
    if cap.step_at is None:
        return in_force * (1 - (rule.hysteresis if rule is not None else 0.0))
    step = next((s for s in rule.steps if s.at == cap.step_at), None) if rule else None
    return in_force * cap.step_at / 100 * (1 - (step.hysteresis if step is not None else 0.0))


def _points(points: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(float(t), float(b)) for t, b in thinned(points)]


TICK_STEPS = (3600, 3 * 3600, 6 * 3600, 12 * 3600, DAY, 2 * DAY, 7 * DAY)
MOST_TICKS = 9
"""Labels on the time axis at most: "Mon 13 Aug" is about 80 pixels wide in 700."""


def _time_ticks(start: int, end: int, zone: ZoneInfo) -> list[int]:
    """On local hours (a whole number of them) or midnights, as few steps as fit."""
    step = next((s for s in TICK_STEPS if (end - start) / s <= MOST_TICKS), TICK_STEPS[-1])
    first = datetime.fromtimestamp(start, zone).replace(minute=0, second=0, microsecond=0)
    if step >= DAY:
        first = first.replace(hour=0)
    else:
        first = first.replace(hour=first.hour - first.hour % (step // 3600))
    ticks = []
    t = int(first.timestamp())
    while t <= end:
        if t >= start:
            ticks.append(t)
        # Through local dates, so that a tick stays on midnight across a change of DST.
        t = _local_step(t, step, zone)
    return ticks


def _local_step(t: int, step: int, zone: ZoneInfo) -> int:
    moment = datetime.fromtimestamp(t, zone)
    if step < DAY:
        return t + step
    days = step // DAY
    naive = moment.replace(tzinfo=None).toordinal() + days
    nxt = datetime.fromordinal(naive).replace(tzinfo=zone)
    return max(t + 1, int(nxt.timestamp()))


def _tick_formatter(start: int, end: int, zone: ZoneInfo) -> Callable[[float], str]:
    """The axis's ticks and each dot's time, by one function: a tick on local midnight is
    the day ("Mon 13 Aug"), a point is its moment."""
    long = end - start >= 2 * DAY

    def formatted(when: float) -> str:
        return _moment(when, zone, long)

    return formatted


@lru_cache(maxsize=8192)
def _moment(when: float, zone: ZoneInfo, long: bool) -> str:
    # Cached: a site's pages share their points' times (every subscriber's samples of a
    # cycle carry the cycle's time), and formatting them was a tenth of drawing a page.
    moment = datetime.fromtimestamp(when, zone)
    if long and (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%a %d %b")
    return moment.strftime("%a %d %b %H:%M" if long else "%a %H:%M")


__all__ = ["CapChart", "cap_chart", "day_words", "subscriber_charts", "summary"]
