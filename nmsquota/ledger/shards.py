"""Usage samples on disk: one TinyDB file per hour of sample time.

TinyDB rewrites a whole file on every write, so the cost of a commit is the size of the file
it touches. Sharding by hour keeps that bounded (at most an hour of samples) however long the
history is, and retiring old samples is deleting files.

A shard holds one document per commit and sample time: {"t": time, "seq": commit, "rows":
[[subscriber, bytes_in, bytes_out], ...]}; rows keep the order they were recorded in.
"""

from __future__ import annotations

import calendar
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB, where

from nmsquota.ledger.errors import LedgerCorrupt
from nmsquota.ledger.storage import AtomicJSONStorage

SHARD_SECONDS = 3600
_NAME_FORMAT = "%Y%m%dT%HZ"

Doc = dict[str, Any]


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
        self._checked: object = None
        self._docs: list[Doc] = []

    def docs(self) -> list[Doc]:
        """Documents in (time, commit) order."""
        data = self.storage.read()
        if data is None:
            return []
        if data is not self._checked:
            table = data.get("_default", {})
            docs = [_checked_doc(self.path, doc) for doc in table.values()]
            docs.sort(key=lambda doc: (doc["t"], doc["seq"]))
            self._docs = docs
            self._checked = data
        return self._docs

    def append(self, docs: list[Doc]) -> None:
        self.docs()  # a file that does not check out is never rewritten
        # TinyDB changes the cached data in place, so the checked copy is stale after a write.
        self._checked = None
        with self.storage.deferred():
            self.db.insert_multiple(docs)

    def remove_where(self, *, newer_seq: int | None = None, until: int | None = None) -> int:
        """Drop documents of commits after `newer_seq`, or with sample time <= `until`."""
        self._checked = None
        if newer_seq is not None:
            removed = self.db.remove(where("seq") > newer_seq)
        else:
            removed = self.db.remove(where("t") <= until)
        return len(removed)


def _checked_doc(path: Path, doc: Any) -> Doc:
    ok = (
        isinstance(doc, dict)
        and type(doc.get("t")) is int
        and type(doc.get("seq")) is int
        and isinstance(doc.get("rows"), list)
        and all(
            isinstance(row, list)
            and len(row) == 3
            and type(row[0]) is str
            and type(row[1]) is int
            and type(row[2]) is int
            and row[1] >= 0
            and row[2] >= 0
            for row in doc["rows"]
        )
    )
    if not ok:
        raise LedgerCorrupt(path, f"holds a usage record that is not a valid sample: {doc!r:.120}")
    return doc


class ShardSet:
    """The usage/ directory. The writer keeps recently used shards parsed in memory."""

    def __init__(self, directory: Path, *, writable: bool, cache_size: int = 8) -> None:
        self.directory = directory
        self.writable = writable
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Shard] = OrderedDict()

    def hours(self) -> list[int]:
        if not self.directory.exists():
            return []
        hours = (parse_shard_name(entry.name) for entry in self.directory.iterdir())
        return sorted(hour for hour in hours if hour is not None)

    def shard(self, hour: int) -> Shard:
        shard = self._cache.get(hour)
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
            self.directory.mkdir(exist_ok=True)
        for hour, hour_docs in sorted(by_hour.items()):
            self.shard(hour).append(hour_docs)
        return [shard_name(hour) for hour in sorted(by_hour)]

    def docs_between(self, after: int, until: int, max_seq: int | None = None) -> Iterator[Doc]:
        """Documents with after < t <= until, in time order; `max_seq` hides uncommitted ones."""
        for hour in self.hours():
            if hour > until or hour + SHARD_SECONDS <= after + 1:
                continue
            for doc in self.shard(hour).docs():
                if after < doc["t"] <= until and (max_seq is None or doc["seq"] <= max_seq):
                    yield doc

    def delete(self, hour: int) -> None:
        self._cache.pop(hour, None)
        (self.directory / shard_name(hour)).unlink(missing_ok=True)

    def forget(self) -> None:
        self._cache.clear()
