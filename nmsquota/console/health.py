"""What the console's header and banner say of a snapshot: the counts, the cycle's health
and age, and whether the data can be trusted (a daemon cycling on it). Pure (no Textual).

The judgement is `nmsquota status`'s, taken from the same read API: no cycle recorded means
the daemon never ran on the ledger; a cycle older than three intervals is stale
(CycleView.stale); a demo's cycle is on a simulated clock and never stale; troubled and
overloaded as CycleView says. Where several POPs' daemons share the ledger, a line per POP
too, troubled when one is stale (PopView.stale, said in the banner), has an access server
failing or runs other plans than the deciding POP. A daemon whose ledger writes fail (a full
disk) says so over its control socket, as it tells status (nmsquota.control.writes): the
ledger cannot, and looks healthy until its last cycle turns stale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.control.writes import WriteFailure
from nmsquota.standings import PopView, Snapshot

Health = str
"""One word (or two): "ok", "troubled", "overloaded", "stale", "no cycle", "demo",
"writes failing"."""


@dataclass(frozen=True, slots=True)
class Summary:
    subscribers: int
    online: int
    limited: int
    not_effective: int
    cycle: int | None
    health: Health
    age: str
    """"1m ago", "3h ahead" (this clock behind the daemon's), "" (no cycle, or a demo's
    simulated clock)."""
    banner: str
    """"" when the data is live; otherwise one plain sentence saying why not and since when."""
    pops: tuple[str, ...] = ()
    """Where several POPs' daemons share the ledger, a line per POP (as `nmsquota status`
    has them): deciding or following, its last cycle's age, its access servers, and what
    is wrong there. None where one daemon writes the ledger."""

    @property
    def counts(self) -> str:
        return (f"{self.subscribers} subscribers  {self.online} online  {self.limited} limited  "
                f"{self.not_effective} not effective")  # fmt: skip

    @property
    def cycle_health(self) -> str:
        cycle = f"cycle {self.cycle} {self.age}".rstrip() if self.cycle is not None else "cycle -"
        return f"{cycle}: {self.health}"

    @property
    def line(self) -> str:
        """The header's one line: the counts, then the cycle (the part a narrow terminal
        keeps whole)."""
        return f"{self.counts}  {self.cycle_health}"


def summary(snap: Snapshot, now: float, zone: ZoneInfo,
            failing: WriteFailure | None = None) -> Summary:  # fmt: skip
    """`failing`: what the daemon said of its ledger writes (None: they succeed, or no daemon
    answered): said first in the banner, before what the ledger itself shows."""
    found = _summary(snap, now, zone)
    if failing is None:
        return found
    said = failing.sentence(_when(failing.since, zone))
    said = said[0].upper() + said[1:]
    banner = f"{said}\n{found.banner}" if found.banner else said
    return replace(found, health="writes failing", banner=banner)


def _summary(snap: Snapshot, now: float, zone: ZoneInfo) -> Summary:
    found = _cycle_summary(snap, now, zone)
    if not snap.several_pops:
        return found
    lines = tuple(pop_line(pop, now) for pop in snap.pops)
    stale = [_stale_pop(pop, now, zone) for pop in snap.pops if pop.stale(now)]
    troubled = any(_pop_troubled(pop, now) for pop in snap.pops)
    health = "troubled" if troubled and found.health == "ok" else found.health
    banner = "\n".join([found.banner, *stale]).strip("\n")
    return replace(found, health=health, banner=banner, pops=lines)


def pop_line(pop: PopView, now: float) -> str:
    """One POP in a line of the header's width: "POP darwin following, 25m ago: 1 ok,
    0 failed; STALE (3 sessions not counted); OTHER PLANS" (than the deciding POP's)."""
    age = pop.age(now)
    ago = f"{coarse(age)} ago" if age >= 0 else f"{coarse(-age)} ahead"
    failed = f" ({', '.join(pop.devices_failed)})" if pop.devices_failed else ""
    said = [
        f"POP {pop.name or '(unnamed)'} {pop.role}, {ago}: "
        f"{len(pop.devices_ok)} ok, {len(pop.devices_failed)} failed{failed}"
    ]
    if pop.stale(now):
        said.append(f"STALE ({pop.sessions} sessions not counted)" if pop.sessions else
                    "STALE")  # fmt: skip
    if pop.other_plans:
        said.append("OTHER PLANS")
    return "; ".join(said)


def _pop_troubled(pop: PopView, now: float) -> bool:
    return pop.stale(now) or bool(pop.devices_failed) or pop.other_plans


def _stale_pop(pop: PopView, now: float, zone: ZoneInfo) -> str:
    """The banner's sentence for a POP whose daemon stopped cycling."""
    counted = (f"; the {pop.sessions} sessions on its access servers are not counted"
               if pop.sessions else "")  # fmt: skip
    return (f"POP {pop.name or '(unnamed)'} STALE: its last cycle ({pop.number}) was at "
            f"{_when(pop.started, zone)}, {coarse(pop.age(now))} ago: its daemon is not "
            f"running, or not cycling{counted}.")  # fmt: skip


def _cycle_summary(snap: Snapshot, now: float, zone: ZoneInfo) -> Summary:
    views = snap.subscribers
    online = sum(1 for view in views if view.online)
    limited = sum(1 for view in views if view.limited)
    not_effective = sum(1 for view in views if view.not_effective)
    cycle = snap.cycle
    if cycle is None:
        banner = "No cycle recorded: the daemon has not run on this ledger."
        return Summary(len(views), online, limited, not_effective, None, "no cycle", "", banner)
    when = _when(cycle.started, zone)
    if cycle.simulated:
        banner = (f"A demo's ledger, on a simulated clock: no daemon runs on it (its last cycle "
                  f"{cycle.number} was at {when}, simulated time).")  # fmt: skip
        return Summary(len(views), online, limited, not_effective, cycle.number, "demo", "",
                       banner)  # fmt: skip
    age = cycle.age(now)
    ago = f"{coarse(age)} ago" if age >= 0 else f"{coarse(-age)} ahead"
    banner = ""
    if cycle.stale(now):
        health = "stale"
        banner = (f"STALE since {_when(cycle.started + 3 * cycle.interval, zone)}: the last "
                  f"cycle ({cycle.number}) was at {when}, {ago}, and cycles are due every "
                  f"{units.format_duration(cycle.interval)}: the daemon is not running, or "
                  f"not cycling.")  # fmt: skip
    elif cycle.troubled or snap.mapping_problems:
        health = "troubled"
    elif cycle.overloaded:
        health = "overloaded"
    else:
        health = "ok"
    return Summary(len(views), online, limited, not_effective, cycle.number, health, ago, banner)


def coarse(seconds: float) -> str:
    """A duration in its two largest units ("39d21h", "15m", "2m5s"): a header's width."""
    text = units.format_duration(int(seconds))
    parts: list[str] = []
    number = ""
    for char in text:
        number += char
        if char.isalpha():
            parts.append(number)
            number = ""
    return "".join(parts[:2]) or text


def _when(moment: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, zone).strftime("%Y-%m-%d %H:%M:%S")
