"""The line chart written as SVG directly (nmsquota.report.draw): a valid document whatever a
name holds, points where the axes put them, each dot's value on hover, a legend whose items
never overlap, and a stylesheet that touches nothing outside the chart."""

from __future__ import annotations

import re
from itertools import pairwise
from xml.etree import ElementTree

import pytest

from nmsquota.report.draw import (
    HEIGHT,
    WIDTH,
    Axes,
    Line,
    Scheme,
    dotted,
    legend_places,
    line_chart,
    stylesheet,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
AXES = Axes((0, 100), [0, 50, 100], [0, 500, 1000], lambda x: f"t{x:g}", lambda y: f"{y:g} B")


def chart(lines: list[Line], title: str = "a chart", chart_id: str = "one") -> str:
    return line_chart(chart_id, title, "what it shows", AXES, lines)


def test_any_name_makes_a_valid_document_and_reads_back() -> None:
    name = 'a<b>&"c"\nd\x01e'
    svg = chart([Line("usage", f"{name} used", [(0, 0), (100, 1000)])], title=name, chart_id=name)
    root = ElementTree.fromstring(svg)
    assert root.findtext("svg:title", namespaces=NS) == 'a<b>&"c"\nd\ufffde'
    # An attribute's newline is read as a space (XML's attribute-value normalisation).
    assert root.get("aria-label") == 'a<b>&"c" d\ufffde'
    assert re.fullmatch(r"chart-[A-Za-z0-9-]+", root.get("id", ""))


def test_points_are_drawn_where_the_axes_put_them() -> None:
    root = ElementTree.fromstring(chart([Line("usage", "u", [(0, 0), (100, 1000)], dot=2)]))
    guides = {g.findtext("svg:text", namespaces=NS): g.find("svg:path", NS)
              for g in root.iterfind(".//svg:g[@class='guide']", NS)}  # fmt: skip
    bottom = float(guides["0 B"].get("d", "").split()[1])  # type: ignore[union-attr]
    top = float(guides["1000 B"].get("d", "").split()[1])  # type: ignore[union-attr]
    dots = root.findall(".//svg:g[@class='plot']//svg:circle", NS)
    assert [float(d.get("cy", "")) for d in dots] == [bottom, top]
    assert float(dots[0].get("cx", "")) < float(dots[1].get("cx", ""))
    assert [d.findtext("svg:title", namespaces=NS) for d in dots] == ["t0: 0 B", "t100: 1000 B"]


def test_marks_are_dots_without_a_line_and_levels_lines_without_dots() -> None:
    root = ElementTree.fromstring(chart([
        Line("limit", "Limit applied", [(40, 600)], dot=6, joined=False),
        Line("cap", "Cap", [(0, 800), (100, 800)], dash="8,5"),
    ]))  # fmt: skip
    mark, level = list(root.find(".//svg:g[@class='plot']", NS) or [])
    assert mark.find("svg:path", NS) is None and len(mark.findall("svg:circle", NS)) == 1
    assert level.findall("svg:circle", NS) == []
    assert level.find("svg:path", NS).get("stroke-dasharray") == "8,5"  # type: ignore[union-attr]


def test_the_same_lines_draw_the_same_bytes() -> None:
    lines = [Line("usage", "u", [(0, 0), (50, 300), (100, 1000)], dot=1.5)]
    assert chart(lines) == chart(list(lines))


@pytest.mark.parametrize(
    "labels",
    [["Counted: 2.1 GB", "Cap: 5 GB", "At this pace"],
     ["Counted: 7.1 GB", "Free 00:00-07:00, not counted: 350 MB", "Cap: 5 GB",
      "Cap with top-ups: 6 GB", "Step 80% (4 GB): 10 Mbit/s", "Limit applied",
      "Lifts Sun 07:00 if nothing more is downloaded"]],
)  # fmt: skip
def test_legend_items_never_overlap_and_stay_within_the_width(labels: list[str]) -> None:
    width = 700
    places = legend_places(labels, width)
    rows: dict[int, list[tuple[float, str]]] = {}
    for (offset, row), label in zip(places, labels, strict=True):
        rows.setdefault(row, []).append((offset, label))
    for items in rows.values():
        for (offset, label), (following, _) in pairwise(items):
            assert offset + 17 + len(label) * 7.6 < following
        last, label = items[-1]
        assert len(items) == 1 or last + 17 + len(label) * 7.6 <= width


def test_short_legends_line_up_in_columns() -> None:
    places = legend_places(["a", "b", "c", "d"], 600)
    assert places == [(0, 0), (200, 0), (400, 0), (0, 1)]


def test_a_long_legend_moves_the_plot_up_rather_than_off_the_chart() -> None:
    few = ElementTree.fromstring(chart([Line("usage", "u", [(0, 0), (100, 1000)])]))
    many = ElementTree.fromstring(chart(
        [Line("usage", f"a long legend label number {n}", [(0, 0), (100, 1000)])
         for n in range(9)]))  # fmt: skip

    def lowest_guide(root: ElementTree.Element) -> float:
        path = root.find(".//svg:g[@class='guide']/svg:path", NS)
        return float(path.get("d", "").split()[1])  # type: ignore[union-attr]

    assert lowest_guide(many) < lowest_guide(few)
    legend_y = [float(t.get("y", "")) for t in many.iterfind(".//svg:g[@class='legend']//svg:text",
                                                               NS)]  # fmt: skip
    assert max(legend_y) < HEIGHT and (few.get("width"), few.get("height")) == (
        str(WIDTH),
        str(HEIGHT),
    )


@pytest.mark.parametrize("scheme", list(Scheme))
def test_every_rule_is_scoped_to_the_chart(scheme: Scheme) -> None:
    css = stylesheet("chart-x", ["usage", "cap"], scheme)
    css = re.sub(r"@media \(prefers-color-scheme: dark\)\{(.*)\}$", r"\1", css)
    for rule in filter(None, css.split("}")):
        for selector in rule.split("{")[0].split(","):
            assert selector.startswith("#chart-x"), selector
    assert ("prefers-color-scheme" in stylesheet("chart-x", [], scheme)) is (
        scheme is Scheme.ADAPTIVE
    )


@pytest.mark.parametrize(("count", "most"), [(150, 56), (57, 56), (56, 56), (3, 0), (2000, 7)])
def test_dots_are_spread_evenly_with_the_first_and_last_always(count: int, most: int) -> None:
    chosen = list(dotted(count, most))
    assert chosen[0] == 0 and chosen[-1] == count - 1
    assert chosen == sorted(set(chosen))
    assert len(chosen) <= (most + 1 if most else count)
    if most and count > most:
        gaps = {b - a for a, b in pairwise(chosen[:-1])}
        assert len(gaps) == 1 and max(b - a for a, b in pairwise(chosen)) <= gaps.pop()
