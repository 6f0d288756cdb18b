"""A chart that follows the reader's light or dark setting (nmsquota.report.darkmode): the
dark rules made from the light SVG are pygal's own dark stylesheet for the same chart."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from fixtures import report_ledger as fx

from nmsquota.config import load_config
from nmsquota.report.darkmode import adaptive, dark_rules
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


def both(reader: Reader, name: str) -> tuple[str, str]:
    snap = reader.snapshot()
    view = snap.subscriber(name)
    assert view is not None and snap.as_of is not None
    samples = reader.samples([name], snap.as_of - 8 * fx.DAY)
    terms = plan_terms(reader.config, view.plan)
    [light] = subscriber_charts(view, samples, reader.events(), snap.as_of, UTC, terms)
    [dark] = subscriber_charts(view, samples, reader.events(), snap.as_of, UTC, terms, True)
    return light.svg, dark.svg


@pytest.mark.parametrize("name", ["dora", "ivan"])
def test_a_subscribers_dark_rules_are_pygals_dark_stylesheet(reader: Reader, name: str) -> None:
    light, dark = both(reader, name)
    made = dark_rules(stylesheet(light), roles=True)
    assert cascade(stylesheet(light) + made) == cascade(stylesheet(dark))
    assert cascade(stylesheet(light)) != cascade(stylesheet(dark))


def test_the_operators_charts_dark_rules_are_pygals_too(reader: Reader) -> None:
    snap = reader.snapshot()
    assert snap.as_of is not None
    samples = reader.samples([v.name for v in snap.subscribers], snap.as_of - 15 * fx.DAY)
    args = (snap, samples, reader.events(), snap.as_of, UTC)
    for light, dark in zip(operator_charts(*args), operator_charts(*args, dark=True), strict=True):
        made = dark_rules(stylesheet(light.svg), roles=light.name in ("daily-volume", "overshoot"))
        assert cascade(stylesheet(light.svg) + made) == cascade(stylesheet(dark.svg)), light.name


def test_the_dark_rules_apply_only_to_a_reader_who_prefers_dark(reader: Reader) -> None:
    light, _ = both(reader, "dora")
    made = adaptive(light)
    assert made.startswith(light[: light.index("</style>")])
    dark = re.search(r"@media \(prefers-color-scheme: dark\)\{[^<]*\}", made)
    assert dark is not None
    assert dark.group(0).startswith(
        "@media (prefers-color-scheme: dark){#chart-nmsquota-dora-7d{background-color:#121212}"
    )
    assert made.replace(dark.group(0), "") == light
