"""The private static site (nmsquota.report.site): pages named by an HMAC under the
secret, self-contained accessible HTML, rewritten only when their data changed."""

from __future__ import annotations

import hashlib
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixtures import report_ledger as fx
from fixtures.report_site import SECRET, UTC, build, reader_of

from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger, Sample
from nmsquota.ledger.records import OverrideRecord, SubscriberRecord
from nmsquota.report.names import index_name, page_name
from nmsquota.report.site import SiteWritten, write_site

OTHER_SECRET = "another secret, as long as the first"


class Parsed(HTMLParser):
    """Every tag with its attributes, and the text, of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return build(tmp_path / "data")


def site(data: Path, secret: str = SECRET) -> SiteWritten:
    return write_site(data / "site", reader_of(data), secret, UTC)


def files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def stamp(path: Path) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_ino, found.st_mtime_ns


def test_each_subscriber_has_a_page_named_by_an_hmac_of_their_name(data: Path) -> None:
    done = site(data)
    assert done.pages == {name: data / "site" / page_name(SECRET, name)
                          for name in ("dora", "ivan")}  # fmt: skip
    pages = {page_name(SECRET, "dora"), page_name(SECRET, "ivan"), index_name(SECRET)}
    assert files(data / "site") == pages | {"index.html", ".nmsquota-site.json"}
    # Nothing derived from the name alone (the name, its unkeyed hash) finds a page.
    unkeyed = hashlib.sha256(b"dora").hexdigest()
    assert not [n for n in files(data / "site") if "dora" in n or unkeyed[:32] in n]
    assert "dora" not in (data / "site" / ".nmsquota-site.json").read_text()


def test_another_secret_gives_other_names_and_removes_the_old_pages(data: Path) -> None:
    first = site(data)
    second = site(data, OTHER_SECRET)
    old = {p.name for p in first.pages.values()} | {first.index.name}
    new = {p.name for p in second.pages.values()} | {second.index.name}
    assert not old & new
    assert sorted(second.removed) == sorted(old)
    assert files(data / "site") == new | {"index.html", ".nmsquota-site.json"}


def test_a_page_is_html_that_needs_nothing_from_outside(data: Path) -> None:
    text = site(data).pages["ivan"].read_text()
    page = Parsed(text)
    assert page.named("html") == [{"lang": "en"}]
    assert "".join(page.text).count("Internet usage of ivan") == 2  # <title> and <h1>
    assert not page.named("script") and not page.named("link") and not page.named("img")
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert addresses == {"http://www.w3.org/2000/svg"}


def test_a_page_has_the_chart_its_summary_and_the_numbers_behind_it(data: Path) -> None:
    html = site(data).pages["dora"].read_text()
    page = Parsed(html)
    assert page.named("svg")[0]["role"] == "img"
    # The chart's own title and description, first in it, for screen readers.
    assert re.search(r"<svg [^>]*><title>dora: 2.1 GB of 5 GB \(7d\)</title><desc>2.1 GB of "
                     "5 GB used in the last 7 days", html)  # fmt: skip
    text = "".join(page.text)
    assert "2.1 GB of 5 GB used in the last 7 days; at this pace" in text
    assert "Usage per day in the 7d window" in text
    # One row per local day of the window, the last ending with the window's total.
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[^<]+</td><td>([^<]+)</td>', html)
    assert [day for day, _ in rows] == [f"{d} Jan" for d in
                                        ("Fri 08", "Sat 09", "Sun 10", "Mon 11", "Tue 12",
                                         "Wed 13", "Thu 14", "Fri 15")]  # fmt: skip
    assert rows[-1][1] == "2.1 GB"


def test_a_page_is_light_or_dark_as_the_reader_prefers(data: Path) -> None:
    text = site(data).pages["dora"].read_text()
    # The page's own colours and, inside the SVG's stylesheet, the chart's.
    assert text.count("@media (prefers-color-scheme: dark)") == 2
    assert '<meta name="color-scheme" content="light dark">' in text


def test_the_operators_index_links_every_page_and_index_html_none(data: Path) -> None:
    done = site(data)
    index = Parsed(done.index.read_text())
    assert {a["href"] for a in index.named("a")} == {p.name for p in done.pages.values()}
    assert len(index.named("svg")) == 4
    decoy = Parsed((data / "site" / "index.html").read_text())
    assert not decoy.named("a")


def test_pages_whose_data_did_not_change_are_left_alone(data: Path) -> None:
    done = site(data)
    before = {path: stamp(path) for path in [*done.pages.values(), done.index]}
    again = site(data)
    assert again.drawn == [] and not again.index_drawn and again.kept == 2
    assert {path: stamp(path) for path in before} == before


def test_a_subscriber_who_moved_bytes_gets_a_new_page_and_the_others_keep_theirs(
    data: Path,
) -> None:
    done = site(data)
    dora = stamp(done.pages["dora"])
    later = fx.AS_OF + fx.HOUR
    with Ledger.open_writer(data / "ledger") as ledger:
        ledger.commit(later, [Sample("ivan", later, 100 * fx.MB, 0), Sample("dora", later, 0, 0)])
    again = site(data)
    assert again.drawn == ["ivan"] and again.index_drawn
    assert stamp(done.pages["dora"]) == dora
    assert "Figures as of Fri 15 Jan 2027 13:00 (UTC)" in done.pages["ivan"].read_text()
    assert "Figures as of Fri 15 Jan 2027 12:00 (UTC)" in done.pages["dora"].read_text()


def test_a_change_of_standing_without_usage_rewrites_the_page(data: Path) -> None:
    site(data)
    with Ledger.open_writer(data / "ledger") as ledger, ledger.batch():
        ledger.records.set_overrides([OverrideRecord(
            subscriber="dora", kind="topup", reason="bought 3 GB", since=fx.AS_OF - fx.DAY,
            until=fx.AS_OF + 3 * fx.DAY, bytes=3 * fx.GB)])  # fmt: skip
        ledger.commit(fx.AS_OF + fx.HOUR, [])
    done = site(data)
    assert "dora" in done.drawn
    assert "A top-up adds 3 GB" in done.pages["dora"].read_text()


def test_a_page_missing_from_the_directory_is_written_again(data: Path) -> None:
    done = site(data)
    done.pages["dora"].unlink()
    assert site(data).drawn == ["dora"]


def test_a_short_secret_is_refused_and_writes_nothing(data: Path) -> None:
    with pytest.raises(UsageError, match="16 or more"):
        site(data, "short")
    assert not (data / "site").exists()


def commit(data: Path, when: int, *samples: Sample) -> None:
    with Ledger.open_writer(data / "ledger") as ledger:
        ledger.commit(when, list(samples))


def test_the_index_is_redrawn_for_new_usage_once_an_hour_at_most(data: Path) -> None:
    index = site(data).index
    drawn = stamp(index)
    soon = fx.AS_OF + 300
    commit(data, soon, Sample("ivan", soon, fx.MB, 0))
    assert (site(data).drawn, site(data).index_drawn) == (["ivan"], False)
    assert stamp(index) == drawn
    later = fx.AS_OF + fx.HOUR
    commit(data, later, Sample("ivan", later, fx.MB, 0))
    assert site(data).index_drawn
    assert "Figures as of Fri 15 Jan 2027 13:00 (UTC)" in index.read_text()


def test_a_new_subscriber_is_linked_from_the_index_at_once(data: Path) -> None:
    site(data)
    soon = fx.AS_OF + 300
    with Ledger.open_writer(data / "ledger") as ledger, ledger.batch():
        ledger.records.set_provisioned([*ledger.records.provisioned(),
                                        SubscriberRecord(name="nell", plan="week")])  # fmt: skip
        ledger.commit(soon, [Sample("nell", soon, fx.MB, 0)])
    done = site(data)
    assert done.index_drawn and done.drawn == ["nell"] and sorted(done.pages) == [
        "dora", "ivan", "nell"]  # fmt: skip
    assert done.pages["nell"].name in done.index.read_text()
