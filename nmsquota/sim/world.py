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

import random
from dataclasses import dataclass, field
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


# Dial-up era volumes, as in the paper: most subscribers far under 63 MB a week, a heavy
# one near it, the biggest user at about 180 MB a day.
LIGHT = Profile("light", 1.5, 2, 2)
MEDIUM = Profile("medium", 4, 4, 3)
HEAVY = Profile("heavy", 7, 8, 2)
BIGGEST = Profile("biggest", 180, 20, 1, steady=True)


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


@dataclass
class Session:
    subscriber: Subscriber
    index: int
    started: float
    octets_out: float = 0.0
    """Towards the subscriber (their download), as the access server counts it."""
    octets_in: float = 0.0


class World:
    def __init__(
        self,
        start: float,
        days: int,
        seed: int = 1,
        population: dict[Profile, int] | None = None,
        away: dict[str, frozenset[int]] | None = None,
    ) -> None:
        self.start = start
        self.now = start
        self.rng = random.Random(seed)
        population = population or {LIGHT: 5, MEDIUM: 4, HEAVY: 2, BIGGEST: 1}
        self.subscribers: list[Subscriber] = []
        count = 0
        for profile, how_many in population.items():
            for n in range(how_many):
                count += 1
                name = "biguser" if profile is BIGGEST and n == 0 else f"{profile.name}{n + 1}"
                address = f"10.{count // 250}.{count % 250 + 1}.2"
                self.subscribers.append(Subscriber(name, profile, address))
        for subscriber in self.subscribers:
            subscriber.away = (away or {}).get(subscriber.name, frozenset())
            subscriber.sessions = [
                (begin, end)
                for begin, end in self._schedule(subscriber.profile, days)
                if int(begin // DAY) not in subscriber.away
            ]
        self.online: dict[str, Session] = {}
        self._free = list(range(1000, 0, -1))  # ifIndex pool, lowest first
        self.last_change = start

    def _schedule(self, profile: Profile, days: int) -> list[tuple[float, float]]:
        sessions = []
        for day in range(days + 1):
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
        sessions.sort()
        merged: list[tuple[float, float]] = []
        for begin, end in sessions:
            if merged and begin <= merged[-1][1] + 60:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        return merged

    def rate(self, subscriber: Subscriber, at: float) -> float:
        """Bytes per second towards the subscriber at `at` while online."""
        profile = subscriber.profile
        per_online_second = profile.mb_per_day * MB / (profile.hours_online * 3600)
        if not profile.steady:
            hour = int(((at - self.start) % DAY) // 3600)
            per_online_second *= RHYTHM[hour] / _RHYTHM_MEAN
        if subscriber.limited_bps is not None:
            limited = subscriber.limited_bps / 8 * LIMITED_GOODPUT
            per_online_second = min(per_online_second, limited)
        return per_online_second

    def advance(self, to: float) -> None:
        """Move the world to `to`: sessions start and end, counters grow (in 60 s steps)."""
        while self.now < to:
            step = min(60.0, to - self.now)
            mid = self.now + step / 2
            for subscriber in self.subscribers:
                elapsed = mid - self.start
                active = any(b <= elapsed < e for b, e in subscriber.sessions)
                session = self.online.get(subscriber.name)
                if active and session is None:
                    session = Session(subscriber, self._free.pop(), self.now)
                    self.online[subscriber.name] = session
                    self.last_change = self.now
                elif not active and session is not None:
                    del self.online[subscriber.name]
                    self._free.append(session.index)
                    self._free.sort(reverse=True)
                    self.last_change = self.now
                    continue
                if session is not None:
                    down = self.rate(subscriber, mid) * step
                    session.octets_out += down
                    session.octets_in += down / 20  # requests and acks
                    subscriber.downloaded += down
                    subscriber.uploaded += down / 20
            self.now += step

    def limit(self, name: str, rate_bps: int | None) -> None:
        for subscriber in self.subscribers:
            if subscriber.name == name:
                subscriber.limited_bps = rate_bps

    def objects(self) -> dict[tuple[int, ...], Any]:
        """The IF-MIB and SNMPv2-MIB objects an agent serves for the world as it is now."""
        from pysnmp.proto.rfc1902 import (
            Counter32,
            Counter64,
            Gauge32,
            Integer32,
            OctetString,
            TimeTicks,
        )

        from nmsquota.snmp import poller as p

        def oid(text: str) -> tuple[int, ...]:
            return tuple(int(part) for part in text.split("."))

        ticks = int((self.now - self.start + 3600) * 100)
        objects: dict[tuple[int, ...], Any] = {
            oid(p.SYS_UPTIME): TimeTicks(ticks % 2**32),
            oid(p.IF_NUMBER): Integer32(len(self.online)),
            oid(p.IF_TABLE_LAST_CHANGE): TimeTicks(
                int((self.last_change - self.start + 3600) * 100) % 2**32
            ),
        }
        for session in self.online.values():
            i = session.index
            name = OctetString(f"<pppoe-{session.subscriber.name}>")
            down, up = int(session.octets_out), int(session.octets_in)
            objects[(*oid(p.IF_NAME), i)] = name
            objects[(*oid(p.IF_DESCR), i)] = name
            objects[(*oid(p.IF_OPER_STATUS), i)] = Integer32(1)
            objects[(*oid(p.IF_SPEED), i)] = Gauge32(100_000_000)
            objects[(*oid(p.IF_HIGH_SPEED), i)] = Gauge32(100)
            objects[(*oid(p.IF_IN_OCTETS), i)] = Counter32(up % 2**32)
            objects[(*oid(p.IF_OUT_OCTETS), i)] = Counter32(down % 2**32)
            objects[(*oid(p.IF_HC_IN_OCTETS), i)] = Counter64(up)
            objects[(*oid(p.IF_HC_OUT_OCTETS), i)] = Counter64(down)
        return objects
