"""The ledger's typed records in state.json: read (migrated and validated), written, cached.

Each kind (ledger/codec.py) is a TinyDB table of documents; what goes in and comes out is
the record types of nmsquota.ledger.records, never dicts. A document that does not validate
is refused with the file and the kind named (LedgerRecordError), never dropped. Parsed
records are kept until the file's contents change under them (a reader's refresh, a writer's
failed batch), so the daemon does not re-validate every subscriber's standing every cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import TinyDB

from nmsquota.ledger.base import Records
from nmsquota.ledger.codec import (
    KINDS,
    LIMITS,
    Kind,
    documents,
    parse,
)
from nmsquota.ledger.records import (
    Limit,
)
from nmsquota.ledger.storage import AtomicJSONStorage

R = TypeVar("R")


class RecordStore(Records):
    """The typed records of one ledger's state.json (`TinyStore.records`)."""

    def __init__(
        self, db: TinyDB, storage: AtomicJSONStorage, require_writer: Callable[[], None]
    ) -> None:
        self._db = db
        self._storage = storage
        self._require_writer = require_writer
        self.where = str(storage.path)
        self._cache: dict[str, tuple[int, list[Any]]] = {}
        # Per kind, the documents last validated (as parsed, and as orjson writes them) and
        # their records: a refresh onto a commit that left a kind's table as it was reuses
        # them instead of validating 100,000 records again.
        self._validated: dict[str, tuple[list[Any], bytes | None, list[Any]]] = {}
        # Per kind, by identity, the records written lately, each with its document:
        # records are frozen, so the same object is the same document, and a write dumps
        # only the records it has not written before (the daemon rewrites the standings,
        # sessions and events of every subscriber every cycle, and few change).
        self._written: dict[str, dict[int, tuple[Any, dict[str, Any]]]] = {}

    @property
    def path(self) -> Path:
        return self._storage.path

    # -- limits: one document, not the table -------------------------------------------

    def set_limit(self, limit: Limit) -> None:
        """One subscriber's limit, replacing theirs and moving it last. One document is
        written, not the table: the daemon sets every limit in force every cycle."""
        kept = [other for other in self.limits() if other.subscriber != limit.subscriber]
        self._require_writer()
        table = self._db.table(LIMITS.table)
        table.remove(lambda doc: doc["subscriber"] == limit.subscriber)
        table.insert(documents(LIMITS, [limit])[0])
        self._cache[LIMITS.table] = (self._storage.generation, [*kept, limit])
        self._validated.pop(LIMITS.table, None)

    def clear_limit(self, subscriber: str) -> None:
        kept = self.limits()
        if any(limit.subscriber == subscriber for limit in kept):
            self._require_writer()
            self._db.table(LIMITS.table).remove(lambda doc: doc["subscriber"] == subscriber)
            kept = [limit for limit in kept if limit.subscriber != subscriber]
            self._cache[LIMITS.table] = (self._storage.generation, kept)
            self._validated.pop(LIMITS.table, None)

    # -- any kind --------------------------------------------------------------------------

    def read(self, kind: Kind[R]) -> list[R]:
        generation = self._storage.generation
        cached = self._cache.get(kind.table)
        if cached is not None and cached[0] == generation:
            return list(cached[1])
        docs = self._documents(kind.table)
        before = self._validated.get(kind.table)
        if before is not None and _same_documents(before[0], before[1], docs):
            records = before[2]
            # Keep the documents just read, so that the old copy of the file can go.
            self._validated[kind.table] = (docs, before[1], records)
        else:
            records = parse(kind, docs, self.path)
            self._validated[kind.table] = (docs, _dumped(docs), records)
        self._cache[kind.table] = (self._storage.generation, records)
        return list(records)

    def _documents(self, table: str) -> list[Any]:
        """The table's documents as stored, in order: straight from the storage's parsed
        file, not through TinyDB's Document copies (a third of a 100,000-subscriber read).
        Nothing here changes them: migration and validation make new objects."""
        data = self._storage.read()
        return list((data or {}).get(table, {}).values())

    def write(self, kind: Kind[R], records: Iterable[R]) -> None:
        self._require_writer()
        kept = list(records)
        for record in kept:
            if not isinstance(record, kind.record):
                raise TypeError(f"a {kind.table} record must be a {kind.record.__name__}")
        docs = self._dump(kind, kept)
        # The table as TinyDB's truncate() and insert_multiple() leave it (documents 1 to n,
        # ids as str keys, the table where it was in the file), set in one step: those two
        # copy the table twice and each document once more, in Python, for every write of
        # every kind (the standings of every subscriber, every cycle).
        tables = self._storage.read() or {}
        tables[kind.table] = dict(zip(_ids(len(docs)), docs, strict=True))
        self._storage.write(tables)
        table = self._db.table(kind.table)
        table.clear_cache()
        table._next_id = None  # counted again from the documents at the next insert
        self._cache[kind.table] = (self._storage.generation, kept)
        self._validated.pop(kind.table, None)

    def _dump(self, kind: Kind[R], records: list[R]) -> list[dict[str, Any]]:
        """The records as documents: the document already made for a record written
        before (the same object), pydantic's dump for the others (in one call: it is
        cheaper per record in bulk)."""
        written = self._written.setdefault(kind.table, {})
        # By id: the store holds every record it keeps a document for, so no other object
        # can have its id meanwhile.
        docs: list[dict[str, Any] | None] = [
            None if known is None else known[1] for known in map(written.get, map(id, records))
        ]
        fresh = [record for record, doc in zip(records, docs, strict=True) if doc is None]
        if not fresh:
            return docs  # type: ignore[return-value]  # none is None
        dumped = documents(kind, fresh)
        if len(written) + len(fresh) > 2 * len(records) + 64:
            # Forget the records no longer written (left the event log, changed standings).
            written.clear()
            written.update((id(r), (r, doc)) for r, doc in zip(records, docs, strict=True)
                           if doc is not None)  # fmt: skip
        written.update((id(r), (r, doc)) for r, doc in zip(fresh, dumped, strict=True))
        made = iter(dumped)
        return [doc if doc is not None else next(made) for doc in docs]

    def migrate(self) -> list[str]:
        """Rewrite every kind that holds records from before version 1 (the writer, at
        open). Returns the kinds rewritten."""
        done = []
        for kind in KINDS:
            docs = self._db.table(kind.table).all()
            if any("version" not in doc for doc in docs):
                self.write(kind, self.read(kind))
                done.append(kind.table)
        return done


_IDS: list[str] = []


def _ids(count: int) -> list[str]:
    """Document ids "1" to `count`: made once, not at every write."""
    if len(_IDS) < count:
        _IDS.extend(str(number) for number in range(len(_IDS) + 1, count + 1))
    return _IDS[:count]


def _dumped(docs: list[Any]) -> bytes | None:
    """The documents as JSON text (None: orjson cannot write them, an integer beyond 64
    bits, say; such a table is validated at every read)."""
    try:
        return orjson.dumps(docs)
    except orjson.JSONEncodeError:
        return None


def _same_documents(before: list[Any], dumped: bytes | None, docs: list[Any]) -> bool:
    """Whether `docs` are exactly the documents `before` (dumped as `dumped`): the same
    JSON values, not just equal ones. Python's == has 1 == 1.0 == True, and a record
    refuses a true where it wants a number; the JSON text tells them apart (`1`, `1.0`,
    `true`). The text alone would not (orjson writes NaN as null), so both must agree."""
    if dumped is None or len(before) != len(docs) or before != docs:
        return False
    return _dumped(docs) == dumped
