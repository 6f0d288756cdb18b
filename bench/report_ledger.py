"""The report site's benchmark ledger (issue 22): 5,000 subscribers with 7 days of 5-minute
samples, built through the ledger API the daemon writes with, then one more cycle in which
fewer than 5% of subscribers move; and `time_site_regeneration`, which times a full and an
incremental regeneration of the site over it (the site's function is wired in by the caller).

    .venv/bin/python bench/report_ledger.py                       # build, report time and size
    .venv/bin/python bench/report_ledger.py --dir /tmp/rl --keep  # and keep it
    .venv/bin/python bench/report_ledger.py --subscribers 500     # a quick check

From another benchmark (the ledger is built into DIR/ledger, DIR/nmsquota.toml names it):

    built = build(data, extra=REPORT_SECTION)   # the site's [report] configuration
    timings = time_site_regeneration(data, lambda data: write_site(...))

The subscribers (seeded, so every run builds the same ledger): most are light (a few GB a
week, on line a quarter of the time), some medium, some heavy (past the step at 80% of the
cap, some past the cap, then held at the limited rate from the moment they crossed it), and
a few on a larger plan. Usage follows the day (quiet at night, busiest in the evening);
00:00-07:00 is free. Every subscriber over a threshold has the standing, limit and `limit
applied` events the daemon would have written at the crossing.

Building is fast because the daemon's 2,016 commits of one 5-minute cycle each are made as
168 commits of one hour each: every hour file of samples is written once, and the window
totals are the same (one document per commit and sample time, as the daemon's). The history
starts one cycle after the window's edge, so that the extra cycle drops nobody's samples out
of the window: only the movers' data changes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # nmsquota is normally installed editable; this is a fallback
    sys.path.insert(0, str(REPO))

from nmsquota.config import load_config  # noqa: E402
from nmsquota.ledger import Ledger, Sample, Tally  # noqa: E402
from nmsquota.ledger.records import (  # noqa: E402
    DriverOutcomeRecord,
    EventKind,
    EventRecord,
    HealthRecord,
    Limit,
    StandingRecord,
    SubscriberRecord,
)
from nmsquota.verdict import Reason, ReasonKind, State  # noqa: E402

GB = 10**9
HOUR = 3600
DAY = 86400
INTERVAL = 300
AS_OF = 1_800_014_400
"""Fri 2027-01-15 12:00 UTC: the last commit of the week built."""
FREE_UNTIL_HOUR = 7
"""00:00-07:00 (UTC) is free: counted against no cap."""
STEP_AT = 80.0
STEP_RATE = 10_000_000
LIMIT_RATE = 1_000_000
LIMITED_PER_INTERVAL = LIMIT_RATE * INTERVAL // 8
"""The most a subscriber held at 1 Mbit/s downloads in a cycle."""
PLANS = {"lite": 20 * GB, "home": 50 * GB, "max": 150 * GB}
CONFIG = """\
timezone = "UTC"
interval = "5m"
{plans}"""
PLAN = """\
[plans.{name}]
cap = "{cap_gb}GB"
window = "7d"
free_hours = "00:00-07:00"
hysteresis = "10%"
limit = {{ rate = "1Mbit" }}
steps = [{{ at = "80%", rate = "10Mbit" }}]
"""
EVENING = {h: 1.0 for h in range(18, 24)}
DAYTIME = {h: 0.6 for h in range(7, 18)}
ACTIVITY_BY_HOUR = [EVENING.get(h, DAYTIME.get(h, 0.15)) for h in range(24)]
"""How likely a subscriber is on line in each hour, against the evening's peak."""


@dataclass
class Subscriber:
    """One subscriber's habits, and where they stand as the week is written."""

    name: str
    plan: str
    weekly: int
    """Roughly how much they would download in the week, unlimited (free hours included)."""
    activity: float
    """The share of evening cycles they download in."""
    mean: float = 0.0
    """Bytes in a cycle they download in: weekly spread over their expected cycles."""
    counted: int = 0
    stepped_at: int | None = None
    limited_at: int | None = None
    crossings: list[tuple[int, float | None, int, int]] = field(default_factory=list)
    """(time, step threshold or None for the cap, used, rate) for each threshold crossed."""

    @property
    def cap(self) -> int:
        return PLANS[self.plan]

    def download(self, rng: random.Random, t: int) -> int:
        hour = (t % DAY) // HOUR
        if rng.random() >= self.activity * ACTIVITY_BY_HOUR[hour]:
            return 0
        amount = int(rng.expovariate(1.0 / self.mean))
        if self.limited_at is not None:
            amount = min(amount, LIMITED_PER_INTERVAL)
        if hour >= FREE_UNTIL_HOUR and amount:
            self.count(t, amount)
        return amount

    def count(self, t: int, amount: int) -> None:
        """Counted usage: `amount` more at `t`, and the thresholds it crosses."""
        self.counted += amount
        if self.stepped_at is None and self.counted * 100 >= STEP_AT * self.cap:
            self.stepped_at = t
            self.crossings.append((t, STEP_AT, self.counted, STEP_RATE))
        if self.limited_at is None and self.counted >= self.cap:
            self.limited_at = t
            self.crossings.append((t, None, self.counted, LIMIT_RATE))


@dataclass(frozen=True)
class Built:
    subscribers: int
    samples: int
    seconds: float
    bytes_on_disk: int
    files: int
    limited: int
    stepped: int


def subscribers(count: int, seed: int) -> list[Subscriber]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.60:  # light: a few GB a week, on line now and then
            who = Subscriber(f"sub-{i:05d}", "lite", int(rng.uniform(0.2, 6) * GB), 0.25)
        elif roll < 0.90:  # medium
            who = Subscriber(f"sub-{i:05d}", "home", int(rng.uniform(5, 35) * GB), 0.5)
        elif roll < 0.97:  # heavy: past the step, many past the cap
            who = Subscriber(f"sub-{i:05d}", "home", int(rng.uniform(40, 90) * GB), 0.8)
        else:  # the big plan's
            who = Subscriber(f"sub-{i:05d}", "max", int(rng.uniform(60, 220) * GB), 0.8)
        cycles_a_week = who.activity * sum(ACTIVITY_BY_HOUR) * (HOUR // INTERVAL) * 7
        who.mean = who.weekly / cycles_a_week
        found.append(who)
    return found


def write_config(data: Path, extra: str = "") -> Path:
    """DATA/nmsquota.toml: the plans, and `extra` TOML after them (a [report] section, say)."""
    data.mkdir(parents=True, exist_ok=True)
    plans = "".join(PLAN.format(name=name, cap_gb=cap // GB) for name, cap in PLANS.items())
    path = data / "nmsquota.toml"
    path.write_text(f'data_dir = "{data / "ledger"}"\n' + CONFIG.format(plans=plans) + extra)
    return path


def tallies(data: Path) -> list[Tally]:
    return load_config(data / "nmsquota.toml", check_drivers=False).tallies()


def build(data: Path, count: int = 5000, days: int = 7, seed: int = 1, extra: str = "") -> Built:
    """DATA/nmsquota.toml (with `extra` TOML at its end) and a ledger in DATA/ledger whose
    last commit is AS_OF."""
    started = time.perf_counter()
    write_config(data, extra)
    people = subscribers(count, seed)
    rng = random.Random(seed + 1)
    first = AS_OF - days * DAY + 2 * INTERVAL  # the window's first cycle stays empty
    hours = range(AS_OF - days * DAY + HOUR, AS_OF + 1, HOUR)
    written = 0
    with Ledger.open_writer(data / "ledger", tallies(data)) as ledger:
        for hour in hours:
            times = [t for t in range(hour - HOUR + INTERVAL, hour + 1, INTERVAL) if t >= first]
            samples = [
                Sample(who.name, t, amount, amount // 12)
                for t in times
                for who in people
                if (amount := who.download(rng, t))
            ]
            written += len(samples)
            with ledger.batch():
                if hour == hours[0]:
                    ledger.records.set_provisioned(_provisioned(people))
                ledger.commit(hour, samples)
                if hour == hours[-1]:
                    _record_standings(ledger, people)
                    ledger.records.set_health(_health(len(hours) * 12, hour, people))
    files = [p for p in (data / "ledger").rglob("*") if p.is_file()]
    return Built(
        subscribers=count, samples=written, seconds=time.perf_counter() - started,
        bytes_on_disk=sum(p.stat().st_size for p in files), files=len(files),
        limited=sum(who.limited_at is not None for who in people),
        stepped=sum(who.stepped_at is not None and who.limited_at is None for who in people),
    )  # fmt: skip


def _provisioned(people: Sequence[Subscriber]) -> list[SubscriberRecord]:
    return [
        SubscriberRecord(name=who.name, plan=who.plan, addresses=(_address(i),))
        for i, who in enumerate(people)
    ]


def _address(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _standing(who: Subscriber) -> StandingRecord | None:
    since = who.limited_at if who.limited_at is not None else who.stepped_at
    if since is None:
        return None
    limited = who.limited_at is not None
    step_at = None if limited else STEP_AT
    used = who.crossings[-1][2]
    return StandingRecord(
        subscriber=who.name, state=State.LIMITED if limited else State.STEPPED, since=since,
        reason=Reason(ReasonKind.OVER, step_at=step_at, used=used, cap=who.cap),
        used=who.counted, cap=who.cap, step=None if limited else 0, step_at=step_at,
        rate=LIMIT_RATE if limited else STEP_RATE,
    )  # fmt: skip


def _health(number: int, at: int, people: Sequence[Subscriber]) -> HealthRecord:
    """The last cycle, as the daemon records it: two access servers answered."""
    limited = tuple(who.name for who in people if who.limited_at is not None)
    return HealthRecord(
        number=number, started=at - 2.0, due=at - 2.5, seconds=1.5,
        devices_ok=("bras-1", "bras-2"), devices_failed={}, limited=limited,
        drivers={"nftables": DriverOutcomeRecord(added=(), removed=())}, interval=INTERVAL,
    )  # fmt: skip


def _must(standing: StandingRecord | None) -> StandingRecord:
    assert standing is not None, "a subscriber past a threshold has a standing"
    return standing


def _record_standings(ledger: Ledger, people: Sequence[Subscriber]) -> None:
    """What the daemon's decisions left: a standing and a limit for everyone over a
    threshold, and a `limit applied` event at each crossing (the step's, then the cap's)."""
    standings = [s for who in people if (s := _standing(who)) is not None]
    ledger.records.set_standings(standings)
    ledger.records.set_limits(
        Limit(subscriber=s.subscriber, since=s.since or 0, reason=str(s.reason),
              driver="nftables", rate_bps=s.rate)
        for s in standings
    )  # fmt: skip
    ledger.records.add_events(_applied_events(people))


def _applied_events(people: Sequence[Subscriber]) -> list[EventRecord]:
    events = [
        EventRecord(
            time=t,
            kind=EventKind.LIMIT_APPLIED,
            subscriber=who.name,
            text=f"{who.name} limited to {rate} bit/s",
            reason=Reason(ReasonKind.OVER, step_at=step_at, used=used, cap=who.cap),
        )
        for who in people
        for t, step_at, used, rate in who.crossings
    ]
    return sorted(events, key=lambda e: e.time)


def add_cycle(data: Path, share: float = 0.04, seed: int = 2) -> list[str]:
    """One more cycle, INTERVAL after the last commit, in which `share` of the subscribers
    download something (the rest nothing); their standings follow. Returns the movers."""
    rng = random.Random(seed)
    at = AS_OF + INTERVAL
    with Ledger.open_writer(data / "ledger", tallies(data)) as ledger:
        names = sorted(record.name for record in ledger.records.provisioned())
        movers = sorted(rng.sample(names, int(len(names) * share)))
        plans = {record.name: record.plan for record in ledger.records.provisioned()}
        with ledger.batch():
            ledger.commit(at, [Sample(name, at, 1 + int(rng.expovariate(1 / 50e6)), 0)
                               for name in movers])  # fmt: skip
            _restand(ledger, movers, plans, at)
    return movers


def _restand(ledger: Ledger, movers: Sequence[str], plans: dict[str, str], at: int) -> None:
    """A mover who crossed a threshold in this cycle is stepped or limited now."""
    totals = ledger.totals()
    standings = {s.subscriber: s for s in ledger.records.standings()}
    crossed = []
    for name in movers:
        who = Subscriber(name, plans[name], 0, 0.0)
        current = standings.get(name)
        if current is not None:
            who.stepped_at = current.since
            who.limited_at = current.since if current.state is State.LIMITED else None
        who.count(at, totals[name].bytes_in if name in totals else 0)
        if not who.crossings:
            continue
        standings[name] = standing = _must(_standing(who))
        crossed.append(who)
        ledger.records.set_limit(
            Limit(subscriber=name, since=at, reason=str(standing.reason),
                  driver="nftables", rate_bps=standing.rate)
        )  # fmt: skip
    ledger.records.set_standings(standings.values())
    ledger.records.add_events(_applied_events(crossed))
    health = ledger.records.health()
    if health is not None:
        ledger.records.set_health(_health(health.number + 1, at, []))


@dataclass(frozen=True)
class Regeneration:
    full: float
    """Seconds for the whole site from the week's ledger."""
    incremental: float
    """Seconds after one more cycle in which `moved` subscribers downloaded."""
    moved: int
    subscribers: int


def time_site_regeneration(
    data: Path, regenerate: Callable[[Path], object], *, share: float = 0.04
) -> Regeneration:
    """Times `regenerate(data)` twice over a ledger `build` made in DATA: first from nothing
    (the full site), then after `add_cycle` (fewer than 5% moved: the incremental run), and
    prints both against the issue's targets (<= 30 s full, <= 5 s incremental). The ledger
    is changed by the extra cycle: build a new one for another run."""
    started = time.perf_counter()
    regenerate(data)
    full = time.perf_counter() - started
    count = len(Ledger.open_reader(data / "ledger").records.provisioned())
    movers = add_cycle(data, share)
    started = time.perf_counter()
    regenerate(data)
    incremental = time.perf_counter() - started
    result = Regeneration(full, incremental, len(movers), count)
    print(f"site, full regeneration ({count:,} subscribers): {full:.1f} s (target <= 30 s)")
    print(f"site, after one cycle in which {len(movers):,} moved "
          f"({len(movers) / count:.1%}): {incremental:.2f} s (target <= 5 s)")  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="build here (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the ledger afterwards")
    args = parser.parse_args(argv)
    data = args.dir or Path(tempfile.mkdtemp(prefix="nq-report-ledger-"))
    if (data / "ledger").exists():
        parser.error(f"{data / 'ledger'} exists already: give another --dir")
    try:
        built = build(data, args.subscribers, args.days, args.seed)
        print(f"built {built.subscribers:,} subscribers, {args.days} days of 5-minute samples "
              f"({built.samples:,} samples, {built.limited} limited, {built.stepped} stepped) "
              f"in {built.seconds:.1f} s: {built.bytes_on_disk / 2**20:.1f} MiB "
              f"in {built.files} files")  # fmt: skip
        started = time.perf_counter()
        movers = add_cycle(data)
        print(f"one more cycle, {len(movers):,} subscribers moving "
              f"({len(movers) / built.subscribers:.1%}): "
              f"{time.perf_counter() - started:.2f} s")  # fmt: skip
        if args.keep:
            print(f"kept in {data}")
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
