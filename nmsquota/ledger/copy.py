"""A ledger copied from one location to another through the Ledger API alone (issue 24):
what `nmsquota ledger copy` does to move a TinyDB ledger into a PostgreSQL database, and works
from any store to any other, since it knows neither.

What is copied: every window the source keeps (and any more asked for), every committed
sample, every kind of record (events with their numbers) and every access server's counter
baselines. What is not: the commit numbers and the history of commits. The target must hold
no ledger yet, or an empty one (a database just migrated): a copy never merges.

The samples are committed hour by hour of sample time, oldest first, each commit's `now` the
end of its hour (the source's last commit's at the end), so that no more than an hour of
samples is in flight at once. However the samples are cut, the windows end as the source's
did: a store keeps a window's totals as exactly the committed samples after its edge that it
counts, and the edge is where the last commit's `now` puts it; both ledgers end with the same
samples and the same last `now`. Samples older than every window are committed early, counted
while the early commits' windows still reach them, and passed as the edges move on, as the
source's were.

The copy is then checked, both ledgers opened again as readers: every window's totals and
edge, every kind of record, the baselines and every sample must agree, or CopyMismatch says
which and how much differs. A copy is never reported done unchecked.
"""

from __future__ import annotations

import contextlib
import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nmsquota.ledger.backends import shown
from nmsquota.ledger.base import DAWN, Ledger, Location
from nmsquota.ledger.codec import KINDS
from nmsquota.ledger.errors import LedgerError
from nmsquota.usage import Sample, SampleColumns, Tally, Totals

HOUR = 3600
"""How much sample time one commit of the copy carries."""
MOST_PER_COMMIT = 200_000
"""Samples in one commit at most: an hour of 100,000 subscribers at 5-minute cycles is 1.2
million, more than a copy needs to hold at once."""

Advance = Callable[[float], None]
Progress = Callable[[str, float | None], contextlib.AbstractContextManager[Advance]]
"""commands.common.progress's shape: a bar named by its first argument, over a total."""


@contextlib.contextmanager
def quiet(_description: str, _total: float | None) -> Iterator[Advance]:
    yield lambda _step: None


class CopyRefused(LedgerError):
    """The target is the source, or already holds a ledger: nothing was written."""

    exit_status = 2


class CopyMismatch(LedgerError):
    """The copy does not read as the source does."""


@dataclass(frozen=True)
class Copied:
    """What a copy carried over."""

    samples: int
    subscribers: int
    """Subscribers with at least one sample."""
    commits: int
    tallies: list[str]
    """The windows' keys (`1d`, `month from day 1 ...`)."""
    records: dict[str, int] = field(default_factory=dict)
    """Records of each kind, by kind."""
    access_servers: int = 0
    """Access servers whose counter baselines were copied."""


def copy_ledger(
    source: Location,
    target: Location,
    *,
    tallies: Sequence[Tally] = (),
    progress: Progress = quiet,
) -> Copied:
    """Copy the ledger at `source` to `target` and check the copy; `tallies` are windows to
    keep beside the source's (the configuration's), counted from the copied samples.

    CopyRefused before anything is written if `target` is `source` or holds a ledger with
    samples, records or commits; CopyMismatch if the copy does not read as the source.
    """
    if _same(source, target):
        raise CopyRefused(f"not copying the ledger at {shown(source)} onto itself")
    _refuse_unless_empty(target)
    copied = _copy_into(source, target, tallies, progress)
    # The copy's reader and writer are gone by now, and their caches with them: the check
    # reads both ledgers afresh.
    check_copy(source, target, progress=progress)
    return copied


def _copy_into(
    source: Location, target: Location, tallies: Sequence[Tally], progress: Progress
) -> Copied:
    with Ledger.open_reader(source) as old:
        kept = old.tallies()
        keys = {tally.key for tally in kept}
        wanted = [*kept, *(tally for tally in tallies if tally.key not in keys)]
        with Ledger.open_writer(target, wanted) as new:
            _refuse_if_holding(new)  # again, now that no other writer can start on it
            return _copy(old, new, progress)


def _copy(old: Ledger, new: Ledger, progress: Progress) -> Copied:
    as_of = old.as_of
    counted = _Counted()
    commits = 0
    if as_of is not None:
        first = next(old.samples(), None)
        start = first.time if first is not None else as_of
        with progress("copying samples", max(as_of - start, 1)) as advance:
            moved = start
            for now, chunk in _chunks(counted.each(old.samples()), as_of):
                new.commit(now, chunk)
                commits += 1
                advance(max(now - moved, 0))
                moved = max(moved, now)
    records = {kind.table: old.records.read(kind) for kind in KINDS}
    baselines = old.counter_states()
    # The last commit, at the source's `now`, carries the records and the baselines: the
    # copy's windows, records and baselines all describe that moment.
    with new.batch():
        if as_of is not None:
            new.commit(as_of)
            commits += 1
        for kind in KINDS:
            new.records.write(kind, records[kind.table])
        for access_server, state in baselines.items():
            new.set_counter_state(access_server, state)
    return Copied(
        samples=counted.samples,
        subscribers=len(counted.subscribers),
        commits=commits,
        tallies=[tally.key for tally in new.tallies()],
        records={table: len(kept) for table, kept in records.items()},
        access_servers=len(baselines),
    )


class _Counted:
    """Counts samples and subscribers as they go by, without keeping the samples."""

    def __init__(self) -> None:
        self.samples = 0
        self.subscribers: set[str] = set()

    def each(self, samples: Iterable[Sample]) -> Iterator[Sample]:
        seen = self.subscribers
        for sample in samples:
            self.samples += 1
            seen.add(sample.subscriber)
            yield sample


def _chunks(samples: Iterable[Sample], as_of: int) -> Iterator[tuple[int, Iterator[Sample]]]:
    """Samples (in time order) cut into commits: (now, that commit's samples), lazily.

    A sample's commit is at the end of its hour, or at `as_of` for the hour holding `as_of`
    and anything later (a clock that went back leaves samples after the last commit's now).
    No cut holds more than MOST_PER_COMMIT; the caller commits each before asking for the
    next, as groupby requires.
    """
    last, position = as_of, 0

    def key(sample: Sample) -> tuple[int, int]:
        nonlocal last, position
        now = min(sample.time - sample.time % HOUR + HOUR - 1, as_of)
        position = position + 1 if now == last else 0
        last = now
        return now, position // MOST_PER_COMMIT

    for (now, _part), chunk in itertools.groupby(samples, key=key):
        yield now, chunk


# -- the target must be new ----------------------------------------------------------------


def _same(source: Location, target: Location) -> bool:
    if isinstance(source, Path) and isinstance(target, Path):
        return source.resolve() == target.resolve()
    if isinstance(source, str) and isinstance(target, str):
        return _url(source) == _url(target)
    return False


def _url(location: str) -> str:
    return location.replace("postgres://", "postgresql://", 1).rstrip("/")


def _refuse_unless_empty(target: Location) -> None:
    """Refused, before the writer opens it (which would adopt the tallies): a directory that
    holds other files, or a ledger that holds anything."""
    if not Ledger.exists(target):
        if isinstance(target, Path) and target.is_dir() and any(target.iterdir()):
            raise CopyRefused(
                f"not copying into {target}: the directory holds files that are not a "
                "ledger; give a new or empty directory"
            )
        return
    with Ledger.open_reader(target) as there:
        _refuse_if_holding(there)


def _refuse_if_holding(there: Ledger) -> None:
    held = _held(there)
    if held:
        raise CopyRefused(
            f"not copying into {there.where}: it already holds a ledger ({', '.join(held)}); "
            "a copy never merges into or overwrites one. Give a new directory, or an empty "
            "database with its schema made by `nmsquota ledger migrate`"
        )


def _held(there: Ledger) -> list[str]:
    held = []
    if there.seq:
        held.append(_many(there.seq, "commit"))
    if next(there.samples(), None) is not None:
        held.append("samples")
    kinds = [kind.table for kind in KINDS if there.records.read(kind)]
    if kinds:
        held.append(f"records: {', '.join(kinds)}")
    if there.counter_states():
        held.append("counter baselines")
    return held


# -- the check --------------------------------------------------------------------------------


def check_copy(source: Location, target: Location, *, progress: Progress = quiet) -> None:
    """CopyMismatch unless the ledger at `target` reads as the one at `source`: the last
    commit's `now`, every window's totals and edge (a window only the target keeps against a
    recount of the source's samples), every kind of record, every access server's baselines
    and every sample."""
    with Ledger.open_reader(source) as old, Ledger.open_reader(target) as new:
        problems = _differences(old, new, progress)
        if problems:
            raise CopyMismatch(
                f"the copy at {new.where} does not read as the ledger at {old.where}: "
                + "; ".join(problems)
                + ". Remove the copy (or drop and migrate the database again) before trying again"
            )


def _differences(old: Ledger, new: Ledger, progress: Progress) -> list[str]:
    problems = []
    if old.as_of != new.as_of:
        problems.append(f"its last commit is at {new.as_of}, the source's at {old.as_of}")
    problems += _window_differences(old, new)
    for kind in KINDS:
        there, here = old.records.read(kind), new.records.read(kind)
        if there != here:
            problems.append(f"{kind.table}: {_records_differ(there, here)}")
    problems += _baseline_differences(old.counter_states(), new.counter_states())
    problems += _sample_differences(old, new, progress)
    return problems


def _window_differences(old: Ledger, new: Ledger) -> list[str]:
    problems = []
    theirs = {tally.key: tally for tally in old.tallies()}
    ours = {tally.key: tally for tally in new.tallies()}
    for key in theirs.keys() - ours.keys():
        problems.append(f"the {key} window is missing")
    for key, tally in ours.items():
        edge = new.edge(tally)
        if key in theirs:
            expected = old.totals(theirs[key])
            moved = _edge_difference(old, new, tally, old.edge(theirs[key]), edge)
            if moved:
                problems.append(moved)
        else:
            expected = old.recount(tally, edge)
        differ = _totals_differ(expected, new.totals(tally))
        if differ:
            problems.append(f"the {key} window's totals differ for {differ}")
    return problems


def _edge_difference(old: Ledger, new: Ledger, tally: Tally, theirs: int, ours: int) -> str:
    """Edges may differ only where neither ledger holds a sample between them that the
    window counts: an exact prune moves the source's edge up to its cutoff, past samples
    it removed, and the copy's next commit moves both to the same place."""
    if theirs == ours:
        return ""
    low, high = min(theirs, ours), max(theirs, ours)
    between = any(
        tally.counts(sample.time)
        for ledger in (old, new)
        for sample in ledger.samples(after=low, until=high)
    )
    if not between:
        return ""
    return f"the {tally.key} window's edge is {ours}, the source's {theirs}"


def _totals_differ(expected: dict[str, Totals], found: dict[str, Totals]) -> str:
    everyone = expected.keys() | found.keys()
    names = {name for name in everyone if expected.get(name) != found.get(name)}
    if not names:
        return ""
    return f"{len(names)} of {_many(len(everyone), 'subscriber')} ({_some(names)})"


def _records_differ(theirs: list[Any], ours: list[Any]) -> str:
    differ = sum(1 for a, b in zip(theirs, ours, strict=False) if a != b)
    if len(theirs) != len(ours):
        return f"{_many(len(ours), 'record')}, the source has {len(theirs)}"
    return f"{differ} of {_many(len(theirs), 'record')} differ"


def _baseline_differences(
    theirs: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]]
) -> list[str]:
    names = {name for name in theirs.keys() | ours.keys() if theirs.get(name) != ours.get(name)}
    if not names:
        return []
    servers = _many(len(names), "access server")
    return [f"the counter baselines of {servers} differ ({_some(names)})"]


def _sample_differences(old: Ledger, new: Ledger, progress: Progress) -> list[str]:
    """Every sample compared, an hour of sample time at a time, as columns (a Sample object
    per sample would cost most of the check): neither ledger's samples are held whole."""
    counts = [0, 0]
    subscribers: set[str] = set()
    hours = 0
    as_of = old.as_of or 0
    moment = _next_time(old, new, DAWN)
    start = moment if moment is not None else as_of
    with progress("checking samples", max(as_of - start, 1)) as advance:
        while moment is not None:
            after = moment - moment % HOUR - 1
            until = after + HOUR
            theirs = old.sample_columns(after=after, until=until)
            ours = new.sample_columns(after=after, until=until)
            counts[0] += sum(len(columns) for columns in theirs.values())
            counts[1] += sum(len(columns) for columns in ours.values())
            differ = {
                name
                for name in theirs.keys() | ours.keys()
                if not _same_rows(theirs.get(name), ours.get(name))
            }
            if differ:
                hours += 1
                subscribers |= differ
            advance(max(min(until, as_of) - max(after, start), 0))
            # The next hour, while there are samples; after an empty one, wherever the next
            # sample is (asking a store for "the next sample" can cost a page of them).
            moment = until + 1 if theirs or ours else _next_time(old, new, until)
    if not hours:
        return []
    return [
        f"the samples of {_many(len(subscribers), 'subscriber')} ({_some(subscribers)}) "
        f"differ in {_many(hours, 'hour')} of sample time: {_many(counts[1], 'sample')}, "
        f"the source has {counts[0]}"
    ]


def _next_time(old: Ledger, new: Ledger, after: int) -> int | None:
    """The time of the first sample after `after` in either ledger: the check skips the
    hours neither holds (samples older than every window can be months before the rest)."""
    times = [
        sample.time
        for ledger in (old, new)
        for sample in itertools.islice(ledger.samples(after=after), 1)
    ]
    return min(times, default=None)


def _same_rows(theirs: SampleColumns | None, ours: SampleColumns | None) -> bool:
    """Whether a subscriber has the same samples in an hour in both ledgers: the columns
    equal (at C speed, as a store keeps them: oldest first), or, failing that, the same rows
    in another order (two samples at one time, which two stores may give either way)."""
    if theirs is None or ours is None:
        return theirs is ours
    if all(_column(theirs, name) == _column(ours, name) for name in _COLUMNS):
        return True
    return sorted(_each_row(theirs)) == sorted(_each_row(ours))


_COLUMNS = ("times", "bytes_in", "bytes_out")


def _column(columns: SampleColumns, name: str) -> object:
    found = getattr(columns, name)
    # An array as its type code and bytes (equal exactly when the values are); a store
    # may give a column as a list (a count past 64 bits does), which then differs, and the
    # rows decide.
    return (found.typecode, found.tobytes()) if isinstance(found, array) else found


def _each_row(columns: SampleColumns) -> Iterator[tuple[int, int, int]]:
    return zip(columns.times, columns.bytes_in, columns.bytes_out, strict=True)


def _some(names: Iterable[str], shown_at_most: int = 5) -> str:
    ordered = sorted(names)
    more = len(ordered) - shown_at_most
    return ", ".join(ordered[:shown_at_most]) + (f" and {more} more" if more > 0 else "")


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"
