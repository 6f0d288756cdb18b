"""A pygal chart (the operator's) that follows the reader's light or dark setting: the light
SVG with, inside its own stylesheet, the dark style's colours under
`@media (prefers-color-scheme: dark)`.

Why not both renderings on the page, one hidden: pygal draws the same shapes for either
style (only its stylesheet differs), drawing is most of a page's cost, and one copy keeps a
page half the size. The dark rules are the light ones with each colour swapped for its dark
counterpart (nmsquota.report.style's pairs); a test holds the result to pygal's own dark
stylesheet.
"""

from __future__ import annotations

import re

from nmsquota.report.style import ROLES, dark_pairs

STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
COLOUR = re.compile(r"(?<=[:,\s])(#[0-9A-Fa-f]{3,6}|white|black)(?=[;}\s!,])")
SERIES_RULE = re.compile(r"\.color-\d+")


def adaptive(svg: str, roles: bool = True) -> str:
    """`svg` (drawn light) with its dark colours for a reader who prefers dark. `roles`:
    its series are coloured by role (ROLES), which have dark counterparts; False for a
    chart coloured from PALETTE, whose series keep their colours on either page."""
    found = STYLE.search(svg)
    if found is None:
        return svg
    head, css, tail = found.groups()
    dark = dark_rules(css, roles)
    return f"{svg[: found.start()]}{head}{css}@media (prefers-color-scheme: dark){{{dark}}}" \
        f"{tail}{svg[found.end() :]}"  # fmt: skip


def dark_rules(css: str, roles: bool) -> str:
    """The rules of `css` that name a colour, with the dark one in its place."""
    page = dark_pairs()
    series = {light: dark for light, dark in ROLES.values()} if roles else {}
    rules = []
    for body in css.split("}"):
        rule = body.strip() + "}"
        if "{" not in rule or COLOUR.search(rule) is None:
            continue
        swap = {**page, **series} if SERIES_RULE.search(rule.split("{")[0]) else page
        rules.append(_swapped(rule, swap))
    return "".join(rules)


def _swapped(rule: str, swap: dict[str, str]) -> str:
    return COLOUR.sub(lambda m: swap.get(m.group(0), m.group(0)), rule)
