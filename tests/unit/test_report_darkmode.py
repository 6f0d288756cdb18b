"""Charts that follow the reader's light or dark setting: the operator's (pygal's, through
nmsquota.report.darkmode), whose dark rules made from the light SVG are pygal's own dark
stylesheet for the same chart; and a subscriber's (nmsquota.report.draw), whose adaptive
stylesheet is its light one, and its dark one for a reader who prefers dark."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from fixtures import report_ledger as fx

from nmsquota.config import load_config
from nmsquota.report.darkmode import adaptive, dark_rules
from nmsquota.report.draw import Scheme
from nmsquota.report.operator import operator_charts
from nmsquota.report.subscriber import subscriber_charts
from nmsquota.standings import Reader
from nmsquota.standings.terms import plan_terms

UTC = ZoneInfo("UTC")
STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    data = fx.build(tmp_path_factory.mktemp("dark"))
    return Reader.open(data / "ledger", load_config(data / "nmsquota.toml", check_drivers=False))


COLOURS = {"fill", "stroke", "background-color", "color"}


def cascade(css: str) -> dict[tuple[str, str], str]:
    """(selector, colour property) -> the value the rules set last, as a browser applies
    them; but value labels drawn over bars (pygal picks their text's contrast itself, and
    the reports print no values)."""
    found = {}
    for rule in css.split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        for declaration in body.split(";"):
            prop, _, value = declaration.partition(":")
            if prop.strip() in COLOURS:
                for selector in selectors.split(","):
                    if "text-overlay" not in selector:
                        found[selector.strip(), prop.strip()] = value.strip()
    return found


def stylesheet(svg: str) -> str:
    found = STYLE.search(svg)
    assert found is not None
    return found.group(1)


def drawn(reader: Reader, name: str, scheme: Scheme) -> str:
    snap = reader.snapshot()
    view = snap.subscriber(name)
    assert view is not None and snap.as_of is not None
    samples = reader.samples([name], snap.as_of - 8 * fx.DAY)
    terms = plan_terms(reader.config, view.plan)
    [chart] = subscriber_charts(view, samples, reader.events(), snap.as_of, UTC, terms, scheme)
    return chart.svg


DARK_BLOCK = re.compile(r"@media \(prefers-color-scheme: dark\)\{(.*)\}$", re.S)


@pytest.mark.parametrize("name", ["dora", "ivan"])
def test_a_subscribers_chart_is_the_light_one_or_for_a_dark_reader_the_dark_one(
    reader: Reader, name: str
) -> None:
    light = stylesheet(drawn(reader, name, Scheme.LIGHT))
    dark = stylesheet(drawn(reader, name, Scheme.DARK))
    both = stylesheet(drawn(reader, name, Scheme.ADAPTIVE))
    block = DARK_BLOCK.search(both)
    assert block is not None
    always = both[: block.start()]
    assert cascade(always) == cascade(light)
    assert cascade(always + block.group(1)) == cascade(dark)
    assert cascade(light) != cascade(dark)
    assert cascade(dark)["#chart-nmsquota-" + name + "-7d .background", "fill"] == "#121212"


def test_the_operators_charts_dark_rules_are_pygals_too(reader: Reader) -> None:
    snap = reader.snapshot()
    assert snap.as_of is not None
    samples = reader.samples([v.name for v in snap.subscribers], snap.as_of - 15 * fx.DAY)
    args = (snap, samples, reader.events(), snap.as_of, UTC)
    for light, dark in zip(operator_charts(*args), operator_charts(*args, dark=True), strict=True):
        made = dark_rules(stylesheet(light.svg), roles=light.name in ("daily-volume", "overshoot"))
        assert cascade(stylesheet(light.svg) + made) == cascade(stylesheet(dark.svg)), light.name


def test_the_dark_rules_apply_only_to_a_reader_who_prefers_dark(reader: Reader) -> None:
    light = drawn(reader, "dora", Scheme.LIGHT)
    made = drawn(reader, "dora", Scheme.ADAPTIVE)
    assert made.startswith(light[: light.index("</style>")])
    dark = re.search(r"@media \(prefers-color-scheme: dark\)\{[^<]*\}", made)
    assert dark is not None
    assert dark.group(0).startswith(
        "@media (prefers-color-scheme: dark){#chart-nmsquota-dora-7d .background{fill:#121212}"
    )
    assert made.replace(dark.group(0), "") == light


def test_the_operators_adaptive_chart_is_its_light_one_with_dark_rules_for_a_dark_reader(
    reader: Reader,
) -> None:
    snap = reader.snapshot()
    assert snap.as_of is not None
    samples = reader.samples([v.name for v in snap.subscribers], snap.as_of - 15 * fx.DAY)
    light = operator_charts(snap, samples, reader.events(), snap.as_of, UTC)[0].svg
    made = adaptive(light)
    dark = re.search(r"@media \(prefers-color-scheme: dark\)\{[^<]*\}", made)
    assert dark is not None
    assert made.replace(dark.group(0), "") == light
