"""`nmsquota metrics`: the metrics exposition, for node_exporter's textfile collector (the
text is nmsquota.nms.metrics'; the daemon serves the same with `[metrics] listen`)."""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import add_ledger_options, config_of, ledger_location, reader_of
from nmsquota.nms.metrics import exposition


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "metrics", help="print the Prometheus metrics (for node_exporter's textfile collector)",
        description="Print the metrics of the ledger's last commit in the Prometheus text "
        "format (--openmetrics: OpenMetrics 1.0): each subscriber's usage and cap per "
        "window, state, limit rate and whether the limit bites; the last cycle's start, age, "
        "duration, lateness and access servers by outcome; each driver's health, repairs, "
        "errors and limits not effective. For node_exporter's textfile collector write it "
        "atomically: `nmsquota metrics > DIR/nmsquota.prom.tmp && mv DIR/nmsquota.prom.tmp "
        "DIR/nmsquota.prom`. The daemon serves the same over HTTP with `[metrics] listen`. "
        "See docs/prometheus.md.",
    )  # fmt: skip
    parser.add_argument(
        "--openmetrics", action="store_true",
        help="OpenMetrics 1.0 text instead of the Prometheus text format",
    )  # fmt: skip
    add_ledger_options(parser)
    parser.set_defaults(handler=run_metrics)


def run_metrics(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    reader = reader_of(ledger_location(args, config), config)
    text = exposition(reader.snapshot(), args.clock.now(), openmetrics=args.openmetrics)
    sys.stdout.write(text)
    return 0
