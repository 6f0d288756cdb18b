"""The site's HTML: a subscriber's page, the operator's index and the directory's decoy
index.html. Static, no script, nothing fetched (a Content-Security-Policy that allows no
request at all says so to the browser too), light or dark as the reader's system prefers,
each chart with its plain-language summary and the table of the numbers behind it.

Pure: text in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

FORMAT = 2
"""Goes into every page's fingerprint: a change to what a page looks like redraws them all."""

CSS = """\
body{margin:0 auto;max-width:820px;padding:1em;font-family:DejaVu Sans,Liberation Sans,\
Arial,sans-serif;background:#fff;color:#222;line-height:1.4}
svg{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{padding:.2em .6em;border-bottom:1px solid #ccc;text-align:right}
th:first-child,td:first-child{text-align:left}
caption{text-align:left;font-weight:bold;padding:.3em 0}
.summary{font-size:1.1em}
.age{color:#555}
a{color:#0057a0}
@media (prefers-color-scheme: dark){body{background:#121212;color:#ddd}\
th,td{border-color:#444}.age{color:#aaa}a{color:#8cc8ff}}
"""
POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""No script, no image, font or stylesheet from anywhere: only the inline styles."""


@dataclass(frozen=True, slots=True)
class Table:
    """The numbers behind a chart, for those who cannot see it (and those who prefer them)."""

    caption: str
    head: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True, slots=True)
class Section:
    """One chart on a page: its heading, summary, the SVG and its table."""

    heading: str
    summary: str
    svg: str
    table: Table | None = None


def document(title: str, fingerprint: str, body: str) -> str:
    """A whole page. The fingerprint of its data goes first in <head>, where the site
    writer reads it back to know whether the page is current (nmsquota.report.site)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en">\n<head>\n<meta name="nmsquota-data" content="{fingerprint}">\n'
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # The names are the only key to the pages: kept out of search engines and Referer.
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{escape(title)}</title>\n<style>\n{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def when(moment: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, zone).strftime(f"%a %d %b %Y %H:%M ({zone.key})")


def subscriber_page(name: str, sections: Sequence[Section], as_of: int, zone: ZoneInfo,
                    fingerprint: str) -> str:  # fmt: skip
    age = (f"Figures as of {when(as_of, zone)}. This page is redrawn when you download "
           "something or your limit changes, so an older time means nothing was counted "
           "since then; usage older than a window drops out of it meanwhile.")  # fmt: skip
    body = f'<h1>Internet usage of {escape(name)}</h1>\n<p class="age">{escape(age)}</p>\n'
    body += "".join(section_html(s, f"cap-{i}") for i, s in enumerate(sections))
    return document(f"Internet usage of {name}", fingerprint, body)


def index_page(sections: Sequence[Section], subscribers: Table, links: dict[str, str],
               as_of: int, zone: ZoneInfo, fingerprint: str) -> str:  # fmt: skip
    """`links`: subscriber -> their page's file name, linked from the table's first column."""
    body = ("<h1>nmsquota: the operator's view</h1>\n"
            f'<p class="age">Figures as of {escape(when(as_of, zone))}.</p>\n')  # fmt: skip
    body += "".join(section_html(s, f"chart-{i}") for i, s in enumerate(sections))
    body += table_html(subscribers, links)
    return document("nmsquota: the operator's view", fingerprint, body)


def decoy_page() -> str:
    """DIR/index.html: a web server lists a directory that has none, which would give
    every page's address away. It says where a page's address comes from instead."""
    body = ("<h1>Usage pages</h1>\n<p>Each subscriber's page has its own private address, "
            "which your provider gives you. There is nothing to see here.</p>\n")  # fmt: skip
    return document("Usage pages", "", body)


def section_html(section: Section, anchor: str) -> str:
    table = table_html(section.table) if section.table is not None else ""
    return (
        f'<section aria-labelledby="{anchor}">\n<h2 id="{anchor}">{escape(section.heading)}</h2>\n'
        f'<p class="summary">{escape(section.summary)}</p>\n'
        # The SVG carries its own <title> and <desc> (role="img"): no second caption here.
        f"<figure>\n{section.svg}\n</figure>\n{table}</section>\n"
    )


def table_html(table: Table, links: dict[str, str] | None = None) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.head)
    rows = []
    for row in table.rows:
        first = escape(row[0])
        if links is not None and row[0] in links:
            first = f'<a href="{escape(links[row[0]])}">{first}</a>'
        rest = "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        rows.append(f'<tr><th scope="row">{first}</th>{rest}</tr>\n')
    return (f"<table>\n<caption>{escape(table.caption)}</caption>\n<thead><tr>{head}</tr>"
            f"</thead>\n<tbody>\n{''.join(rows)}</tbody>\n</table>\n")  # fmt: skip
