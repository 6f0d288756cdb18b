"""What a ledger is, whatever keeps it: the operations every store gives (issue 24).

A ledger keeps usage samples, the rolling-window totals made from them, the poller's counter
baselines and the typed records (records.py). Two stores keep one: TinyDB files in a
directory (ledger.py, the embedded default) and a PostgreSQL database (ledger/postgres, for
several POPs on one ledger). Callers hold a `Ledger` and never learn which.

An abstract class, not a Protocol: `Ledger.open_writer(location)` stays the one way in for
every caller (it picks the store by the location, backends.py), and the typed helpers over
`read`/`write` are written once, here, for both stores.

What every store keeps (tests/unit/test_ledger_store.py checks it on both):
- between two `refresh()` calls a reader sees one commit, never part of a later one;
- a `batch()` that fails leaves the last commit: samples and baselines both, or neither;
- `write(kind, records)` replaces the kind's records, and `read` gives them in that order;
- records are validated on read by the codec (codec.py), with the same LedgerRecordError;
- the events' sequence numbers grow by one, with no gaps, in commit order.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from nmsquota.ledger.codec import (
    DEVICES,
    EVENTS,
    EVENTS_KEPT,
    HEALTH,
    LIMITS,
    OVERRIDES,
    PLANS,
    PROVISIONED,
    SESSIONS,
    STANDINGS,
    SUBSCRIBERS,
    Kind,
    parse,
)
from nmsquota.ledger.errors import LedgerError
from nmsquota.ledger.records import (
    DeviceRecord,
    EventRecord,
    HealthRecord,
    Limit,
    OverrideRecord,
    PlanRecord,
    SessionRecord,
    StandingRecord,
    SubscriberRecord,
)
from nmsquota.usage import Sample, SampleColumns, Tally, Totals

R = TypeVar("R")

Location = Path | str
"""Where a ledger is: a directory (TinyDB) or a postgresql:// URL."""

Archive = Callable[[Iterable[Sample]], None]
"""Where prune and replace hand the samples they retire, before anything is removed."""

DAWN = -(2**62)
"""Before any sample: the `after` that means "from the beginning"."""


@dataclass(frozen=True)
class PruneResult:
    records: int
    files_removed: int
    complete: bool
    """False when the daemon held the ledger and some records at or before the cutoff had to
    stay (they still count in a window, or share an hour file with records that do)."""


@dataclass(frozen=True)
class LimitsNotice:
    """Another writer of the ledger committed a change to the limits (several POPs' daemons
    on one database ledger): which POP wrote it ("" for a command with no POP) and its
    commit's number (the last commit, for a batch that committed no poll)."""

    pop: str
    seq: int | None


class LimitsListener(ABC):
    """What tells a POP's daemon at once when another POP's writer commits changed limits,
    on a connection of its own: the daemon then brings its drivers to them without waiting
    for its next cycle. Only committed changes are told; a notice lost (the connection
    lost meanwhile) is made up for by the daemon's next cycle, which follows every limit."""

    where: str
    """The ledger listened to, as messages name it."""

    @abstractmethod
    async def listen(self) -> None:
        """Start listening, connecting first if there is no connection or it was lost; a
        no-op while listening. LedgerUnusable when the ledger cannot be reached."""

    @abstractmethod
    async def changed(self) -> list[LimitsNotice]:
        """Wait until another POP's writer commits changed limits, and return its notice
        with any others of the same burst. LedgerUnusable when the connection is lost
        (listen() again to go on)."""

    @abstractmethod
    async def close(self) -> None: ...


class Records(ABC):
    """A ledger's typed records, by kind: each kind read and written whole, in order."""

    where: str
    """The file or database the records are in, as errors name it."""

    @abstractmethod
    def read(self, kind: Kind[R]) -> list[R]:
        """The kind's records as last written, validated (LedgerRecordError if one does not
        fit); a fresh list the caller may change."""

    @abstractmethod
    def write(self, kind: Kind[R], records: Iterable[R]) -> None:
        """Replace the kind's records with `records`, in this order (LedgerReadOnly for a
        reader). Inside the ledger's batch, committed with it."""

    def every_pop(self, kind: Kind[R]) -> list[R]:
        """A per-POP kind's records of every POP sharing the ledger (`read` gives a writer
        its own POP's); the kind's records where there is only one POP."""
        return self.read(kind)

    def parse(self, kind: Kind[R], docs: Sequence[dict[str, Any]]) -> list[R]:
        """Documents of `kind` from elsewhere (what rebuild salvages, a copy), migrated and
        checked as if read here; LedgerRecordError if they do not fit."""
        return parse(kind, docs, self.where)

    # -- the kinds -------------------------------------------------------------------------

    def subscribers(self) -> list[SubscriberRecord]:
        """The quota file's subscribers, as the daemon (or import) last stored them."""
        return self.read(SUBSCRIBERS)

    def set_subscribers(self, records: Iterable[SubscriberRecord]) -> None:
        self.write(SUBSCRIBERS, records)

    def plans(self) -> list[PlanRecord]:
        return self.read(PLANS)

    def set_plans(self, records: Iterable[PlanRecord]) -> None:
        self.write(PLANS, records)

    def provisioned(self) -> list[SubscriberRecord]:
        """Subscribers added with `nmsquota subscribers add`, kept in the ledger."""
        return self.read(PROVISIONED)

    def set_provisioned(self, records: Iterable[SubscriberRecord]) -> None:
        self.write(PROVISIONED, records)

    def overrides(self) -> list[OverrideRecord]:
        return self.read(OVERRIDES)

    def set_overrides(self, records: Iterable[OverrideRecord]) -> None:
        self.write(OVERRIDES, records)

    def standings(self) -> list[StandingRecord]:
        return self.read(STANDINGS)

    def set_standings(self, records: Iterable[StandingRecord]) -> None:
        self.write(STANDINGS, records)

    def limits(self) -> list[Limit]:
        return self.read(LIMITS)

    def set_limits(self, records: Iterable[Limit]) -> None:
        self.write(LIMITS, records)

    def set_limit(self, limit: Limit) -> None:
        """One subscriber's limit, replacing theirs and moving it last."""
        kept = [other for other in self.limits() if other.subscriber != limit.subscriber]
        self.write(LIMITS, [*kept, limit])

    def clear_limit(self, subscriber: str) -> None:
        kept = self.limits()
        if any(limit.subscriber == subscriber for limit in kept):
            self.write(LIMITS, [limit for limit in kept if limit.subscriber != subscriber])

    def health(self) -> HealthRecord | None:
        """The daemon's last cycle (of several POPs', the latest begun); None before the
        first."""
        found = self.read(HEALTH)
        return max(found, key=lambda record: record.started) if found else None

    def healths(self) -> list[HealthRecord]:
        """Every POP's last cycle (of the daemons sharing a database ledger), by POP name;
        the one daemon's where there is one (POP "")."""
        return sorted(self.every_pop(HEALTH), key=lambda record: record.pop)

    def set_health(self, record: HealthRecord) -> None:
        self.write(HEALTH, [record])

    def devices(self) -> list[DeviceRecord]:
        return self.read(DEVICES)

    def set_devices(self, records: Iterable[DeviceRecord]) -> None:
        self.write(DEVICES, records)

    def sessions(self) -> list[SessionRecord]:
        return self.read(SESSIONS)

    def set_sessions(self, records: Iterable[SessionRecord]) -> None:
        self.write(SESSIONS, records)

    def events(self, since: int = 0) -> list[EventRecord]:
        """The events kept with a sequence number above `since`, oldest first."""
        return [event for event in self.read(EVENTS) if event.seq > since]

    def add_events(
        self, events: Iterable[EventRecord], keep: int = EVENTS_KEPT
    ) -> list[EventRecord]:
        """Append events (their `seq` is given here, one more than the last), keeping the
        latest `keep`. Returns them as stored."""
        kept = self.read(EVENTS)
        last = kept[-1].seq if kept else 0
        added = [replace(event, seq=last + n) for n, event in enumerate(events, start=1)]
        if added:
            self.write(EVENTS, [*kept, *added][-keep:])
        return added


class Ledger(ABC):
    """A ledger, opened by `open_writer` (one writer) or `open_reader` (any number).

    `location` is a directory for the TinyDB store or a postgresql:// URL; backends.py
    says which store takes which.
    """

    where: str
    """The directory or database (a URL without its password), as messages name it."""
    pop: str = ""
    """The point of presence this writer is (several POPs' daemons share a database
    ledger, one writer each); "" where there is one."""
    writable: bool
    records: Records
    """The typed records kept beside the totals (subscribers, standings, health...)."""
    salvaged: Any = None
    """What a rebuild kept and lost of records that did not read whole (TinyDB's)."""

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open_writer(
        cls,
        location: Location,
        tallies: Sequence[Tally] = (),
        *,
        rebuild: bool = False,
        pop: str = "",
    ) -> Ledger:
        """Become the writer (of `pop`, where several POPs share a database ledger), recover
        from a crash, and keep `tallies` from now on.

        A new tally (a plan with a new window) starts from one full recount; tallies no
        longer asked for are dropped (a POP's writer keeps them while another POP's daemon
        writes the ledger: that daemon may still decide on them). `rebuild` recounts every
        window from the samples (and, for TinyDB, recreates a missing or unreadable
        state.json).
        """
        return _store_for(cls, location).open_writer(location, tallies, rebuild=rebuild, pop=pop)

    @classmethod
    def open_reader(cls, location: Location) -> Ledger:
        """LedgerMissing when there is no ledger there."""
        return _store_for(cls, location).open_reader(location)

    @classmethod
    def exists(cls, location: Location) -> bool:
        """Whether `location` holds a ledger (LedgerUnusable when this process may not
        look)."""
        return _store_for(cls, location).exists(location)

    @abstractmethod
    def close(self) -> None:
        """Give up the writer's place (a reader: its connection, if it has one)."""

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    @property
    @abstractmethod
    def seq(self) -> int:
        """The number of the last commit (0 before the first)."""

    @property
    @abstractmethod
    def as_of(self) -> int | None:
        """The `now` of the last commit: the moment the window totals describe."""

    @abstractmethod
    def refresh(self) -> None:
        """Readers: move to the latest commit. Until then a reader sees one commit."""

    @abstractmethod
    def tallies(self) -> list[Tally]: ...

    @abstractmethod
    def totals(self, tally: Tally | None = None) -> dict[str, Totals]:
        """Every subscriber's usage in the window, as of the last commit (none at zero)."""

    @abstractmethod
    def edge(self, tally: Tally | None = None) -> int:
        """The window's edge as of the last commit: samples after it count."""

    @abstractmethod
    def samples(
        self, subscribers: Iterable[str] | None = None, *, after: int = DAWN, until: int = 2**62
    ) -> Iterator[Sample]:
        """Committed samples with after < time <= until, in time order."""

    @abstractmethod
    def sample_columns(
        self, subscribers: Iterable[str] | None = None, *, after: int = DAWN, until: int = 2**62
    ) -> dict[str, SampleColumns]:
        """The samples `samples` gives, by subscriber (each oldest first), without an object
        per sample: a week of thousands of subscribers is millions of them."""

    @abstractmethod
    def recount(self, tally: Tally, edge: int) -> dict[str, Totals]:
        """Totals for `tally` at `edge` from every stored sample: the slow, obvious answer."""

    @abstractmethod
    def counter_state(self, access_server: str) -> dict[str, Any]:
        """What the poller stored for `access_server` at the last commit (its baselines)."""

    @abstractmethod
    def counter_states(self) -> dict[str, dict[str, Any]]:
        """Every access server's baselines as of the last commit, by access server name:
        `counter_state(name)` for each one the poller stored any for (none with an empty
        state). What a copy of the ledger carries over."""

    # -- writing -------------------------------------------------------------------------

    @abstractmethod
    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Every change inside the block is committed together at its end, or not at all."""

    @abstractmethod
    def commit(self, now: float, samples: Iterable[Sample] = ()) -> int:
        """Record one cycle: store `samples`, move every window to `now`. Returns the commit
        number. One commit per batch."""

    @abstractmethod
    def set_counter_state(self, access_server: str, state: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def replace(self, now: float, samples: Iterable[Sample], archive: Archive) -> int:
        """Replace every stored sample with `samples`, in one commit (outside a batch); the
        old ones go to `archive` first."""

    @abstractmethod
    def prune(self, cutoff: int, archive: Archive) -> PruneResult:
        """Retire samples with time <= cutoff, handing them to `archive` first."""

    def lead(self) -> bool:
        """Whether this writer decides for every subscriber now. Where several POPs' daemons
        share a ledger, exactly one does (the one holding the ledger's decider lock; another
        takes it when that one dies); the others count their own sessions and enforce
        what it decided. A ledger with one writer: always."""
        return True

    def expire_when_silent(self, seconds: float, in_batch: float | None = None) -> None:
        """A writer that says nothing for `seconds` (`in_batch` inside a batch: the store
        picks a bound when None) loses its place (a hung daemon), so that another POP's
        daemon can decide; nothing where there is one writer (a stopped daemon keeps a
        TinyDB ledger's lock, and no one else needs it)."""
        return None

    def forget_pop(self) -> dict[str, int]:
        """Forget this writer's POP (a POP closed for good): its last cycle, its access
        servers' records, its sessions and its counter baselines; what it counted stays in
        the shared windows. How many of each were forgotten. Only where several POPs share
        a ledger."""
        raise LedgerError(f"ledger {self.where} is one daemon's: it has no POPs to forget")

    def live_pops(self) -> list[str]:
        """The other POPs whose daemons write this ledger now; none where there is one
        writer."""
        return []

    def limits_listener(self) -> LimitsListener | None:
        """What tells this writer at once of limits another POP's writer commits (a POP's
        daemon on a database ledger); None where no other writer shares the ledger (a
        TinyDB ledger: one daemon), so the daemon follows at its cycles alone."""
        return None

    # -- limits (the records' helpers, where callers have always found them) -------------

    def limits(self) -> list[Limit]:
        return self.records.limits()

    def set_limit(self, limit: Limit) -> None:
        self.records.set_limit(limit)

    def clear_limit(self, subscriber: str) -> None:
        self.records.clear_limit(subscriber)


def _store_for(cls: type[Ledger], location: Location) -> type[Ledger]:
    """The store that opens `location`: asked of `Ledger` itself, the one backends.py
    names; a store's own class must open its locations itself."""
    if cls is not Ledger:
        raise TypeError(f"{cls.__name__} does not open ledgers itself")
    from nmsquota.ledger.backends import store_for  # only the store asked for is imported

    return store_for(location)
