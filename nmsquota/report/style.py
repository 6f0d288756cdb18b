"""How the reports look: one pygal style for light pages and one for dark, byte units on
the axes, and the finishing every SVG gets (a title and a description for screen readers,
nothing that reaches the network, the same bytes for the same data)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from pygal.style import Style

from nmsquota.units import format_bytes

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
"""Fonts every desktop has: pygal's own style names none from the web, and neither do we."""

# Colours picked to stay apart for the colour-blind (after the Okabe-Ito palette), by what a
# series shows: pygal colours series in the order they are added, and a chart adds only the
# ones it has, so each chart gets the colours of its own series (`style_of`).
ROLES = {
    "usage": ("#0072B2", "#56B4E9"),
    "free": ("#009E73", "#2BC99A"),
    "cap": ("#D55E00", "#FF7F50"),
    "topup": ("#CC79A7", "#E8A5CF"),
    "step": ("#E69F00", "#F0E442"),
    "limit": ("#000000", "#FFFFFF"),
    "lift": ("#7F7F7F", "#BBBBBB"),
    "pace": ("#0072B2", "#56B4E9"),
    "limited": ("#D55E00", "#FF7F50"),
}
"""Role -> (colour on a light page, on a dark one)."""
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#7F7F7F", "#882255")  # fmt: skip
"""For series that are all alike (the top users): one colour each."""

_SHARED = {
    "font_family": FONT, "opacity": ".9", "opacity_hover": ".9",
    "guide_stroke_dasharray": "1,5", "major_guide_stroke_dasharray": "1,5",
    "title_font_size": 18, "legend_font_size": 13, "label_font_size": 12,
    "major_label_font_size": 12, "tooltip_font_size": 12,
    # pygal's stylesheet sets every series line's width here, which overrides a series'
    # own stroke_style width: one width for all, each series told apart by colour and dash.
    "stroke_width": "2.5", "stroke_width_hover": "2.5",
}  # fmt: skip
_LIGHT = {"background": "white", "plot_background": "white", "foreground": "#222",
          "foreground_strong": "#000", "foreground_subtle": "#999"}  # fmt: skip
_DARK = {"background": "#121212", "plot_background": "#121212", "foreground": "#ddd",
         "foreground_strong": "#fff", "foreground_subtle": "#777"}  # fmt: skip


def dark_pairs() -> dict[str, str]:
    """The page's colours on a light page -> on a dark one ("white" -> "#121212")."""
    return {_LIGHT[key]: _DARK[key] for key in _LIGHT}


def style_of(dark: bool, roles: Sequence[str] = ()) -> Any:
    """The page's style, with the colours of `roles` (ROLES' keys) for the series in the
    order the chart adds them; without roles, PALETTE's (the light ones on either page)."""
    colors = tuple(ROLES[role][dark] for role in roles) or PALETTE
    return Style(**_SHARED, **(_DARK if dark else _LIGHT), colors=colors)


def short_bytes(count: float) -> str:
    """A volume for an axis or a sentence: "2.1 GB", "5 GB" (no ".0"), "0 B"."""
    text = format_bytes(round(count))
    return text.replace(".0 ", " ")


def byte_ticks(top: float, count: int = 5) -> list[int]:
    """Round byte values from 0 to at least `top` for an axis (1, 2 or 5 times a power of
    ten, in bytes, so that each label reads exactly: "500 MB", "1 GB", "1.5 GB")."""
    if top <= 0:
        return [0, 1000]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [round(i * step) for i in range(math.ceil(top / step) + 1)]
    return ticks if ticks[-1] >= top else [*ticks, round(ticks[-1] + step)]


def ticks_with(ticks: Sequence[int], levels: Sequence[float]) -> list[float]:
    """`ticks` with `levels` (a cap, a step) among them, so that a level's line is read off
    the axis; a tick too close to a level (under 4% of the axis) gives way to it."""
    near = 0.04 * (ticks[-1] - ticks[0])
    kept: list[float] = [t for t in ticks if all(abs(t - level) >= near for level in levels)]
    return sorted({*kept, *levels, ticks[0], ticks[-1]})


def time_formatter(zone: ZoneInfo, pattern: str = "%a %H:%M") -> Callable[[float], str]:
    def formatted(when: float) -> str:
        return datetime.fromtimestamp(when, zone).strftime(pattern)

    return formatted


def common(dark: bool, title: str, roles: Sequence[str] = (), **more: Any) -> dict[str, Any]:
    """The configuration every chart shares: no JavaScript (pygal's default fetches its
    tooltip script from the web), no web fonts, a fixed size, the legend below."""
    return {
        "style": style_of(dark, roles), "title": title, "js": [], "width": 800, "height": 500,
        "legend_at_bottom": True, "legend_at_bottom_columns": 3, "truncate_legend": -1,
        "truncate_label": -1,
        "disable_xml_declaration": True, "show_x_guides": False, "show_y_guides": True,
        "print_values": False, "dots_size": 2, "margin": 16, "margin_bottom": 40, **more,
    }  # fmt: skip


def finish(chart: Any, chart_id: str, title: str, desc: str) -> str:
    """The chart's SVG text: a stable id (pygal draws a random one: the same data must give
    the same bytes, so a page rewritten with nothing changed stays the same), <title> and
    <desc> first, pygal's comments (with its web addresses) left out."""
    chart.uuid = chart_id

    def finishing(root: Any) -> Any:
        for comment in [c for c in root if c.tag is ElementTree.Comment]:
            root.remove(comment)
        # pygal writes its configuration as a script even with js=[]: nothing reads it.
        for defs in root.iter("defs"):
            for script in [c for c in defs if c.tag == "script"]:
                defs.remove(script)
        for old in [c for c in root if c.tag in ("title", "desc")]:
            root.remove(old)
        described = ElementTree.Element("desc")
        described.text = desc
        root.insert(0, described)
        titled = ElementTree.Element("title")
        titled.text = title
        root.insert(0, titled)
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    chart.add_xml_filter(finishing)
    svg: str = chart.render(is_unicode=True)
    return _self_contained(svg)


def _self_contained(svg: str) -> str:
    # A last guard: nothing in the SVG may point outside it.
    if re.search(r"(?:https?:)?//(?!www\.w3\.org/)[A-Za-z0-9]", svg.replace(SVG_NS, "")):
        raise AssertionError("a report's SVG names an address outside it")
    return svg


def plain(labels: Sequence[str]) -> str:
    """A list in prose: "a", "a and b", "a, b and c"."""
    if len(labels) < 2:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"
