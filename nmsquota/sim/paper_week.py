"""A week of usage like the paper's rebel.net.au: a few light users and one who never stops.

Deterministic for a given seed. Each subscriber has a daily volume and hours online; the
biggest user is online about twenty hours a day downloading about 180 MB a day, as in the
paper's results section.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from nmsquota.ledger import Sample

INTERVAL = 300


@dataclass(frozen=True)
class Profile:
    name: str
    daily_in: int
    online_hours: tuple[int, int]  # local hours [start, end), may wrap past midnight
    upload_ratio: float


PAPER_SUBSCRIBERS = (
    Profile("davidn", 270_000, (18, 23), 0.17),
    Profile("john", 8_500, (19, 21), 0.27),
    Profile("cpjpm", 3_000, (20, 21), 1.0),
    Profile("flamencoareti", 1_400, (9, 10), 0.8),
    Profile("crowther", 6_000_000, (8, 18), 0.11),
    Profile("susannes", 8_100_000, (17, 24), 0.05),
    Profile("biguser", 180_000_000, (11, 7), 0.04),
)


def _online(profile: Profile, hour: int) -> bool:
    start, end = profile.online_hours
    return start <= hour < end if start < end else hour >= start or hour < end


def paper_week(
    start: int, days: int = 7, seed: int = 2001, utc_offset: int = 34_200
) -> Iterator[Sample]:
    """Five-minute samples from `start` for `days`; `utc_offset` places the online hours."""
    rng = random.Random(seed)
    for step in range(1, days * 86400 // INTERVAL + 1):
        now = start + step * INTERVAL
        hour = (now + utc_offset) // 3600 % 24
        for profile in PAPER_SUBSCRIBERS:
            if not _online(profile, hour):
                continue
            start_h, end_h = profile.online_hours
            hours_online = (end_h - start_h) % 24 or 24
            mean = profile.daily_in / (hours_online * 3600 / INTERVAL)
            bytes_in = int(mean * rng.uniform(0.2, 1.8))
            yield Sample(profile.name, now, bytes_in, int(bytes_in * profile.upload_ratio))
