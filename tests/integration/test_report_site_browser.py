"""The report site as a subscriber's and an operator's browser shows it: Debian's headless
Chromium, with no network (tests/fixtures/browser.py), renders a subscriber's page and the
operator's index in light and dark; each shows its graphs (pixels drawn where the charts
are), asks for nothing but itself, and prints no console error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.browser import Rendered, render
from fixtures.pixels import background_of, inked_share
from fixtures.report_site import SECRET, UTC, build, reader_of

from nmsquota.report.site import write_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path], Path]:
    """The reports' ledger (dora, on a pace to her cap; ivan, limited, with a top-up) and
    its site: (directory, subscriber -> page, the operator's index)."""
    data = build(tmp_path_factory.mktemp("report") / "data")
    written = write_site(data / "site", reader_of(data), SECRET, UTC)
    return written.directory, written.pages, written.index


def looks_whole(rendered: Rendered) -> None:
    assert rendered.outside == (), rendered.outside  # not a font, not a script, nothing
    assert rendered.console_errors == ()
    assert rendered.failed == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_subscribers_page_shows_the_graph_and_asks_for_nothing(
    site: tuple[Path, dict[str, Path], Path], scheme: str
) -> None:
    _, pages, _ = site
    page = pages["dora"]
    html = page.read_text()
    assert "you reach the cap" in html  # the plain-language summary is on the page
    rendered = render(page, width=900, height=1400, color_scheme=scheme, full_page=True)
    looks_whole(rendered)
    # The chart, its lines and its labels draw a real share of the page, not a blank one.
    assert inked_share(rendered.screenshot) > 0.02
    red, green, blue = background_of(rendered.screenshot)
    dark = red + green + blue < 3 * 96
    assert dark is (scheme == "dark")


def test_a_limited_subscribers_page_and_the_operators_index_render_whole(
    site: tuple[Path, dict[str, Path], Path],
) -> None:
    directory, pages, index = site
    for page in (pages["ivan"], index):
        rendered = render(page, width=1000, height=1600, full_page=True)
        looks_whole(rendered)
        assert inked_share(rendered.screenshot) > 0.02
    # The index.html a web server serves for the directory lists no page.
    decoy = render(directory / "index.html")
    looks_whole(decoy)
    assert not any(path.name in (directory / "index.html").read_text()
                   for path in pages.values())  # fmt: skip
