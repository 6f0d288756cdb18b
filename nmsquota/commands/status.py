"""`nmsquota status`: the daemon's health and who is limited, read from the ledger whether
a daemon runs or not (through the read API, nmsquota.standings)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    data_dir_of,
    ledger_location,
    print_table,
    reader_of,
    zone_of,
)
from nmsquota.commands.override_forms import topup_json, topup_line
from nmsquota.control.writes import write_failure
from nmsquota.standings import (
    CapStanding,
    CapView,
    CycleView,
    DriverView,
    Limit,
    OverrideRecord,
    PopView,
    Snapshot,
    State,
    SubscriberView,
    TopupView,
)


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status", help="the daemon's health and who is limited",
        description="The last cycle (when, how long, how late), access servers that did not "
        "answer, each driver (ok; FAILING when it failed, its rules could not be repaired or a "
        "limit it holds was measured not to bite; drift, with since when and for how many "
        "cycles, until a cycle finds none), the limited subscribers (each cap of a plan with "
        "several; limits measured not to bite), and the overrides in force, each top-up with "
        "what is left of it and when it expires. Exit status 1 if the last cycle is older than "
        "three intervals or had failures, a driver is failing, a limit does not bite, an "
        "interface map entry charges nobody (it matches no interface or several, or its "
        "ifIndex was renamed: shown with since when and for how many cycles), or the "
        "running daemon cannot write the ledger (a full disk, say: it keeps running and says "
        "so over its control socket), or the machine could not keep up with the poll (the cycle "
        "overran its interval, or access servers were skipped for load: a line says the CPU the "
        "poll took, the walks queued, the devices answered, skipped and failed by cause, and "
        "how many devices of this size the machine can poll per interval). A ledger written "
        "by `nmsquota demo` is on a simulated clock: its last cycle is shown as such, never "
        "stale. Where several POPs' daemons share a database ledger, a line per POP: deciding "
        "or following, its last cycle's age, its access servers; exit status 1 too if a POP's "
        "last cycle is stale (its daemon down?), one of its access servers failed, or it runs "
        "other plans and subscribers than the deciding POP.",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--tz", metavar="ZONE", help="time zone for the times shown (default: the configuration's)"
    )
    add_ledger_options(status)
    status.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    config = config_of(args, check_drivers=False)
    directory = data_dir_of(args, config)
    reader = reader_of(ledger_location(args, config), config)
    snap = reader.snapshot()
    now = args.clock.now()
    cycle = snap.cycle
    age = cycle.age(now) if cycle is not None else None
    stale = cycle is None or cycle.stale(now)
    troubled = cycle is not None and cycle.troubled
    # An interface map entry that charges nobody bills someone wrongly (nothing, or what
    # was someone's): a warning until it maps again.
    troubled = troubled or bool(snap.mapping_problems)
    # A cycle that overran or skipped devices: the machine cannot keep up with the poll.
    overloaded = cycle is not None and cycle.overloaded
    # Several POPs: one whose daemon stopped, whose access servers failed or which runs
    # other plans than the deciding POP, hidden behind the latest cycle until now.
    troubled = troubled or any(_pop_troubled(pop, now) for pop in snap.pops)
    # A full disk: the daemon says so over its control socket (the ledger cannot).
    failing = write_failure(directory)
    if args.json:
        found = _as_json(snap, age, stale, now)
        if failing is not None:
            found["ledger_write_failure"] = failing.as_json()
        print(json.dumps(found, indent=2))
        return 1 if stale or troubled or failing or overloaded else 0
    zone = zone_of(args, config)
    if failing is not None:
        print(failing.sentence(_when(failing.since, zone, seconds=True)))
    if cycle is None or age is None:
        print("no cycle recorded: the daemon has not run on this ledger")
        return 1
    when = _when(cycle.started, zone, seconds=True)
    # A cycle "in the future" is this machine's clock behind the daemon's.
    ago = (f"{units.format_duration(int(age))} ago" if age >= 0 else
           f"{units.format_duration(int(-age))} ahead of this clock")  # fmt: skip
    if cycle.simulated:
        ago = "on a simulated clock, the last of a demo's run: no daemon runs on this ledger"
    # Several POPs: the latest cycle is one POP's, and says whose.
    whose = f" (POP {cycle.pop})" if snap.several_pops and cycle.pop else ""
    print(f"last cycle {cycle.number}{whose} at {when} ({ago}"
          f"{', STALE' if stale else ''}): {cycle.seconds:.1f}s, "
          f"{cycle.lateness:.1f}s late")  # fmt: skip
    print(
        f"access servers: {len(cycle.devices_ok)} answered"
        + "".join(f"\n  {name}{_cause(cycle, name)}: {error}"
                  for name, error in cycle.devices_failed.items())
    )  # fmt: skip
    if snap.several_pops:
        for pop in snap.pops:
            print(_pop_line(pop, now))
    for line in _load_lines(cycle):
        print(line)
    for device, problem in snap.mapping_problems:
        since = _when(problem.since, zone)
        print(f"interface map: {device}: {problem.text} (since {since}, "
              f"{problem.cycles} cycle{'s' if problem.cycles != 1 else ''})")  # fmt: skip
    for driver in cycle.drivers:
        print(_driver_line(driver, zone))
    _print_limits(snap, zone)
    for override in snap.overrides:
        if override.until is None or override.until > now:
            ends = "" if override.until is None else " until " + _when(override.until, zone)
            print(f"override: {override.kind} {override.subscriber}{ends}: {override.reason}")
            for cap, topup in _topups_of(snap, override):
                print(topup_line(cap, topup, zone))
    return 1 if stale or troubled or failing or overloaded else 0


def _cause(cycle: CycleView, name: str) -> str:
    cause = cycle.causes.get(name)
    return f" ({cause})" if cause else ""


def _pop_troubled(pop: PopView, now: float) -> bool:
    return pop.stale(now) or bool(pop.devices_failed) or pop.other_plans


def _pop_line(pop: PopView, now: float) -> str:
    """One POP's last cycle: which, deciding or following, how old, its access servers,
    and what is wrong there."""
    age = pop.age(now)
    ago = (f"{units.format_duration(int(age))} ago" if age >= 0 else
           f"{units.format_duration(int(-age))} ahead of this clock")  # fmt: skip
    failed = f" ({', '.join(pop.devices_failed)})" if pop.devices_failed else ""
    said = [
        f"POP {pop.name or '(unnamed)'}: {pop.role}, cycle {pop.number} {ago}; access "
        f"servers: {len(pop.devices_ok)} ok, {len(pop.devices_failed)} failed{failed}"
    ]
    if pop.stale(now):
        counted = f": {pop.sessions} sessions on its access servers not counted"
        said.append(f"STALE (its daemon down?){counted if pop.sessions else ''}")
    if pop.other_plans:
        said.append("runs other plans than the deciding POP")
    return "; ".join(said)


def _load_lines(cycle: CycleView) -> list[str]:
    """What the cycle's poll cost the machine, and a warning when the machine could not keep
    up: the cycle overran its interval, or devices were skipped for load. Nothing for a
    ledger whose daemon did not measure it."""
    lines = []
    if cycle.capacity is not None:
        failed = ", ".join(f"{n} {cause}" for cause, n in sorted(cycle.failed_by().items()))
        lines.append(
            f"load: {cycle.cpu:.1f}s CPU, {cycle.queued} walks queued; "
            f"{len(cycle.devices_ok)} answered, {len(cycle.devices_skipped)} skipped for load, "
            f"{len(cycle.devices_failed)} failed{f' ({failed})' if failed else ''}; "
            f"at {cycle.device_cost:.2f}s CPU a device, this machine polls about "
            f"{cycle.capacity} devices of this size per {cycle.interval}s interval"
        )
    if cycle.devices_skipped:
        lines.append(f"WARNING: {len(cycle.devices_skipped)} access servers skipped for load "
                     f"(polled first in the next cycle; their bytes are charged then): "
                     f"{', '.join(cycle.devices_skipped)}")  # fmt: skip
    if cycle.overran:
        lines.append(f"WARNING: the cycle took {cycle.seconds:.0f}s, longer than its "
                     f"{cycle.interval}s interval")  # fmt: skip
    return lines


def _topups_of(snap: Snapshot, override: OverrideRecord) -> list[tuple[CapView, TopupView]]:
    """A top-up override on each cap it adds to, with what is left of it (the read API's)."""
    view = snap.subscriber(override.subscriber) if override.kind == "topup" else None
    caps = view.caps if view is not None else ()
    return [(cap, t) for cap in caps for t in cap.topups if t.override == override]


def _driver_line(driver: DriverView, zone: ZoneInfo) -> str:
    """ok; FAILING when its limits do not bite (an error, a failed repair, a limit measured
    not to bite); drift with how long it has lasted, kept until a cycle finds none."""
    if driver.health == "ok":
        return f"driver {driver.name}: ok"
    head = "FAILING" if driver.failing else "drift"
    kept = driver.drifting
    if kept is not None:
        since = f" since {_when(kept.since, zone, seconds=True)}" if kept.since else ""
        head += f" ({kept.cycles} cycle{'s' if kept.cycles != 1 else ''}{since})"
    return f"driver {driver.name}: {head}: " + "; ".join(driver.problems)


def _print_limits(snap: Snapshot, zone: ZoneInfo) -> None:
    rows = [["SUBSCRIBER", "SINCE", "RATE", "REASON"]]
    for limit in sorted(snap.limits, key=lambda lim: lim.since):
        since = _when(limit.since, zone)
        rate = units.format_rate(limit.rate_bps) if limit.rate_bps else "?"
        rows.append([limit.subscriber, since, rate, limit.reason])
        view = snap.subscriber(limit.subscriber)
        decided = view.decided if view is not None else None
        if view is None or decided is None:
            continue
        lifts = {cap.name: cap.lifts_at for cap in view.caps}
        # A plan with several caps: how each of them stands.
        for cap in decided.caps:
            rows.append(["", "", "", _cap_line(cap, lifts.get(cap.cap_name), zone)])
        if not decided.caps and lifts.get(""):
            when = _when(lifts[""] or 0, zone)
            until = ("when the force override expires" if decided.state is State.FORCED
                     else "if nothing more is downloaded")  # fmt: skip
            rows.append(["", "", "", f"  lifts {when} {until}"])
        check = view.check
        if check is not None and check.flagged:
            rows.append(["", "", "", f"  LIMIT NOT EFFECTIVE: measured "
                         f"{units.format_measured_rate(check.measured_bps)}, expected "
                         f"{units.format_rate(check.expected_bps)}"])  # fmt: skip
    print(f"{len(snap.limits)} limited")
    if snap.limits:
        print_table(rows, right={2})


def _json_lift_times(snap: Snapshot, view: SubscriberView) -> dict[str, int | None]:
    """The caps `status --json` gives a `lifts_at` (null where it is not known), by cap name
    ("" for a one-cap plan): every limited cap of a rolling window, as the document always
    had them, and a cap whose force override gives it an expiry."""
    if snap.as_of is None:
        return {}
    return {cap.name: cap.lifts_at for cap in view.caps
            if cap.limited and (cap.tally.period is None or cap.lifts_at is not None)}  # fmt: skip


def _when(moment: float, zone: ZoneInfo, seconds: bool = False) -> str:
    return datetime.fromtimestamp(moment, zone).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def _cap_line(cap: CapStanding, lifts_at: int | None, zone: ZoneInfo) -> str:
    """One cap of a plan with several, as status shows it under the subscriber's limit."""
    percent = 100 * cap.used / cap.cap if cap.cap else 0.0
    state = f"limited to {units.format_rate(cap.rate)}" if cap.limited else "under"
    if cap.limited and cap.step_at is not None:
        state += f" (step at {cap.step_at:g}%)"
    if lifts_at:
        state += f", lifts {_when(lifts_at, zone)}"
    used, of = units.format_bytes(cap.used), units.format_bytes(cap.cap)
    return f"  cap {cap.cap_name}: {used} of {of} ({percent:.0f}%), {state}"


# -- --json: the same document as before the read API ----------------------------------------


def _as_json(snap: Snapshot, age: float | None, stale: bool, now: float) -> dict[str, Any]:
    limited = {limit.subscriber for limit in snap.limits}
    standings = [_standing_json(snap, view) for view in snap.subscribers
                 if view.name in limited and view.decided is not None]  # fmt: skip
    # The top-ups not expired, each on each cap it adds to, with what is left of it.
    mapping = [
        {
            "device": device,
            "entry": p.entry,
            "kind": p.kind,
            "text": p.text,
            "since": p.since,
            "cycles": p.cycles,
        }
        for device, p in snap.mapping_problems
    ]
    topups = [{"subscriber": o.subscriber, **topup_json(cap, topup)}
              for o in snap.overrides if o.until is None or o.until > now
              for cap, topup in _topups_of(snap, o)]  # fmt: skip
    return {"cycle": _cycle_json(snap.cycle) if snap.cycle is not None else {}, "age": age,
            "stale": stale, "limits": [_limit_json(limit) for limit in snap.limits],
            "standings": standings,
            "overrides": [_override_json(o) for o in snap.overrides],
            "topups": topups,
            # Only while an interface map entry charges nobody: otherwise the shape is
            # what it was.
            **({"mapping": mapping} if mapping else {}),
            # Only where named POPs' daemons share the ledger, likewise.
            **({"pops": [_pop_json(pop, now) for pop in snap.pops]}
               if snap.several_pops else {})}  # fmt: skip


def _pop_json(pop: PopView, now: float) -> dict[str, Any]:
    return {"pop": pop.name, "deciding": pop.deciding, "number": pop.number,
            "started": pop.started, "age": pop.age(now), "interval": pop.interval,
            "stale": pop.stale(now), "devices_ok": list(pop.devices_ok),
            "devices_failed": dict(pop.devices_failed),
            "devices_skipped": list(pop.devices_skipped), "sessions": pop.sessions,
            "plans_fingerprint": pop.plans_fingerprint,
            "other_plans": pop.other_plans}  # fmt: skip


def _cycle_json(cycle: CycleView) -> dict[str, Any]:
    drivers = {d.name: _driver_json(d) for d in cycle.drivers}
    return {"number": cycle.number, "started": cycle.started, "due": cycle.due,
            "seconds": cycle.seconds, "devices_ok": list(cycle.devices_ok),
            "devices_failed": dict(cycle.devices_failed), "limited": list(cycle.limited),
            "changed": list(cycle.changed), "drivers": drivers, "no_plan": list(cycle.no_plan),
            "not_effective": list(cycle.not_effective), "skipped": cycle.skipped,
            "lateness": cycle.lateness, "interval": cycle.interval,
            "updated": cycle.updated,
            # Only for a demo's ledger: a daemon's status keeps its shape.
            **({"simulated": True} if cycle.simulated else {}),
            # Only where the daemon measured it (not in a ledger from before issue 27).
            **({"load": _load_json(cycle)} if cycle.capacity is not None else {})}  # fmt: skip


def _load_json(cycle: CycleView) -> dict[str, Any]:
    return {"cpu": cycle.cpu, "queued": cycle.queued,
            "answered": len(cycle.devices_ok), "skipped": list(cycle.devices_skipped),
            "failed": dict(cycle.causes), "failed_by": cycle.failed_by(),
            "overran": cycle.overran, "device_cost": cycle.device_cost,
            "capacity": cycle.capacity}  # fmt: skip


def _driver_json(driver: DriverView) -> dict[str, Any]:
    kept = driver.drifting
    drifting = ({"since": kept.since, "cycles": kept.cycles, "lines": list(kept.lines)}
                if kept is not None else None)  # fmt: skip
    return {"health": driver.health, "added": list(driver.added),
            "removed": list(driver.removed), "unenforceable": list(driver.unenforceable),
            "drift": list(driver.drift), "drifting": drifting, "errors": list(driver.errors),
            "not_effective": list(driver.not_effective)}  # fmt: skip


def _limit_json(limit: Limit) -> dict[str, Any]:
    return {"subscriber": limit.subscriber, "since": limit.since, "reason": limit.reason,
            "driver": limit.driver, "rate_bps": limit.rate_bps}  # fmt: skip


def _override_json(override: OverrideRecord) -> dict[str, Any]:
    found = {"subscriber": override.subscriber, "kind": override.kind,
             "reason": override.reason, "since": override.since, "until": override.until,
             "bytes": override.bytes}  # fmt: skip
    if override.cap is not None:
        found["cap"] = override.cap
    if override.author is not None:
        found["author"] = override.author
    return found


def _cap_json(cap: CapStanding) -> dict[str, Any]:
    return {"limited": cap.limited, "since": cap.since,
            "reason": cap.reason.text if cap.reason is not None else "",
            "warned": list(cap.warned), "used": cap.used, "cap": cap.cap,
            "cap_name": cap.cap_name, "step": cap.step, "step_at": cap.step_at,
            "rate": cap.rate}  # fmt: skip


def _standing_json(snap: Snapshot, view: SubscriberView) -> dict[str, Any]:
    decided = view.decided
    assert decided is not None
    found = {**_cap_json(decided), "subscriber": view.name}
    lifts = _json_lift_times(snap, view)
    if decided.check is not None:
        c = decided.check
        found["check"] = {"over": c.over, "flagged": c.flagged, "measured_bps": c.measured_bps,
                          "expected_bps": c.expected_bps, "since": c.since}  # fmt: skip
    if decided.caps:
        found["caps"] = [_cap_json(cap) for cap in decided.caps]
        for entry in found["caps"]:
            if entry["cap_name"] in lifts:
                entry["lifts_at"] = lifts[entry["cap_name"]]
    elif "" in lifts:
        found["lifts_at"] = lifts[""]
    return found
