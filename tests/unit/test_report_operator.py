"""The operator's graphs: daily volume with the subscribers limited, the top users, usage
as a share of cap, overshoot per limit at a cap; from the reports' ledger
(tests/fixtures/report_ledger.py: dora under her cap, ivan limited at it since Wednesday)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from fixtures import report_ledger as fx

from nmsquota.config import load_config
from nmsquota.ledger.records import EventKind, EventRecord, Limit
from nmsquota.report import fleet
from nmsquota.report.operator import (
    OperatorChart,
    operator_charts,
    share_chart,
    top_users_chart,
)
from nmsquota.standings import Reader

NS = {"svg": "http://www.w3.org/2000/svg"}
UTC = ZoneInfo("UTC")
DAYS = [date(2027, 1, d) for d in range(9, 16)]
"""Saturday 9 to Friday 15 January 2027, the last the day of the ledger's last commit."""


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OperatorChart]:
    data = fx.build(tmp_path_factory.mktemp("report"))
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    reader = Reader.open(Path(data / "ledger"), config)
    snap = reader.snapshot()
    samples = reader.samples(["dora", "ivan"], fx.AS_OF - 14 * fx.DAY)
    found = operator_charts(snap, samples, reader.events(), fx.AS_OF, UTC, days=7, top=2)
    return {chart.name: chart for chart in found}


def texts(svg: str, where: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [t.text or "" for t in root.iterfind(f".//svg:g[@class='{where}']//svg:text", NS)]


def values(svg: str, serie: int) -> list[str]:
    """The values written for the bars of series number `serie`, in order."""
    root = ElementTree.fromstring(svg)
    groups = [g for g in root.iter(f"{{{NS['svg']}}}g")
              if f"serie-{serie} " in g.get("class", "") + " "]  # fmt: skip
    return [d.text or "" for g in groups for d in g.iterfind(".//svg:desc[@class='value']", NS)]


def test_the_days_are_the_local_days_up_to_the_last_commit() -> None:
    assert fleet.days_until(fx.AS_OF, 7, UTC) == DAYS


def test_daily_volume_counts_each_days_download_per_subscriber() -> None:
    volumes = fleet.daily_volumes(fx.ivan_samples(), DAYS, UTC)
    assert volumes[date(2027, 1, 9)] == {"ivan": 17 * fx.IVAN_HOURLY}
    assert volumes[date(2027, 1, 15)] == {"ivan": 6 * fx.IVAN_HOURLY}  # 07:00 to 12:00


def test_a_limit_counts_on_each_day_it_was_in_force() -> None:
    events = [EventRecord(time=fx.AS_OF - 5 * fx.DAY, kind=EventKind.LIMIT_APPLIED, text="",
                          subscriber="a"),
              EventRecord(time=fx.AS_OF - 4 * fx.DAY, kind=EventKind.LIMIT_LIFTED, text="",
                          subscriber="a")]  # fmt: skip
    held = [Limit(subscriber="b", since=fx.AS_OF - fx.DAY, reason="over cap", driver="tc")]
    spans = fleet.limited_spans(events, held, fx.AS_OF)
    counts = fleet.limited_per_day(spans, DAYS, UTC)
    assert [counts[day] for day in DAYS] == [0, 1, 1, 0, 0, 1, 1]


def test_shares_of_cap_fall_in_ten_percent_bins_and_one_past_the_cap() -> None:
    assert fleet.share_bins([0, 10, 10.5, 42, 100, 142.8]) == [2, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1]


def test_the_daily_volume_chart_names_the_subscribers_limited_each_day(
    charts: dict[str, OperatorChart],
) -> None:
    chart = charts["daily-volume"]
    labels = texts(chart.svg, "axis x always_show") or texts(chart.svg, "axis x")
    assert labels[0] == "Sat 09 Jan: 0 limited"
    assert labels[4:] == ["Wed 13 Jan: 1 limited", "Thu 14 Jan: 1 limited",
                          "Fri 15 Jan: 1 limited"]  # fmt: skip
    assert "downloaded in 7 days" in chart.summary


def test_the_top_users_chart_has_the_biggest_first_with_its_daily_volume(
    charts: dict[str, OperatorChart],
) -> None:
    chart = charts["top-users"]
    legend = texts(chart.svg, "legends")
    assert legend[0].startswith("ivan: ") and legend[1].startswith("dora: ")
    ivan = values(chart.svg, 0)
    assert ivan[0] == "1 GB" and ivan[-1] == "360 MB"


def test_the_share_chart_puts_each_subscriber_in_their_bin(
    charts: dict[str, OperatorChart],
) -> None:
    chart = charts["share-of-cap"]
    counts = values(chart.svg, 0)
    labels = fleet.bin_labels()
    assert counts[labels.index("40-50%")] == "1"  # dora: 2.1 GB of 5 GB
    assert counts[labels.index("over 100%")] == "1"  # ivan: 7.1 GB of 5 GB
    assert chart.summary == "1 of 2 past the 7d cap."


def test_the_overshoot_chart_shows_how_far_past_the_cap_in_force_a_limit_let_usage_go(
    charts: dict[str, OperatorChart],
) -> None:
    chart = charts["overshoot"]
    # Ivan's limit began at the cap in force (5 GB and a 1 GB top-up); his window held
    # 119 counted hours of 60 MB by the last commit.
    past = 119 * fx.IVAN_HOURLY - (fx.CAP + fx.IVAN_TOPUP)
    assert texts(chart.svg, "axis x always_show") + texts(chart.svg, "axis x") == [
        "ivan 7d Wed 12:00"
    ]
    assert values(chart.svg, 0) == [f"{past / 10**9:.1f} GB"]


def test_no_chart_reaches_outside_itself(charts: dict[str, OperatorChart]) -> None:
    for chart in charts.values():
        assert "<script" not in chart.svg
        addresses = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", chart.svg))
        assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
        root = ElementTree.fromstring(chart.svg)
        assert root.findtext("svg:title", namespaces=NS)
        assert root.findtext("svg:desc", namespaces=NS) == chart.summary


def test_top_users_and_share_of_cap_with_nothing_to_show_say_so_and_draw() -> None:
    # A ledger of one idle cycle: pygal failed on axis labels for a chart with no series.
    nobody = top_users_chart({date(2027, 1, 15): {}}, 5)
    assert nobody.summary == "Nobody downloaded anything." and "No data" in nobody.svg
    assert share_chart({}).summary == "No subscriber on a plan."
