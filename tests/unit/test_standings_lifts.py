"""When a limit lifts if nothing more is moved (nmsquota.standings.lifts): the samples are
read once, oldest first, and only as far as the lift times need; each is what the policy's
lifts_at says over the cap's whole window."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nmsquota.config import Cap
from nmsquota.ledger import Ledger, Sample, Tally
from nmsquota.ledger.base import Location
from nmsquota.ledger.records import CapStanding
from nmsquota.ledger.shards import SHARD_SECONDS
from nmsquota.policy import Rule, lifts_at
from nmsquota.standings.lifts import HeldCap, Pulled, lift_times
from nmsquota.usage import FreeHours
from nmsquota.verdict import State

T0 = 1_800_000_000 - 1_800_000_000 % SHARD_SECONDS
HOUR = 3600
DAY = Tally(86400)
NIGHTS = Tally(86400, FreeHours(0, 6 * 60, "Europe/Paris"))
HOURS = 30
USAGE = {"ann": [10] * 6 + [900] + [10] * 23, "bo": [40] * HOURS, "cy": [5] * HOURS}
"""Bytes downloaded each hour: ann most of it in the first hour of the last day's window,
bo and cy evenly."""


@pytest.fixture
def ledger(ledger_at: Location) -> Ledger:
    with Ledger.open_writer(ledger_at, [DAY, NIGHTS]) as writer:
        for hour in range(HOURS):
            now = T0 + (hour + 1) * HOUR
            writer.commit(now, [Sample(name, now, amounts[hour], 1)
                                for name, amounts in USAGE.items()])  # fmt: skip
    return Ledger.open_reader(ledger_at)


def held(name: str, used: int, cap: int, tally: Tally = DAY) -> HeldCap:
    rule = Rule(cap, hysteresis=0.1, name="1d")
    standing = CapStanding(state=State.LIMITED, used=used, cap=cap, cap_name="1d")
    return HeldCap(name, rule, Cap(cap=cap, window="1d"), tally, standing)


def whole_window(ledger: Ledger, one: HeldCap) -> int | None:
    """lifts_at over every counted sample of the window, read in full."""
    assert ledger.as_of is not None and one.decided is not None
    edge = one.tally.edge_at(ledger.as_of)
    counted = [(s.time, s.bytes_in) for s in ledger.samples([one.subscriber], after=edge)
               if one.tally.counts(s.time)]  # fmt: skip
    return lifts_at(one.rule, None, one.decided.used, one.cap.cap, counted, 86400)


def counting(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[Sample]:
    """The samples the ledger hands out from now on (whichever store keeps it)."""
    handed: list[Sample] = []
    store = type(ledger)
    real = store.samples

    def samples(self: Ledger, *args: object, **kwargs: object) -> Iterator[Sample]:
        for sample in real(self, *args, **kwargs):  # type: ignore[arg-type]
            handed.append(sample)
            yield sample

    monkeypatch.setattr(store, "samples", samples)
    return handed


def test_lift_times_read_only_as_far_as_the_oldest_usage_that_must_leave(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ann's day holds 900 + 23 x 10 = 1,130 B against a cap of 1,000 (900 B with the
    # margin): her first hour leaving is enough. bo's 960 B against 800 (720): 6 hours.
    caps = [held("ann", 1130, 1000), held("bo", 960, 800)]
    expected = {one.key: whole_window(ledger, one) for one in caps}
    handed = counting(ledger, monkeypatch)
    found = lift_times(ledger, caps)
    assert found == expected
    assert found[("ann", "1d")] == T0 + 7 * HOUR + 86400
    assert found[("bo", "1d")] == T0 + 12 * HOUR + 86400
    assert len(handed) < 2 * 24 / 2  # of the window's 48 samples of theirs


def test_a_limit_the_samples_do_not_account_for_reads_them_all_and_is_not_known(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps = [held("cy", 10**6, 100), held("ann", 1130, 1000), held("bo", 960, 800, NIGHTS)]
    expected = {one.key: whole_window(ledger, one) for one in caps}
    handed = counting(ledger, monkeypatch)
    found = lift_times(ledger, caps)
    assert found == expected and found[("cy", "1d")] is None
    assert len(handed) == 3 * 24


def test_pulled_samples_come_as_they_are_asked_for_and_each_is_read_once() -> None:
    source = [Sample(name, t, t, 0) for t in range(1, 6) for name in ("a", "b")]
    read: list[Sample] = []

    def feed() -> Iterator[Sample]:
        for sample in source:
            read.append(sample)
            yield sample

    pulled = Pulled(feed())
    first_of_b = next(pulled.counted("b", Tally(10), 0, "download"))
    assert first_of_b == (1, 1) and read == source[:2]
    assert list(pulled.counted("a", Tally(10), 2, "download")) == [(3, 3), (4, 4), (5, 5)]
    assert read == source
    assert list(pulled.counted("b", Tally(10), 0, "download")) == [(t, t) for t in range(1, 6)]
    assert list(pulled.of("b")) == source[1::2]
