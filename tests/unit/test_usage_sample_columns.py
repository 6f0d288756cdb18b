"""One subscriber's samples as columns (nmsquota.usage.SampleColumns): the same samples as
a list of Sample to whoever iterates, and the ledger's grouping of them equal to reading
its samples one by one (a report reads 5,000 subscribers' weeks this way)."""

from __future__ import annotations

import pytest

from nmsquota.ledger import Ledger, Sample, Tally, Totals
from nmsquota.ledger.base import Location
from nmsquota.ledger.shards import SHARD_SECONDS
from nmsquota.policy import used
from nmsquota.usage import SampleColumns

T0 = 1_800_000_000 - 1_800_000_000 % SHARD_SECONDS


def columns_of(samples: list[Sample]) -> SampleColumns:
    found = SampleColumns(samples[0].subscriber)
    for s in samples:
        found.append(s.time, s.bytes_in, s.bytes_out)
    return found


SAMPLES = [Sample("ann", T0 + 300 * i, 1000 * i, i) for i in range(1, 8)]


def test_columns_are_the_samples_they_were_made_of() -> None:
    columns = columns_of(SAMPLES)
    assert list(columns) == SAMPLES and len(columns) == len(SAMPLES)
    assert columns[0] == SAMPLES[0] and columns[-1] == SAMPLES[-1]
    assert list(columns[2:4]) == SAMPLES[2:4]
    interleaved = [v for s in SAMPLES for v in (s.time, s.bytes_in, s.bytes_out)]
    assert list(SampleColumns.interleaved("ann", interleaved)) == SAMPLES


def test_a_count_beyond_64_bits_is_kept_whole() -> None:
    big = [*SAMPLES, Sample("ann", T0 + 9000, 2**70, 0)]
    assert list(columns_of(big)) == big
    flat = [v for s in big for v in (s.time, s.bytes_in, s.bytes_out)]
    assert list(SampleColumns.interleaved("ann", flat)) == big


def test_between_finds_the_samples_of_a_window_by_their_times() -> None:
    columns = columns_of(SAMPLES)
    where = columns.between(T0 + 600, T0 + 1500)
    assert list(columns)[where] == [s for s in SAMPLES if T0 + 600 < s.time <= T0 + 1500]
    assert list(columns)[columns.between(T0 + 900)] == [s for s in SAMPLES if s.time > T0 + 900]


@pytest.mark.parametrize("direction", ["download", "upload", "both"])
def test_what_each_sample_moved_is_what_a_cap_counts_of_it(direction: str) -> None:
    columns = columns_of(SAMPLES)
    expected = [used(Totals(s.bytes_in, s.bytes_out), direction) for s in SAMPLES]  # type: ignore[arg-type]
    assert list(columns.moved(direction)) == expected
    assert list(columns.moved(direction, slice(2, 5))) == expected[2:5]


def test_the_ledgers_columns_are_its_samples_grouped_by_subscriber(ledger_at: Location) -> None:
    with Ledger.open_writer(ledger_at, [Tally(86400)]) as ledger:
        for hour in range(3):
            for minute in (5, 35):
                now = T0 + hour * SHARD_SECONDS + minute * 60
                names = ["bo", "ann", "cy"][: hour + 1]
                ledger.commit(now, [Sample(name, now, hour * 100 + minute + i, i)
                                    for i, name in enumerate(names)])  # fmt: skip
    reader = Ledger.open_reader(ledger_at)
    for wanted, after in ((None, 0), ({"ann", "cy", "dee"}, T0 + 35 * 60)):
        grouped: dict[str, list[Sample]] = {}
        for sample in reader.samples(wanted, after=after):
            grouped.setdefault(sample.subscriber, []).append(sample)
        columns = reader.sample_columns(wanted, after=after)
        assert list(columns) == list(grouped)  # the same subscribers in the same order
        assert {name: list(mine) for name, mine in columns.items()} == grouped


def test_older_columns_then_newer_are_all_of_them_in_order() -> None:
    early, later = columns_of(SAMPLES[:3]), columns_of(SAMPLES[3:])
    assert list(early.then(later)) == SAMPLES
    assert list(early) == SAMPLES[:3]  # neither is changed
    huge = columns_of([Sample("ann", T0 + 9000, 2**70, 0)])
    assert list(early.then(huge)) == [*SAMPLES[:3], Sample("ann", T0 + 9000, 2**70, 0)]


@pytest.mark.parametrize("cut", [slice(2, 5), slice(None, 3), slice(4, None), slice(None, None, 2)])
def test_a_slice_is_columns_of_the_same_samples(cut: slice) -> None:
    part = columns_of(SAMPLES)[cut]
    assert isinstance(part, SampleColumns)
    assert list(part) == SAMPLES[cut]
