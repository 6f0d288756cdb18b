"""Reports: a subscriber's usage against each cap of their plan and the operator's graphs,
as SVG (the operator's drawn by pygal, a subscriber's written by report/draw.py: see there
why), PNG through cairosvg, read through the read API only.

Every renderer is a pure function of values the read API gives (a snapshot's views, samples,
events) and of "now" (the snapshot's `as_of`): no clock, no file, no network. The SVG they
return needs nothing from outside to display: no script, no web font, no stylesheet link.
"""
