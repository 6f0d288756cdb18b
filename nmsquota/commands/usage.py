"""`nmsquota usage`: each subscriber's totals over the window (the paper's byteusage), read
through the read API (nmsquota.standings)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.commands.common import (
    add_ledger_options,
    amount,
    config_of,
    ledger_location,
    print_table,
    zone_of,
)
from nmsquota.commands.override_forms import expiry, topup_json
from nmsquota.records import TextForm
from nmsquota.standings import CapView, Reader, Sample, Snapshot, Tally, TopupView, Totals
from nmsquota.units import UnitError, parse_duration


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "usage",
        help="show each subscriber's usage over the window",
        description=(
            "Totals in (download) and out (upload) per subscriber over the rolling window, as of "
            "the ledger's last commit. With a configuration, each subscriber's plan gives the "
            "window and the cap (a line per cap), and a limited cap shows its limit (the step, "
            "if it is one) and how long until it lifts if nothing more is downloaded. A table "
            "under it gives each top-up: its amount, what is left of it (the usage beyond the "
            "plan's cap takes from the top-up that expires first), its expiry and its id. -v "
            "lists every record in the window."
        ),
    )
    parser.add_argument("subscribers", nargs="*", metavar="SUBSCRIBER", help="only these")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each record too")
    parser.add_argument("--bytes", action="store_true", help="exact byte counts, no units")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--window", metavar="DURATION", type=window, help="one window for all, e.g. 1d"
    )
    parser.add_argument(
        "--sort", choices=("name", "in", "out"), default="name", help="order (default: name)"
    )
    parser.add_argument("--tz", metavar="ZONE", help="time zone for -v record times")
    add_ledger_options(parser)
    parser.set_defaults(handler=run)


def window(text: str) -> Tally:
    """--window's argument as the window it names (argparse turns the error into its one
    line, exit status 2)."""
    try:
        seconds = parse_duration(text)
    except UnitError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"a window must be longer than nothing, got {text!r}")
    return Tally(seconds)


@dataclass
class Line:
    name: str
    tally: Tally
    totals: Totals
    plan_name: str | None = None
    plan: CapView | None = None
    """The cap of the subscriber's plan this line is about (a line per cap)."""
    several: bool = False
    """The plan has several caps: name the cap beside the plan."""

    @property
    def used(self) -> int | None:
        return self.plan.used if self.plan is not None else None

    @property
    def rate_bps(self) -> int:
        """The limit this cap holds the subscriber to, as of the last cycle (0: not limited)."""
        return self.plan.rate_bps if self.plan is not None else 0

    @property
    def step_at(self) -> float | None:
        """The cap's step in force (its threshold, percent); None: the cap's own limit."""
        return self.plan.step_at if self.plan is not None else None

    @property
    def lifts_at(self) -> int | None:
        """When that limit lifts if nothing more is moved (None: not known, or monthly)."""
        return self.plan.lifts_at if self.plan is not None else None


def run(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    reader = Reader.open(ledger_location(args, config), config)
    snap = reader.snapshot()
    lines = _lines(args, reader, snap)
    if args.sort != "name":
        lines = biggest_first(lines, args.sort)
    records = _records(reader, snap.as_of, lines) if args.verbose else {}
    topups = _topups(snap, dict.fromkeys(line.name for line in lines))
    if args.json:
        print(json.dumps(_as_json(snap.as_of, lines, records, topups), indent=2))
        return 0
    if args.verbose:
        form = TextForm("display", zone_of(args, config))
        rows = [["SUBSCRIBER", "TIME", "IN", "OUT"]]
        for line in lines:
            for sample in records[line.name]:
                rows.append([line.name, form.stamp(sample.time), *_pair(sample, args.bytes)])
        print_table(rows, right={2, 3})
        print()
    _print_summary(snap.as_of, lines, args.bytes)
    if topups:
        print()
        _print_topups(topups, args.bytes, zone_of(args, config))
    return 0


Topups = dict[str, list[tuple[CapView, TopupView]]]
"""Subscriber -> each top-up not expired, on each cap it adds to."""


def _topups(snap: Snapshot, names: Iterable[str]) -> Topups:
    """The top-ups of the subscribers shown, from the read API (which works out what is
    left of each), whatever window the lines show."""
    found: Topups = {}
    for name in names:
        view = snap.subscriber(name)
        caps = view.caps if view is not None else ()
        mine = [(cap, topup) for cap in caps for topup in cap.topups]
        if mine:
            found[name] = mine
    return found


def _print_topups(topups: Topups, exact: bool, zone: ZoneInfo) -> None:
    """A table under the summary: each top-up, what is left of it, until when."""
    rows = [["SUBSCRIBER", "CAP", "TOP-UP", "LEFT", "EXPIRES", "ID"]]
    for name, mine in topups.items():
        for cap, topup in mine:
            rows.append([name, cap.label, amount(topup.amount, exact), amount(topup.left, exact),
                         expiry(topup.until, zone), topup.id])  # fmt: skip
    print_table(rows, right={2, 3})


def biggest_first(lines: list[Line], column: str) -> list[Line]:
    """By the subscriber's biggest `column` ("in" or "out") of any window, biggest first; a
    subscriber's lines (one per cap) stay together, in the plan's order."""
    most: dict[str, int] = {}
    for line in lines:
        amount = getattr(line.totals, f"bytes_{column}")
        most[line.name] = max(most.get(line.name, 0), amount)
    return sorted(lines, key=lambda line: (-most[line.name], line.name))


def _lines(args: argparse.Namespace, reader: Reader, snap: Snapshot) -> list[Line]:
    """A line per cap of each subscriber's plan (the configuration's subscribers), or one
    over the ledger's window (anyone else, or everyone with --window)."""
    forced: Tally | None = args.window
    default = forced or snap.default_tally
    totals = {**snap.totals}
    if forced is not None:
        totals[forced.key] = reader.totals(forced)
    # The configuration's subscribers are shown with their plans; those provisioned in the
    # ledger are shown as usage alone, as before the read API.
    members = {v.name: v for v in snap.subscribers if v.kept_in == "configuration"}

    def caps_of(name: str) -> list[CapView | None]:
        member = members.get(name)
        if forced or member is None:
            return [None]
        return list(member.caps)

    def tally_of(cap: CapView | None) -> Tally:
        return default if cap is None or forced else cap.tally

    names = set(args.subscribers)
    if not names:
        names = set(members)
        tallies = {default, *(tally_of(cap) for name in members for cap in caps_of(name))}
        for tally in tallies:
            names.update(totals.get(tally.key, {}))
    lines = []
    for name in sorted(names):
        member = members.get(name)
        caps = caps_of(name)
        for cap in caps:
            tally = tally_of(cap)
            used = cap.totals if cap is not None else totals[tally.key].get(name, Totals())
            plan = member.plan if member else None
            lines.append(Line(name, tally, used, plan, cap if member else None, len(caps) > 1))
    return lines


def _records(reader: Reader, as_of: int | None, lines: list[Line]) -> dict[str, list[Sample]]:
    as_of = as_of or 0
    records: dict[str, list[Sample]] = {line.name: [] for line in lines}
    edges: dict[str, int] = {}
    for line in lines:  # a subscriber's records over the longest of their windows
        edge = line.tally.edge_at(as_of)
        edges[line.name] = min(edges.get(line.name, edge), edge)
    after = min(edges.values(), default=as_of)
    for sample in reader.samples(records, after=after):
        if sample.time > edges[sample.subscriber]:
            records[sample.subscriber].append(sample)
    return records


def _pair(sample: Sample | Totals, exact: bool) -> list[str]:
    return [amount(sample.bytes_in, exact), amount(sample.bytes_out, exact)]


def _print_summary(as_of: int | None, lines: list[Line], exact: bool) -> None:
    with_plans = any(line.plan for line in lines)
    with_limits = any(line.rate_bps for line in lines)
    header = ["SUBSCRIBER", "IN", "OUT", "WINDOW"] + (["PLAN", "CAP", "USED"] if with_plans else [])
    header += ["LIMIT", "LIFTS IN"] if with_limits else []
    rows = [header]
    for line in lines:
        row = [line.name, *_pair(line.totals, exact), line.tally.key]
        if with_plans:
            if line.plan is not None:
                plan = f"{line.plan_name} {line.plan.label}" if line.several else line.plan_name
                row += [plan or "", amount(line.plan.cap, exact), f"{line.plan.percent:.0f}%"]
            else:
                row += ["-", "-", "-"]
        if with_limits:
            row += _limit_columns(line, as_of)
        rows.append(row)
    print_table(rows, right={1, 2, 5, 6})
    if as_of is None:
        print("(the ledger has no commits yet)")


def _limit_columns(line: Line, as_of: int | None) -> list[str]:
    """LIMIT ("3kbit", or "50Mbit at 80%" for a step) and LIFTS IN (from the ledger's last
    commit, if nothing more is moved)."""
    if not line.rate_bps:
        return ["-", "-"]
    limit = units.format_rate(line.rate_bps)
    if line.step_at is not None:
        limit += f" at {line.step_at:g}%"
    if line.lifts_at is None or as_of is None:
        return [limit, "-"]
    return [limit, units.format_duration(max(0, line.lifts_at - as_of))]


def _as_json(as_of: int | None, lines: list[Line], records: dict[str, list[Sample]],
             topups: Topups) -> dict:  # fmt: skip
    """One entry per subscriber: their (first) cap's figures, with several caps each cap's
    in `caps`, and their top-ups (each on each cap it adds to) in `topups`."""
    subscribers: dict[str, dict] = {}
    for line in lines:
        entry: dict = {
            "bytes_in": line.totals.bytes_in,
            "bytes_out": line.totals.bytes_out,
            "window": line.tally.window,
            "window_key": line.tally.key,
        }
        if line.plan is not None:
            entry |= {"plan": line.plan_name, "cap": line.plan.cap,
                      "direction": line.plan.direction, "used": line.used}  # fmt: skip
        if line.several:
            entry["cap_name"] = line.plan.label if line.plan else ""
        if line.plan is not None:
            entry |= {"limited": bool(line.rate_bps), "rate": line.rate_bps or None,
                      "step_at": line.step_at, "lifts_at": line.lifts_at}  # fmt: skip
        first = subscribers.get(line.name)
        if first is None:
            first = subscribers[line.name] = {"name": line.name, **entry}
            if line.name in records:
                first["records"] = [
                    {"time": s.time, "bytes_in": s.bytes_in, "bytes_out": s.bytes_out}
                    for s in records[line.name]
                ]
        if line.several:
            first.setdefault("caps", []).append(entry)
    for name, mine in topups.items():
        subscribers[name]["topups"] = [topup_json(cap, topup) for cap, topup in mine]
    return {"as_of": as_of, "subscribers": list(subscribers.values())}
