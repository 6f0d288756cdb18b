"""Usage samples on disk: one TinyDB file per hour of sample time.

TinyDB rewrites a whole file on every write, so the cost of a commit is the size of the file
it touches. Sharding by hour keeps that bounded (at most an hour of samples) however long the
history is, and retiring old samples is deleting files.

A shard holds one document per commit and sample time, in columns: {"t": time, "seq": commit,
"names": [subscriber, ...], "in": [bytes, ...], "out": [bytes, ...]}; rows keep the order
they were recorded in. Columns rather than a list per row: three lists per document instead
of one per subscriber, which is what the JSON encoder and the garbage collector pay for.
"""

from __future__ import annotations

import bisect
import calendar
import time
from collections import OrderedDict
from collections.abc import Container, Iterable, Iterator
from itertools import compress
from pathlib import Path
from typing import Any

from tinydb import TinyDB, where

from nmsquota.ledger.columns import Doc, rows_of
from nmsquota.ledger.errors import LedgerCorrupt, refused_as
from nmsquota.ledger.storage import AtomicJSONStorage

SHARD_SECONDS = 3600
_NAME_FORMAT = "%Y%m%dT%HZ"


def shard_hour(when: int) -> int:
    return when - when % SHARD_SECONDS


def shard_name(hour: int) -> str:
    return time.strftime(_NAME_FORMAT, time.gmtime(hour)) + ".json"


def parse_shard_name(name: str) -> int | None:
    if not name.endswith(".json"):
        return None
    try:
        return calendar.timegm(time.strptime(name[: -len(".json")], _NAME_FORMAT))
    except ValueError:
        return None


class Shard:
    """One hour file. Documents are checked once per version of the file that is read."""

    def __init__(self, path: Path, hour: int, *, writable: bool) -> None:
        self.path = path
        self.hour = hour
        self.storage = AtomicJSONStorage(path, writable=writable)
        self.db = TinyDB(storage=lambda: self.storage)
        self._checked_version = -1
        self._docs: list[Doc] = []

    def docs(self) -> list[Doc]:
        """Documents in (time, commit) order."""
        data = self.storage.read()
        if data is None:
            return []
        if self.storage.version != self._checked_version:
            table = data.get("_default", {})
            docs = [_checked_doc(self.path, doc) for doc in table.values()]
            docs.sort(key=_doc_order)
            self._docs = docs
            self._checked_version = self.storage.version
        return self._docs

    def append(self, docs: list[Doc]) -> None:
        # A file that does not check out is never rewritten. What is already checked stays
        # checked: only the new documents are, so a commit's cost does not grow with the
        # documents the hour already holds.
        current = self.docs()
        new = [_checked_doc(self.path, doc) for doc in docs]
        with self.storage.deferred():
            self.db.insert_multiple(new)
        self._docs = sorted(current + new, key=_doc_order)
        self._checked_version = self.storage.version

    def remove_where(
        self,
        *,
        newer_seq: int | None = None,
        until: int | None = None,
        upto_seq: int | None = None,
    ) -> int:
        """Drop documents of commits after `newer_seq`, of commits up to `upto_seq`, or with
        sample time <= `until`."""
        if newer_seq is not None:
            removed = self.db.remove(where("seq") > newer_seq)
        elif upto_seq is not None:
            removed = self.db.remove(where("seq") <= upto_seq)
        else:
            removed = self.db.remove(where("t") <= until)
        self._checked_version = -1
        return len(removed)


def _doc_order(doc: Doc) -> tuple[int, int]:
    return (doc["t"], doc["seq"])


def _checked_doc(path: Path, doc: Any) -> Doc:
    # Column checks through set(map(type, ...)) and min(): the same tests as a loop over
    # each value (exact types: a bool is not a count), at C speed; a shard of 100,000
    # subscribers' samples took 0.15 s that way.
    ok = (
        isinstance(doc, dict)
        and type(doc.get("t")) is int
        and type(doc.get("seq")) is int
        and all(isinstance(doc.get(column), list) for column in ("names", "in", "out"))
        and len(doc["names"]) == len(doc["in"]) == len(doc["out"])
        and set(map(type, doc["names"])) <= {str}
        and all(_counts(doc[column]) for column in ("in", "out"))
    )
    if not ok:
        raise LedgerCorrupt(path, f"holds a usage record that is not a valid sample: {doc!r:.120}")
    checked: Doc = doc
    return checked


def _counts(column: list[Any]) -> bool:
    """Whether every value is a byte count: an int (not a bool), not negative."""
    return set(map(type, column)) <= {int} and min(column, default=0) >= 0


def rows_among(doc: Doc, wanted: Container[str] | None) -> Iterator[tuple[str, int, int]]:
    """rows_of(doc), only those of the subscribers in `wanted` (None: everyone's). Picked
    at C speed (compress): a reader of a few subscribers' week looks at every row of it."""
    rows = rows_of(doc)
    if wanted is None:
        return rows
    return compress(rows, map(wanted.__contains__, doc["names"]))


class ShardSet:
    """The usage/ directory. The writer keeps recently used shards parsed in memory."""

    def __init__(self, directory: Path, *, writable: bool, cache_size: int = 8) -> None:
        self.directory = directory
        self.writable = writable
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Shard] = OrderedDict()
        self._hours: list[int] | None = None

    def hours(self) -> list[int]:
        """The hours that have a file, oldest first; listed once, then kept up to date.

        A file deleted behind the writer's back (prune beside the daemon) just reads as empty.
        """
        if self._hours is None:
            with refused_as(self.directory, "list the directory"):
                names = list(self.directory.iterdir()) if self.directory.exists() else []
            hours = (parse_shard_name(entry.name) for entry in names)
            self._hours = sorted(hour for hour in hours if hour is not None)
        return list(self._hours)

    def shard(self, hour: int) -> Shard:
        shard = self._cache.get(hour)
        if shard is not None and self.writable and shard.storage.changed_on_disk():
            # Deleted or replaced behind the writer's back (prune beside the daemon): what
            # is on disk now is the truth, not the copy in memory.
            del self._cache[hour]
            shard = None
        if shard is None:
            shard = Shard(self.directory / shard_name(hour), hour, writable=self.writable)
            self._cache[hour] = shard
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(hour)
        return shard

    def append(self, docs: Iterable[Doc]) -> list[str]:
        """Write documents to their hour files, one atomic write per file; returns the names."""
        by_hour: dict[int, list[Doc]] = {}
        for doc in docs:
            by_hour.setdefault(shard_hour(doc["t"]), []).append(doc)
        if by_hour:
            with refused_as(self.directory, "create the directory"):
                self.directory.mkdir(exist_ok=True)
        self.hours()
        assert self._hours is not None
        for hour, hour_docs in sorted(by_hour.items()):
            self.shard(hour).append(hour_docs)
            if hour not in self._hours:
                bisect.insort(self._hours, hour)
        return [shard_name(hour) for hour in sorted(by_hour)]

    def docs_between(
        self, after: int, until: int, max_seq: int | None = None, min_seq: int | None = None
    ) -> Iterator[Doc]:
        """Documents with after < t <= until, in time order. `max_seq` hides commits not yet
        in state.json; `min_seq` hides those a replace has superseded but not yet removed."""
        for hour in self.hours():
            if hour > until or hour + SHARD_SECONDS <= after + 1:
                continue
            for doc in self.shard(hour).docs():
                if (
                    after < doc["t"] <= until
                    and (max_seq is None or doc["seq"] <= max_seq)
                    and (min_seq is None or doc["seq"] > min_seq)
                ):
                    yield doc

    def delete(self, hour: int) -> None:
        self._cache.pop(hour, None)
        path = self.directory / shard_name(hour)
        with refused_as(path, "delete"):
            path.unlink(missing_ok=True)
        if self._hours is not None and hour in self._hours:
            self._hours.remove(hour)

    def forget(self) -> None:
        self._cache.clear()
        self._hours = None

    def refresh(self) -> None:
        """Readers, at a new commit: list the hours again, and read again only the files
        replaced (or deleted) since they were read. The writer replaces a file whole
        (storage.py), so a file with the same inode, size and modification time is the
        one already parsed and checked: in a day's window, 23 of 24 hour files."""
        self._hours = None
        for shard in self._cache.values():
            shard.storage.reload()
