"""`nmsquota status`: the daemon's health and who is limited, read from the ledger whether
a daemon runs or not."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.commands.common import add_ledger_options, config_of, ledger_dir, print_table, zone_of
from nmsquota.commands.standings import cap_standing, lift_times
from nmsquota.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status", help="the daemon's health and who is limited",
        description="The last cycle (when, how long, how late), access servers that did not "
        "answer, driver errors and drift, and the limited subscribers (each cap of a plan with "
        "several; limits measured not to bite). Exit status 1 if the last cycle is older than "
        "three intervals or had failures, or a limit does not bite.",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--tz", metavar="ZONE", help="time zone for the times shown (default: the configuration's)"
    )
    add_ledger_options(status)
    status.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    from nmsquota.ledger import Ledger, LedgerMissing

    config = config_of(args)
    try:
        ledger = Ledger.open_reader(ledger_dir(args, config))
    except LedgerMissing as error:
        raise UsageError(str(error)) from None
    health = (ledger.records("daemon") or [{}])[0]
    limits = ledger.limits()
    overrides = ledger.records("overrides")
    limited = {limit.subscriber for limit in limits}
    standings = {
        r["subscriber"]: r for r in ledger.records("standings") if r["subscriber"] in limited
    }
    lifts = lift_times(ledger, config)
    for name, record in standings.items():
        for cap_name, when in lifts(name, record).items():
            cap_standing(record, cap_name, several=bool(record.get("caps")))["lifts_at"] = when
    now = args.clock.now()
    age = now - health["started"] if health else None
    stale = age is None or age > 3 * health.get("interval", 300)
    failures = (
        bool(health.get("devices_failed"))
        or any(d["errors"] for d in health.get("drivers", {}).values())
        or bool(health.get("not_effective"))
    )
    if args.json:
        print(json.dumps({"cycle": health, "age": age, "stale": stale,
                          "limits": [limit.__dict__ for limit in limits],
                          "standings": [standings[name] for name in sorted(standings)],
                          "overrides": overrides}, indent=2))  # fmt: skip
        return 1 if stale or failures else 0
    if not health:
        print("no cycle recorded: the daemon has not run on this ledger")
        return 1
    zone = zone_of(args, config)
    when = _when(health["started"], zone, seconds=True)
    # A cycle "in the future" is this machine's clock behind the daemon's.
    ago = (f"{units.format_duration(int(age))} ago" if age >= 0 else
           f"{units.format_duration(int(-age))} ahead of this clock")  # fmt: skip
    print(f"last cycle {health['number']} at {when} ({ago}"
          f"{', STALE' if stale else ''}): {health['seconds']:.1f}s, "
          f"{health['lateness']:.1f}s late")  # fmt: skip
    print(
        f"access servers: {len(health['devices_ok'])} answered"
        + "".join(f"\n  {name}: {error}" for name, error in health["devices_failed"].items())
    )
    for name, outcome in health.get("drivers", {}).items():
        problems = outcome["errors"] + outcome["drift"]
        print(f"driver {name}: " + ("ok" if not problems else "; ".join(problems)))
    rows = [["SUBSCRIBER", "SINCE", "RATE", "REASON"]]
    for limit in sorted(limits, key=lambda lim: lim.since):
        since = _when(limit.since, zone)
        rate = units.format_rate(limit.rate_bps) if limit.rate_bps else "?"
        rows.append([limit.subscriber, since, rate, limit.reason])
        # A plan with several caps: how each of them stands.
        record = standings.get(limit.subscriber, {})
        for cap in record.get("caps", ()):
            rows.append(["", "", "", _cap_line(cap, zone)])
        if not record.get("caps") and record.get("lifts_at"):
            lifts = _when(record["lifts_at"], zone)
            rows.append(["", "", "", f"  lifts {lifts} if nothing more is downloaded"])
        check = standings.get(limit.subscriber, {}).get("check") or {}
        if check.get("flagged"):
            rows.append(["", "", "", f"  LIMIT NOT EFFECTIVE: measured "
                         f"{units.format_measured_rate(check['measured_bps'])}, expected "
                         f"{units.format_rate(check['expected_bps'])}"])  # fmt: skip
    print(f"{len(limits)} limited")
    if limits:
        print_table(rows, right={2})
    active = [o for o in overrides if o["until"] is None or o["until"] > now]
    for override in active:
        ends = "" if override["until"] is None else " until " + _when(override["until"], zone)
        print(f"override: {override['kind']} {override['subscriber']}{ends}: "
              f"{override['reason']}")  # fmt: skip
    return 1 if stale or failures else 0


def _when(moment: float, zone: ZoneInfo, seconds: bool = False) -> str:
    return datetime.fromtimestamp(moment, zone).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def _cap_line(cap: dict, zone: ZoneInfo) -> str:
    """One cap of a plan with several, as status shows it under the subscriber's limit."""
    percent = 100 * cap["used"] / cap["cap"] if cap["cap"] else 0.0
    state = f"limited to {units.format_rate(cap['rate'])}" if cap["limited"] else "under"
    if cap["limited"] and cap.get("step_at") is not None:
        state += f" (step at {cap['step_at']:g}%)"
    if cap.get("lifts_at"):
        state += f", lifts {_when(cap['lifts_at'], zone)}"
    used, of = units.format_bytes(cap["used"]), units.format_bytes(cap["cap"])
    return f"  cap {cap['cap_name']}: {used} of {of} ({percent:.0f}%), {state}"
