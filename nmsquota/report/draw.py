"""A line chart written as SVG text directly: the subscriber's graph, drawn for every page of
the site (issue 22).

Why not pygal here, as for the operator's graphs: pygal spends about 11 ms on a chart before
its first point (its configuration is resolved through a Python `__getattribute__` on every
lookup, hundreds of thousands a chart) and some 100 ms on a week's line with its values; a
site of 5,000 subscribers is 5,000 charts, which pygal alone draws in over five minutes
against a target of 30 s (bench/RESULTS.md). This chart is always the same few things (lines
against a time axis and a byte axis, levels, marks, a legend), so it is written here in the
look of the pygal charts beside it, in about a millisecond.

Each point of a traced series is a dot whose <title> is its time and value: the browser shows
it on hover without any script, and a screen reader or a test reads it back. The colours are
a stylesheet scoped to the chart's id, light, dark, or light with the dark ones under
`@media (prefers-color-scheme: dark)`, so one drawing follows the reader's setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from html import escape

from nmsquota.report.style import FONT, ROLES, SVG_NS, dark_pairs

WIDTH = 800
HEIGHT = 500
MARGIN = 16
TITLE_SIZE = 18
LABEL_SIZE = 12
LEGEND_SIZE = 13
LEGEND_ROW = 20
LEGEND_GAP = 28
LEGEND_CHAR = 7.6
"""Pixels a character of the legend takes at most on average (DejaVu Sans at 13 px: about
0.58 em), to lay the legend out without measuring text."""
Y_LABELS = 64
"""Pixels left of the plot for the byte axis's labels ("1.5 GB" at 12 px)."""
X_LABELS = 24
LINE_WIDTH = 2.5

PAGE = {"background": "white", "title": "#000", "text": "#222", "guide": "#999"}
"""The page's colours on a light chart (the pygal style's background, foreground_strong,
foreground and foreground_subtle); dark_pairs() gives their dark counterparts."""


class Scheme(Enum):
    LIGHT = "light"
    DARK = "dark"
    ADAPTIVE = "adaptive"
    """Light, with the dark colours for a reader whose system prefers dark."""


@dataclass(frozen=True, slots=True)
class Line:
    """One series: a line through its points, or marks at them."""

    role: str
    """Its colour: a key of nmsquota.report.style.ROLES."""
    label: str
    """Its legend."""
    points: Sequence[tuple[float, float]]
    dash: str | None = None
    """An SVG dash array ("8,5" dashed, "2,4" dotted); None for a solid line."""
    dot: float = 0.0
    """The radius of a dot at each point, titled with its time and value; 0 for none."""
    joined: bool = True
    """False: only the dots (a mark where something happened)."""
    most_dots: int = 0
    """Dots on at most about this many of the points, evenly spread, the first and the last
    always; 0: on every point. A line of 150 points needs no 150 titles to be read."""


@dataclass(frozen=True, slots=True)
class Axes:
    x_range: tuple[float, float]
    x_ticks: Sequence[float]
    y_ticks: Sequence[float]
    """From the bottom of the axis to its top, in order."""
    x_label: Callable[[float], str]
    """A tick's label, and each dot's time."""
    y_label: Callable[[float], str]
    """A tick's label, and each dot's value."""


def line_chart(chart_id: str, title: str, desc: str, axes: Axes, lines: Sequence[Line],
               scheme: Scheme = Scheme.ADAPTIVE) -> str:  # fmt: skip
    """The SVG text of a `WIDTH` x `HEIGHT` chart of `lines`, titled and described for screen
    readers, the legend below it."""
    left, right = MARGIN + Y_LABELS, WIDTH - MARGIN - 8
    places = legend_places([line.label for line in lines], right - left)
    rows = 1 + max((row for _, row in places), default=0)
    top = MARGIN + TITLE_SIZE + 14
    bottom = HEIGHT - MARGIN - rows * LEGEND_ROW - X_LABELS - 8
    x_low, x_high = axes.x_range
    y_low, y_high = axes.y_ticks[0], axes.y_ticks[-1]
    x_scale = (right - left) / ((x_high - x_low) or 1)
    y_scale = (bottom - top) / ((y_high - y_low) or 1)

    def x_of(x: float) -> float:
        return left + (x - x_low) * x_scale

    def y_of(y: float) -> float:
        return bottom - (y - y_low) * y_scale

    ident = _ident(chart_id)
    out = [
        f'<svg xmlns="{SVG_NS}" id="{ident}" class="nq-chart" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title><desc>{_text(desc)}</desc>",
        f"<style>{stylesheet(ident, [line.role for line in lines], scheme)}</style>",
        f'<rect class="background" width="{WIDTH}" height="{HEIGHT}"/>',
        f'<text class="title" x="{WIDTH / 2:g}" y="{MARGIN + TITLE_SIZE}" '
        f'text-anchor="middle">{_text(title)}</text>',
        '<g class="axis y">',
    ]
    for tick in axes.y_ticks:
        y = y_of(tick)
        out.append(f'<g class="guide"><path d="M{left} {y:.1f} h{right - left}"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f"{_text(axes.y_label(tick))}</text></g>")  # fmt: skip
    out.append(f'<path class="edge" d="M{left} {top} V{bottom}"/></g><g class="axis x">')
    for tick in axes.x_ticks:
        x = x_of(tick)
        out.append(f'<g class="tick"><path d="M{x:.1f} {bottom} v5"/><text x="{x:.1f}" '
                   f'y="{bottom + 18}" text-anchor="middle">{_text(axes.x_label(tick))}'
                   "</text></g>")  # fmt: skip
    out.append(f'<path class="edge" d="M{left} {bottom} H{right}"/></g><g class="plot">')
    for index, line in enumerate(lines):
        out.append(f'<g class="series role-{line.role}" id="{ident}-s{index}">')
        at = [(x_of(x), y_of(y)) for x, y in line.points]
        if line.joined and len(at) > 1:
            dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
            path = "L".join(f"{x:.1f} {y:.1f}" for x, y in at)
            out.append(f'<path class="line" d="M{path}"{dash}/>')
        if line.dot:
            for index in dotted(len(at), line.most_dots):
                (x, y), (time, value) = at[index], line.points[index]
                title = _text(f"{axes.x_label(time)}: {axes.y_label(value)}")
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{line.dot:g}"><title>'
                           f"{title}</title></circle>")  # fmt: skip
        out.append("</g>")
    out.append('</g><g class="legend">')
    for line, (offset, row) in zip(lines, places, strict=True):
        x = left + offset
        y = bottom + X_LABELS + 12 + row * LEGEND_ROW
        out.append(f'<g class="item role-{line.role}"><rect x="{x:.1f}" y="{y}" width="12" '
                   f'height="12"/><text x="{x + 17:.1f}" y="{y + 11}">{_text(line.label)}'
                   "</text></g>")  # fmt: skip
    out.append("</g></svg>")
    return "".join(out)


def dotted(count: int, most: int) -> range | list[int]:
    """Which of `count` points get a dot: all, or every k-th up to at most about `most`,
    and the last."""
    if not most or count <= most:
        return range(count)
    every = -(-count // most)
    chosen = list(range(0, count, every))
    return chosen if chosen[-1] == count - 1 else [*chosen, count - 1]


def legend_places(labels: Sequence[str], width: float) -> list[tuple[float, int]]:
    """Each legend item's (offset from the plot's left, row): in columns of a third of the
    width where the labels fit them (the items line up), else one after another, a new row
    when the next would pass `width`."""
    sizes = [17 + len(label) * LEGEND_CHAR for label in labels]
    column = width / 3
    if all(size + LEGEND_GAP <= column for size in sizes):
        return [(index % 3 * column, index // 3) for index in range(len(labels))]
    places: list[tuple[float, int]] = []
    offset, row = 0.0, 0
    for size in sizes:
        if offset and offset + size > width:
            offset, row = 0.0, row + 1
        places.append((offset, row))
        offset += size + LEGEND_GAP
    return places


def stylesheet(ident: str, roles: Sequence[str], scheme: Scheme) -> str:
    """The chart's rules, every selector under its id (charts inline in one page share the
    page's stylesheet)."""
    chart = f"#{ident}"
    shapes = (f"{chart}{{font-family:{FONT}}}"
              f"{chart} .title{{font-size:{TITLE_SIZE}px}}"
              f"{chart} .axis text{{font-size:{LABEL_SIZE}px}}"
              f"{chart} .legend text{{font-size:{LEGEND_SIZE}px}}"
              f"{chart} .guide path{{stroke-width:1;stroke-dasharray:1,5}}"
              f"{chart} .edge,{chart} .tick path{{stroke-width:1}}"
              f"{chart} .line{{fill:none;stroke-width:{LINE_WIDTH};stroke-linejoin:round;"
              "stroke-linecap:round}")  # fmt: skip
    if scheme is Scheme.LIGHT:
        return shapes + colours(chart, roles, dark=False)
    if scheme is Scheme.DARK:
        return shapes + colours(chart, roles, dark=True)
    light, dark = colours(chart, roles, dark=False), colours(chart, roles, dark=True)
    return f"{shapes}{light}@media (prefers-color-scheme: dark){{{dark}}}"


def colours(chart: str, roles: Sequence[str], dark: bool) -> str:
    """The rules that colour the chart: the page's, then each role's (lines, dots, legend)."""
    page = {key: dark_pairs()[value] if dark else value for key, value in PAGE.items()}
    rules = [f"{chart} .background{{fill:{page['background']}}}",
             f"{chart} .title{{fill:{page['title']}}}",
             f"{chart} .axis text,{chart} .legend text{{fill:{page['text']}}}",
             f"{chart} .edge,{chart} .tick path{{stroke:{page['text']}}}",
             f"{chart} .guide path{{stroke:{page['guide']}}}"]  # fmt: skip
    for role in dict.fromkeys(roles):
        colour = ROLES[role][dark]
        kind = f"{chart} .role-{role}"
        rules.append(f"{kind} .line{{stroke:{colour}}}{kind} circle,{kind} rect{{fill:{colour}}}")
    return "".join(rules)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(text: str) -> str:
    """Text for SVG content or an attribute: escaped as the pages' HTML is (html.escape),
    and characters XML cannot carry (a control character in a name) shown as U+FFFD rather
    than breaking the document."""
    if _SPECIAL.search(text) is None:  # nearly every label: a time, a volume
        return text
    return _NOT_XML.sub("\ufffd", escape(text))


def _ident(chart_id: str) -> str:
    """An XML id and CSS selector from anything: letters, digits and dashes."""
    return "chart-" + "".join(c if c.isascii() and c.isalnum() else "-" for c in chart_id)


__all__ = ["Axes", "Line", "Scheme", "line_chart", "stylesheet"]
