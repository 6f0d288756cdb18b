"""A subscriber's graph per cap and its summary, drawn from a ledger built through the
ledger API (tests/fixtures/report_ledger.py) and read through the read API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from fixtures import report_ledger as fx

from nmsquota.config import load_config
from nmsquota.report.draw import Scheme
from nmsquota.report.subscriber import CapChart, day_words, subscriber_charts
from nmsquota.standings import Reader
from nmsquota.standings.terms import plan_terms

NS = {"svg": "http://www.w3.org/2000/svg"}
UTC_ZONE = ZoneInfo("UTC")


def charts_of(data: Path, name: str, scheme: Scheme = Scheme.ADAPTIVE) -> list[CapChart]:
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    reader = Reader.open(data / "ledger", config)
    snap = reader.snapshot()
    view = snap.subscriber(name)
    assert view is not None and snap.as_of is not None
    samples = reader.samples([name], snap.as_of - 8 * fx.DAY)
    return subscriber_charts(view, samples, reader.events(), snap.as_of, UTC_ZONE,
                             plan_terms(config, view.plan), scheme)  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def dora(data: Path) -> CapChart:
    [chart] = charts_of(data, "dora")
    return chart


@pytest.fixture(scope="module")
def ivan(data: Path) -> CapChart:
    [chart] = charts_of(data, "ivan")
    return chart


def svg_of(chart: CapChart) -> ElementTree.Element:
    return ElementTree.fromstring(chart.svg)


def legend(root: ElementTree.Element) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//svg:g[@class='legend']//svg:text", NS)]


def drawn(root: ElementTree.Element, label: str) -> ElementTree.Element:
    """The plot's group of the series whose legend starts with `label` (in legend order)."""
    index = next(i for i, text in enumerate(legend(root)) if text.startswith(label))
    plot = root.find(".//svg:g[@class='plot']", NS)
    assert plot is not None
    return list(plot)[index]


def series(root: ElementTree.Element, label: str) -> list[str]:
    """The values (`time: amount`) of the series whose legend starts with `label`: each
    dot's title, which a browser shows on hover."""
    return [t.text or "" for t in drawn(root, label).iterfind("svg:circle/svg:title", NS)]


def guide_height(root: ElementTree.Element, label: str) -> float:
    """Where the y axis's guide labelled `label` is drawn."""
    for guide in root.iterfind(".//svg:g[@class='axis y']/svg:g[@class='guide']", NS):
        if guide.findtext("svg:text", namespaces=NS) == label:
            path = guide.find("svg:path", NS)
            assert path is not None
            return float(path.get("d", "").split()[1])
    raise AssertionError(f"no guide {label!r} on the y axis")


def line_height(root: ElementTree.Element, label: str) -> float:
    """Where the level series whose legend is `label` is drawn (its first point)."""
    path = drawn(root, label).find("svg:path", NS)
    assert path is not None
    return float(path.get("d", "").split()[1].split("L")[0])


def test_the_summary_says_the_usage_the_cap_and_the_day_the_pace_reaches_it(
    dora: CapChart,
) -> None:
    # 2.1 GB counted, 900 MB in the last day while 200 MB a day leaves the window.
    net_per_day = fx.DORA_LAST_DAY - fx.DORA_EARLIER_PER_DAY
    when = fx.AS_OF + (fx.CAP - 2_100_000_000) / net_per_day * fx.DAY
    day = datetime.fromtimestamp(when, UTC).strftime("%A")
    assert dora.summary.startswith("2.1 GB of 5 GB used in the last 7 days; ")
    assert f"at this pace (900 MB a day) you reach the cap on {day} at " in dora.summary


def test_the_summary_says_which_hours_are_free_and_what_they_held(dora: CapChart) -> None:
    free = 7 * fx.DORA_NIGHTLY  # a download each night of the week at 03:00
    assert f"Usage between 00:00 and 07:00 is free ({free // 10**6} MB of it" in dora.summary


def test_the_summary_names_the_first_step_while_under_it(dora: CapChart) -> None:
    assert "From 80% of the cap (4 GB) the speed is held to 10 Mbit/s." in dora.summary


def test_the_chart_has_a_title_and_its_summary_as_description(dora: CapChart) -> None:
    root = svg_of(dora)
    assert root.findtext("svg:title", namespaces=NS) == "dora: 2.1 GB of 5 GB (7d)"
    assert root.findtext("svg:desc", namespaces=NS) == dora.summary
    assert root[0].tag == f"{{{NS['svg']}}}title"


def test_the_counted_series_ends_at_the_usage_in_the_window(dora: CapChart) -> None:
    values = series(svg_of(dora), "Counted")
    assert values[0] == "Fri 08 Jan 12:00: 0 B"
    assert values[-1] == "Fri 15 Jan 12:00: 2.1 GB"


def test_off_peak_usage_is_drawn_as_free_beside_the_counted(dora: CapChart) -> None:
    root = svg_of(dora)
    assert "Free 00:00-07:00, not counted: 350 MB" in legend(root)
    assert series(root, "Free 00:00-07:00")[-1].endswith(": 350 MB")


def test_the_cap_and_the_steps_are_lines_at_their_levels(dora: CapChart) -> None:
    root = svg_of(dora)
    assert "Cap: 5 GB" in legend(root)
    assert "Step 80% (4 GB): 10 Mbit/s" in legend(root)
    assert line_height(root, "Cap: 5 GB") == guide_height(root, "5 GB")


def test_the_pace_is_drawn_to_the_cap(dora: CapChart) -> None:
    assert "At this pace" in legend(svg_of(dora))


def test_a_limited_subscriber_sees_the_limit_applied_and_when_it_lifts(ivan: CapChart) -> None:
    root = svg_of(ivan)
    [applied] = series(root, "Limit applied")
    assert applied.startswith("Wed 13 Jan 12:00: ")
    lift = next(label for label in legend(root) if label.startswith("Lifts "))
    assert lift.endswith("if nothing more is downloaded")
    assert "your speed is held to 1 Mbit/s since Wednesday at 12:00" in ivan.summary
    assert "if you download nothing more it lifts " in ivan.summary
    assert "At this pace" not in legend(root)


def test_a_top_up_is_shown_as_the_raised_cap_and_said_in_the_summary(ivan: CapChart) -> None:
    assert "Cap with top-ups: 6 GB" in legend(svg_of(ivan))
    assert "A top-up adds 1 GB until Monday at 12:00 (0 B of it left)." in ivan.summary


def test_the_svg_needs_nothing_from_outside(dora: CapChart, ivan: CapChart) -> None:
    for chart in (dora, ivan):
        assert "<script" not in chart.svg
        addresses = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", chart.svg))
        assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_same_data_draws_the_same_bytes(data: Path, dora: CapChart) -> None:
    assert charts_of(data, "dora")[0].svg == dora.svg


def test_the_dark_style_has_a_dark_background(data: Path) -> None:
    [dark] = charts_of(data, "dora", Scheme.DARK)
    assert ".background{fill:#121212" in dark.svg.replace(" ", "")
    assert "prefers-color-scheme" not in dark.svg


@pytest.mark.parametrize(
    ("hours", "said"),
    [(3, "today at 15:00"), (24, "tomorrow at 12:00"), (72, "on Monday at 12:00"),
     (-48, "on Wednesday at 12:00"), (24 * 9, "on Sun 24 Jan at 12:00")],
)  # fmt: skip
def test_moments_are_said_as_people_say_them(hours: int, said: str) -> None:
    assert day_words(fx.AS_OF + hours * 3600, fx.AS_OF, UTC_ZONE) == said
