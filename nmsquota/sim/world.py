"""A simulated access server's subscribers: who is online, on which interface, downloading
how fast, on a clock the caller moves. Seeded and deterministic: the same seed and the
same sequence of times give the same counters.

Profiles follow the paper's population: most subscribers are light or medium users with
an evening peak who log on and off; the biggest user is online about twenty hours a day
downloading more or less constantly (about 180 MB a day). Each session is a new PPP
interface with counters from zero; an ended session's ifIndex goes back to a pool and the
next session, often another subscriber's, reuses it. A limited subscriber's traffic drops
to the limited rate (the `sim` driver tells the world who is limited).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

DAY = 86_400
MB = 10**6

# Share of a day's volume in each local hour: quiet at night, a peak in the evening.
RHYTHM = [0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.8, 0.9, 1.0, 1.0,
          1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.3, 2.4, 2.0, 1.4, 0.8]  # fmt: skip
_RHYTHM_MEAN = sum(RHYTHM) / len(RHYTHM)


LIMITED_GOODPUT = 0.8
"""What a limited subscriber gets of the limited rate: the paper's 3 kbit/s pipe "permits
approximately 300 bytes per second" (headers and the queue take the rest)."""


@dataclass(frozen=True)
class Profile:
    name: str
    mb_per_day: float
    hours_online: float
    """Hours online a day, in sessions."""
    sessions_per_day: int
    steady: bool = False
    """Downloads at a constant rate while online (no daily rhythm): the paper's biggest user."""
    spread: float = 0.0
    """How far apart subscribers of this kind are: their daily volumes are spaced like a
    log-normal distribution of this sigma around `mb_per_day`, whose mean they keep. 0: all
    alike (then no cap between the kind's mean and the next kind's tells two plans apart)."""
    online_at_start: bool = False
    """A steady user is already online when the world starts, in the session he began the
    evening before, so his first day is like his others (else it starts in the morning)."""


# Dial-up era volumes, as in the paper: most subscribers far under 63 MB a week, a heavy
# one near it, the biggest user at about 180 MB a day.
LIGHT = Profile("light", 1.5, 2, 2)
MEDIUM = Profile("medium", 4, 4, 3)
HEAVY = Profile("heavy", 7, 8, 2)
BIGGEST = Profile("biggest", 180, 20, 1, steady=True)
SPREAD = 0.5
"""The simulator's spread within a kind: the lightest and heaviest of three heavy users
download 0.57 and 1.5 times the kind's mean (4 and 10.5 MB a day, 28 and 74 MB a week),
as the paper's own usage listing shows two heavy users at 42 and 57 MB, not one figure."""
REPLAYED = Profile("replayed", 0, 24, 1)
"""A subscriber whose traffic is a recorded ledger's (Subscriber.trace), not a profile's."""


@dataclass
class Subscriber:
    name: str
    profile: Profile
    address: str
    sessions: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) of each session, in seconds since the world's start."""
    away: frozenset[int] = frozenset()
    """Days (since the start) without any session."""
    downloaded: float = 0.0
    uploaded: float = 0.0
    limited_bps: int | None = None
    """The rate the sim driver holds them to, or None."""
    scale: float = 1.0
    """Their daily volume against their profile's (Profile.spread)."""
    trace: list[tuple[float, float, float, float]] = field(default_factory=list)
    """A replayed subscriber's recorded usage: (begin, end, download and upload bytes per
    second), in time order, seconds since the world's start. Empty: the profile decides."""
    next_session: int = 0
    """The first session `advance` has not started yet."""
    ending: int = 0
    """The first session `advance` has not ended yet."""


@dataclass
class Session:
    subscriber: Subscriber
    index: int
    started: float
    octets_out: float = 0.0
    """Towards the subscriber (their download), as the access server counts it."""
    octets_in: float = 0.0
    counted_to: float = 0.0
    """The counters hold the session's traffic up to this moment."""


class World:
    def __init__(
        self,
        start: float,
        days: int,
        seed: int = 1,
        population: dict[Profile, int] | None = None,
        away: dict[str, frozenset[int]] | None = None,
        traces: dict[str, list[tuple[float, float, float, float]]] | None = None,
    ) -> None:
        self.start = start
        self.now = start
        self.rng = random.Random(seed)
        self.subscribers: list[Subscriber] = []
        if traces is not None:
            # A recorded ledger replayed: its subscribers, online when they moved bytes.
            for count, (name, trace) in enumerate(sorted(traces.items()), start=1):
                subscriber = Subscriber(name, REPLAYED, _address(count), trace=trace)
                subscriber.sessions = _merged([(begin, end) for begin, end, _, _ in trace])
                self.subscribers.append(subscriber)
        else:
            population = population or {LIGHT: 5, MEDIUM: 4, HEAVY: 2, BIGGEST: 1}
            count = 0
            for profile, how_many in population.items():
                for n, scale in enumerate(_scales(profile.spread, how_many)):
                    count += 1
                    first = profile.name == BIGGEST.name and n == 0
                    name = "biguser" if first else f"{profile.name}{n + 1}"
                    self.subscribers.append(Subscriber(name, profile, _address(count),
                                                       scale=scale))  # fmt: skip
            for subscriber in self.subscribers:
                subscriber.away = (away or {}).get(subscriber.name, frozenset())
                subscriber.sessions = [
                    (begin, end)
                    for begin, end in self._schedule(subscriber.profile, days)
                    if int(begin // DAY) not in subscriber.away
                ]
        self.online: dict[str, Session] = {}
        # The ifIndex pool, lowest first.
        self._free = list(range(max(1000, 2 * len(self.subscribers)), 0, -1))
        self.last_change = start
        self._names: dict[bool, dict[str, Any]] = {}
        """Each subscriber's ifName value, typed or not (objects()): the same every cycle."""
        self._row_oids: dict[int, tuple[tuple[int, ...], ...]] = {}
        """Per ifIndex, the OIDs of its row's objects (objects()): made once, not per call."""

    def _schedule(self, profile: Profile, days: int) -> list[tuple[float, float]]:
        sessions = []
        for day in range(-1 if profile.steady and profile.online_at_start else 0, days + 1):
            if profile.steady:
                # Online ~20 h a day: off for a few hours in the early morning.
                off = self.rng.uniform(3, 5) * 3600
                gap = (24 - profile.hours_online) * 3600
                sessions.append((day * DAY + off + gap, (day + 1) * DAY + off))
                continue
            length = profile.hours_online * 3600 / profile.sessions_per_day
            for _ in range(profile.sessions_per_day):
                begin = day * DAY + self.rng.uniform(0, DAY - length)
                sessions.append((begin, begin + length * self.rng.uniform(0.6, 1.4)))
        return _merged(sessions)

    def rate(self, subscriber: Subscriber, at: float) -> float:
        """Bytes per second towards the subscriber at `at` while online."""
        profile = subscriber.profile
        per_online_second = (
            profile.mb_per_day * subscriber.scale * MB / (profile.hours_online * 3600)
        )
        if not profile.steady:
            hour = int(((at - self.start) % DAY) // 3600)
            per_online_second *= RHYTHM[hour] / _RHYTHM_MEAN
        if subscriber.limited_bps is not None:
            limited = subscriber.limited_bps / 8 * LIMITED_GOODPUT
            per_online_second = min(per_online_second, limited)
        return per_online_second

    def moved_between(self, subscriber: Subscriber, begin: float, end: float
                      ) -> tuple[float, float]:  # fmt: skip
        """Bytes (down, up) of an online subscriber over [begin, end). The rate is constant
        within each local hour, or each recorded sample, and between limit changes (which
        happen only where `advance` stops)."""
        if subscriber.trace:
            return self._replayed(subscriber, begin, end)
        if subscriber.profile.steady:
            down = self.rate(subscriber, begin) * max(0.0, end - begin)
            return down, down / 20
        total, at = 0.0, begin
        while at < end:
            hour_ends = self.start + ((at - self.start) // 3600 + 1) * 3600
            upto = min(end, hour_ends)
            total += self.rate(subscriber, at) * (upto - at)
            at = upto
        return total, total / 20  # requests and acks

    def _replayed(self, subscriber: Subscriber, begin: float, end: float) -> tuple[float, float]:
        trace = subscriber.trace
        limited = (
            subscriber.limited_bps / 8 * LIMITED_GOODPUT
            if subscriber.limited_bps is not None
            else float("inf")
        )
        down = up = 0.0
        i = max(0, bisect.bisect_right(trace, (begin - self.start,)) - 1)
        while i < len(trace) and self.start + trace[i][0] < end:
            seg_begin, seg_end, down_rate, up_rate = trace[i]
            overlap = min(end, self.start + seg_end) - max(begin, self.start + seg_begin)
            if overlap > 0:
                down += min(down_rate, limited) * overlap
                up += up_rate * overlap
            i += 1
        return down, up

    def advance(self, to: float) -> None:
        """Move the world to `to`: sessions start and end at their scheduled moments (in time
        order, so ifIndex reuse is deterministic) and every online session's counters grow
        by exactly what its rate gives. Costs per session event and online session, not per
        simulated second, so a month of a thousand subscribers is quick."""
        if to <= self.now:
            return
        events: list[tuple[float, int, int, Subscriber]] = []  # (time, 0 down | 1 up, order)
        for order, subscriber in enumerate(self.subscribers):
            sessions, i = subscriber.sessions, subscriber.next_session
            while i < len(sessions) and self.start + sessions[i][0] < to:
                events.append((max(self.now, self.start + sessions[i][0]), 1, order, subscriber))
                i += 1
            subscriber.next_session = i
            # Every session that is (or is about to be) online and ends before `to`.
            for _, end in sessions[subscriber.ending : i]:
                if self.start + end < to:
                    events.append((max(self.now, self.start + end), 0, order, subscriber))
                    subscriber.ending += 1
                else:
                    break
        events.sort(key=lambda event: event[:3])
        for at, kind, _, subscriber in events:
            session = self.online.get(subscriber.name)
            if kind == 1 and session is None:
                session = Session(subscriber, self._free.pop(), at, counted_to=at)
                self.online[subscriber.name] = session
                self.last_change = at
            elif kind == 0 and session is not None:
                self._settle(session, at)
                del self.online[subscriber.name]
                self._free.append(session.index)
                self._free.sort(reverse=True)
                self.last_change = at
        for session in self.online.values():
            self._settle(session, to)
        self.now = to

    def _settle(self, session: Session, to: float) -> None:
        down, up = self.moved_between(session.subscriber, session.counted_to, to)
        session.counted_to = to
        session.octets_out += down
        session.octets_in += up
        session.subscriber.downloaded += down
        session.subscriber.uploaded += up

    def limit(self, name: str, rate_bps: int | None) -> None:
        for subscriber in self.subscribers:
            if subscriber.name == name:
                subscriber.limited_bps = rate_bps

    def objects(self, typed: bool = True) -> dict[tuple[int, ...], Any]:
        """The IF-MIB and SNMPv2-MIB objects an agent serves for the world as it is now:
        values already in BER for the agent to send (agent.Ber: encoded as the pysnmp
        values of their types would be), or (`typed=False`) plain ints and strings for the
        in-process bypass. Neither builds a pysnmp object per value, which cost more than
        the agent's replies."""
        from nmsquota.sim.agent import ber

        def plain(value: Any) -> Any:
            return value

        def typer(tag: int) -> Callable[[Any], Any]:
            return lambda value: ber(tag, value.encode() if isinstance(value, str) else value)

        counter32, counter64, gauge, integer, octets, ticks_of = (
            [typer(tag) for tag in (0x41, 0x46, 0x42, 0x02, 0x04, 0x43)] if typed else [plain] * 6
        )
        c = _COLUMNS
        ticks = int((self.now - self.start + 3600) * 100)
        objects: dict[tuple[int, ...], Any] = {
            c["uptime"]: ticks_of(ticks % 2**32),
            c["ifNumber"]: integer(len(self.online)),
            c["lastChange"]: ticks_of(int((self.last_change - self.start + 3600) * 100) % 2**32),
        }
        up_status, speed, high_speed = integer(1), gauge(100_000_000), gauge(100)
        names = self._names.setdefault(typed, {})
        for session in self.online.values():
            i = session.index
            who = session.subscriber.name
            name = names.get(who)
            if name is None:
                name = names[who] = octets(f"<pppoe-{who}>")
            down, up = int(session.octets_out), int(session.octets_in)
            oids = self._row_oids.get(i)
            if oids is None:
                oids = self._row_oids[i] = tuple((*c[column], i) for column in _ROW)
            name_oid, descr, status, if_speed, if_high, in32, out32, in64, out64 = oids
            objects[name_oid] = name
            objects[descr] = name
            objects[status] = up_status
            objects[if_speed] = speed
            objects[if_high] = high_speed
            objects[in32] = counter32(up % 2**32)
            objects[out32] = counter32(down % 2**32)
            objects[in64] = counter64(up)
            objects[out64] = counter64(down)
        return objects


def _address(count: int) -> str:
    return f"10.{count // 250}.{count % 250 + 1}.2"


def _scales(spread: float, count: int) -> list[float]:
    """Volume factors for `count` subscribers of one kind, lightest first: evenly spaced
    quantiles of a log-normal distribution, scaled to a mean of 1. Quantiles, not draws: the
    same population always has the same spread, and no luck of the seed decides whether a
    kind has a member between two caps."""
    if spread <= 0 or count < 2:
        return [1.0] * count
    normal = NormalDist()
    raw = [math.exp(spread * normal.inv_cdf((k + 0.5) / count)) for k in range(count)]
    mean = sum(raw) / count
    return [factor / mean for factor in raw]


def _merged(sessions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sessions in time order, those less than a minute apart joined."""
    merged: list[tuple[float, float]] = []
    for begin, end in sorted(sessions):
        if merged and begin <= merged[-1][1] + 60:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _columns() -> dict[str, tuple[int, ...]]:
    from nmsquota.snmp import tables as p
    from nmsquota.snmp.walk import parse_oid as _oid

    return {
        "uptime": _oid(p.SYS_UPTIME), "ifNumber": _oid(p.IF_NUMBER),
        "lastChange": _oid(p.IF_TABLE_LAST_CHANGE), "ifName": _oid(p.IF_NAME),
        "ifDescr": _oid(p.IF_DESCR), "ifOperStatus": _oid(p.IF_OPER_STATUS),
        "ifSpeed": _oid(p.IF_SPEED), "ifHighSpeed": _oid(p.IF_HIGH_SPEED),
        "ifInOctets": _oid(p.IF_IN_OCTETS), "ifOutOctets": _oid(p.IF_OUT_OCTETS),
        "ifHCInOctets": _oid(p.IF_HC_IN_OCTETS), "ifHCOutOctets": _oid(p.IF_HC_OUT_OCTETS),
    }  # fmt: skip


_COLUMNS = _columns()
_ROW = ("ifName", "ifDescr", "ifOperStatus", "ifSpeed", "ifHighSpeed", "ifInOctets",
        "ifOutOctets", "ifHCInOctets", "ifHCOutOctets")  # fmt: skip
"""A session's row, in the order objects() sets it."""
