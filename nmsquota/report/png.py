"""A report's SVG as a PNG (issue 22, item 4), to attach to a notice: e-mail clients show
PNG attachments inline where many show no SVG."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from nmsquota.report.style import SVG_NS


def stacked(svgs: Sequence[str], width: int = 800, height: int = 500) -> str:
    """Several charts of `width` x `height` one above the other, as one SVG (a subscriber's
    caps in one file or one attachment). Each keeps its own title, description and
    stylesheet, which pygal scopes to the chart's id."""
    if len(svgs) == 1:
        return svgs[0]
    ElementTree.register_namespace("", SVG_NS)
    outer = ElementTree.Element(f"{{{SVG_NS}}}svg", {
        "width": str(width), "height": str(height * len(svgs)),
        "viewBox": f"0 0 {width} {height * len(svgs)}",
    })  # fmt: skip
    for index, svg in enumerate(svgs):
        inner = ElementTree.fromstring(svg)
        inner.set("x", "0")
        inner.set("y", str(index * height))
        inner.set("width", str(width))
        inner.set("height", str(height))
        outer.append(inner)
    return ElementTree.tostring(outer, encoding="unicode")


def png_of(svg: str) -> bytes:
    """The SVG drawn by cairosvg at its own size. Nothing outside it is fetched: the
    reports' SVG names nothing outside itself, and cairosvg's `unsafe` stays off."""
    import cairosvg  # cairo is loaded only by those who ask for a PNG

    found: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), unsafe=False)
    return found
