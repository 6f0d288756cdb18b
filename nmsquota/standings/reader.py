"""A ledger opened for reading, with the configuration that explains it: where every reader
(status, usage, the console, the check plugin, the reports) gets its snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from nmsquota import gcpause
from nmsquota.config import Config
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventRecord
from nmsquota.standings.build import snapshot, totals_in
from nmsquota.standings.views import Snapshot
from nmsquota.usage import Sample, SampleColumns, Tally, Totals


class Reader:
    """One ledger, read without the writer lock (a daemon may be writing it meanwhile).

    Everything read between two `refresh` calls comes from one commit.
    """

    def __init__(self, ledger: Ledger, config: Config | None) -> None:
        self.ledger = ledger
        self.config = config

    @classmethod
    def open(cls, location: Path | str, config: Config | None) -> Reader:
        """LedgerMissing if there is no ledger at `location` (a directory or a database
        URL); LedgerCorrupt (naming the file, and the kind of record) if what is there
        cannot be read."""
        with gcpause.paused():  # see snapshot
            return cls(Ledger.open_reader(location), config)

    def close(self) -> None:
        """Let the ledger go (a database reader's connection; nothing for a directory's)."""
        self.ledger.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        """The ledger's directory or database, as messages name it."""
        return self.ledger.where

    @property
    def as_of(self) -> int | None:
        """The moment of the last commit, which every figure describes."""
        return self.ledger.as_of

    def refresh(self) -> None:
        """Move to the writer's latest commit."""
        with gcpause.paused():  # see snapshot
            self.ledger.refresh()

    def snapshot(self) -> Snapshot:
        # Hundreds of thousands of objects for 100,000 subscribers, none of them garbage.
        with gcpause.paused():
            return snapshot(self.ledger, self.config)

    def totals(self, tally: Tally) -> dict[str, Totals]:
        """Everyone's usage over any window (a recount when the ledger keeps no totals for
        it), as of the last commit."""
        return totals_in(self.ledger, tally)

    def samples(self, subscribers: Iterable[str], after: int, until: int = 2**62) -> list[Sample]:
        """Their usage records after `after`, up to `until` (the last commit by default),
        oldest first."""
        return list(self.ledger.samples(subscribers, after=after, until=until))

    def sample_columns(self, subscribers: Iterable[str], after: int,
                       until: int = 2**62) -> dict[str, SampleColumns]:  # fmt: skip
        """The same samples by subscriber, each oldest first, as columns (no object per
        sample: what a reader of thousands of subscribers' weeks wants)."""
        with gcpause.paused():  # millions of values, none of them garbage: see snapshot
            return self.ledger.sample_columns(subscribers, after=after, until=until)

    def events(self, since: int = 0) -> tuple[EventRecord, ...]:
        """The kept events after sequence number `since`, oldest first."""
        return tuple(self.ledger.records.events(since))
