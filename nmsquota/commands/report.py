"""`nmsquota report subscriber|operator`: the graphs of nmsquota.report from the ledger's
last commit, written as SVG (or PNG) files whole or not at all."""

from __future__ import annotations

import argparse
from pathlib import Path

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    ledger_location,
    reader_of,
    zone_of,
)
from nmsquota.errors import NmsquotaError, UsageError

DAY = 86400


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "report", help="write a subscriber's usage graph or the operator's graphs (SVG, PNG)",
        description="Graphs of the ledger's last commit (the operator's drawn with pygal): SVG "
        "files that "
        "need nothing from outside (no script, no web font), each with a title and a "
        "description for screen readers. Written whole or not at all (a temporary file, "
        "then a rename).",
    )  # fmt: skip
    reports = parser.add_subparsers(title="reports", metavar="REPORT", required=True)
    subscriber = reports.add_parser(
        "subscriber", help="one subscriber's usage against each cap of their plan",
        description="One graph per cap of the subscriber's plan: the usage counted in the "
        "cap's window, cumulative, against the cap line and its steps; top-ups; where a "
        "limit was applied and when it lifts if nothing more is downloaded; usage in the "
        "free hours apart; where the pace of the last day reaches the cap. The graphs are "
        "one file, one above the other; the summary of each (\"2.1 GB of 5 GB used in "
        "the last 7 days; at this pace you reach the cap on Friday ...\") is printed.",
    )  # fmt: skip
    subscriber.add_argument("name", metavar="NAME", help="the subscriber")
    subscriber.add_argument(
        "-o", "--output", metavar="FILE", type=Path,
        help="where to write it (default: NAME.svg, or NAME.png with --png)",
    )  # fmt: skip
    subscriber.add_argument(
        "--png", action="store_true", help="a PNG (to attach to a notice) instead of SVG"
    )
    subscriber.add_argument(
        "--dark", action="store_true",
        help="light text on a dark page (without it the SVG follows the viewer's light or "
        "dark setting; a PNG is light)",
    )  # fmt: skip
    add_ledger_options(subscriber)
    subscriber.set_defaults(handler=run_subscriber)
    operator = reports.add_parser(
        "operator", help="the ISP's daily volume, top users, share of cap, overshoot",
        description="Four SVG files in DIR: daily-volume.svg (all subscribers' download "
        "per day, with how many were limited each day), top-users.svg (the biggest users' "
        "daily volume), share-of-cap.svg (how many subscribers in each tenth of their "
        "cap, per cap) and overshoot.svg (how far past the cap in force usage went in "
        "each limit at a cap). Days are local days of the configuration's time zone, the "
        "last one the day of the ledger's last commit. A summary of each is printed.",
    )  # fmt: skip
    operator.add_argument(
        "-o", "--output", metavar="DIR", type=Path, default=Path("."),
        help="the directory to write them in (default: the current one)",
    )  # fmt: skip
    operator.add_argument(
        "--top", metavar="N", type=int, default=5, help="biggest users shown (default 5)"
    )
    operator.add_argument("--days", metavar="N", type=int, default=7, help="days shown (default 7)")
    operator.add_argument("--dark", action="store_true", help="light text on a dark page")
    add_ledger_options(operator)
    operator.set_defaults(handler=run_operator)
    site = reports.add_parser(
        "site", help="the private static site: a page per subscriber, the operator's index",
        description="Writes DIR (default: site under [report]): one HTML page per "
        "subscriber on a plan (each cap's graph, its summary and a table of the numbers "
        "behind it) and the operator's index (the operator's graphs and every subscriber, "
        "linked to their page). No script, nothing fetched from anywhere, light or dark as "
        "the reader's system prefers. A page's file name is an HMAC of the subscriber's "
        "name under [report] secret (from the secrets file): nobody finds a page without "
        "being given its address (`report url`), and a new secret gives every page a new "
        "one, the old pages removed. DIR/index.html lists nothing. Each file is written "
        "whole (a temporary file, then a rename), and only when its data changed: a "
        "subscriber who moved nothing and whose standing is the same keeps their page, "
        "which states the time of its figures. `nmsquota run` does this after each "
        "cycle when site is set under [report].",
    )  # fmt: skip
    site.add_argument("directory", metavar="DIR", type=Path, nargs="?",
                      help="the site's directory (made if missing)")  # fmt: skip
    add_ledger_options(site)
    site.set_defaults(handler=run_site)
    url = reports.add_parser(
        "url", help="print the address of a subscriber's page (or the operator's index)",
        description="[report] url, then the page's file name (an HMAC of NAME under "
        "[report] secret): the link to give the subscriber.",
    )  # fmt: skip
    url.add_argument("name", metavar="NAME", nargs="?", help="the subscriber")
    url.add_argument("--operator", action="store_true", help="the operator's index instead")
    add_ledger_options(url)
    url.set_defaults(handler=run_url)


def run_subscriber(args: argparse.Namespace) -> int:
    from nmsquota.report.draw import Scheme
    from nmsquota.report.files import write_atomically
    from nmsquota.report.png import png_of, stacked
    from nmsquota.report.subscriber import subscriber_charts
    from nmsquota.standings.terms import plan_terms

    config = config_of(args, check_drivers=False)
    reader = reader_of(ledger_location(args, config), config)
    snap = reader.snapshot()
    view = snap.subscriber(args.name)
    if view is None:
        raise UsageError(f"no subscriber {args.name!r} in the ledger or the configuration")
    if not view.caps:
        raise UsageError(f"{args.name} has no plan in the configuration: no cap to draw")
    if snap.as_of is None:
        raise NmsquotaError("the ledger has no commit yet: no usage to draw")
    after = min(cap.tally.edge_at(snap.as_of) for cap in view.caps)
    charts = subscriber_charts(
        view, reader.samples([view.name], after), reader.events(), snap.as_of,
        zone_of(args, config), plan_terms(config, view.plan),
        Scheme.DARK if args.dark else Scheme.LIGHT if args.png else Scheme.ADAPTIVE,
    )  # fmt: skip
    svg = stacked([chart.svg for chart in charts])
    output = args.output or Path(f"{view.name}.{'png' if args.png else 'svg'}")
    write_atomically(output, png_of(svg) if args.png else svg.encode("utf-8"))
    for chart in charts:
        print(f"{chart.label}: {chart.summary}")
    print(f"wrote {output}")
    return 0


def run_operator(args: argparse.Namespace) -> int:
    from nmsquota.report.files import write_atomically
    from nmsquota.report.fleet import day_start, days_until
    from nmsquota.report.operator import operator_charts

    if args.days < 1 or args.top < 1:
        raise UsageError("--days and --top take a whole number, 1 or more")
    config = config_of(args, check_drivers=False)
    reader = reader_of(ledger_location(args, config), config)
    snap = reader.snapshot()
    if snap.as_of is None:
        raise NmsquotaError("the ledger has no commit yet: no usage to draw")
    if not args.output.is_dir():
        raise UsageError(f"-o {args.output}: not a directory")
    zone = zone_of(args, config)
    first = day_start(days_until(snap.as_of, args.days, zone)[0], zone)
    # The overshoot of a limit early in the first day needs its cap's window before it.
    longest = max((cap.tally.window for view in snap.subscribers for cap in view.caps),
                  default=DAY)  # fmt: skip
    names = [view.name for view in snap.subscribers]
    samples = reader.samples(names, first - longest)
    charts = operator_charts(snap, samples, reader.events(), snap.as_of, zone,
                             days=args.days, top=args.top, dark=args.dark)  # fmt: skip
    for chart in charts:
        path = args.output / f"{chart.name}.svg"
        write_atomically(path, chart.svg.encode("utf-8"))
        print(f"{path}: {chart.summary}")
    return 0


def run_site(args: argparse.Namespace) -> int:
    from nmsquota.report.site import write_site
    from nmsquota.report.siteconfig import site_dir, site_secret, site_url

    config = config_of(args, check_drivers=False)
    secret = site_secret(config)
    directory = site_dir(config, args.directory)
    reader = reader_of(ledger_location(args, config), config)
    done = write_site(directory, reader, secret, zone_of(args, config))
    print(f"{directory}: {len(done.drawn)} pages written, {done.kept} kept, "
          f"{len(done.removed)} removed")  # fmt: skip
    index = done.index.name
    has_url = config is not None and config.settings.report.url is not None
    print(f"the operator's index: {site_url(config, index) if has_url else done.index}")
    return 0


def run_url(args: argparse.Namespace) -> int:
    from nmsquota.report.names import index_name, page_name
    from nmsquota.report.siteconfig import site_secret, site_url

    if (args.name is None) == (not args.operator):
        raise UsageError("give a subscriber's NAME or --operator (one of them)")
    config = config_of(args, check_drivers=False)
    secret = site_secret(config)
    if args.operator:
        print(site_url(config, index_name(secret)))
        return 0
    view = reader_of(ledger_location(args, config), config).snapshot().subscriber(args.name)
    if view is None:
        raise UsageError(f"no subscriber {args.name!r} in the ledger or the configuration")
    if not view.caps:
        raise UsageError(f"{args.name} has no plan in the configuration: the site has no page "
                         "for them")  # fmt: skip
    print(site_url(config, page_name(secret, view.name)))
    return 0
