"""The PostgreSQL ledger's typed records: one row per record in `records` (kind, pop, pos,
doc jsonb), each kind read whole in `pos` order and validated by the shared codec.

Writes change only the rows that differ. The daemon rewrites every subscriber's standing,
session and the event log every cycle and few of them change, so the writer remembers what
each kind's rows hold (as canonical JSON text, keys sorted, since jsonb keeps its own key
order) and, per position, updates only the documents that differ, appends what is new and
deletes what is gone. A record written before (the same frozen object) is not dumped again.
Events are appended at the end and the oldest deleted, so the log's thousand rows are not
shifted by one at every event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from nmsquota.ledger.base import Records
from nmsquota.ledger.codec import EVENTS, EVENTS_KEPT, KINDS, LIMITS, Kind, documents, parse
from nmsquota.ledger.postgres.listen import announce
from nmsquota.ledger.postgres.totals import text_rows
from nmsquota.ledger.records import EventRecord

if TYPE_CHECKING:
    from nmsquota.ledger.postgres.store import PostgresStore

R = TypeVar("R")

EVERY_POP = " of every POP"
"""The cache key's suffix for a per-POP kind's records of every POP (every_pop)."""

BULK = 200
"""More changed rows than this are deleted and COPYed back rather than updated one by one."""


class PostgresRecords(Records):
    """The typed records of one PostgreSQL ledger (`PostgresStore.records`)."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.where = store.where
        self._cache: dict[str, list[Any]] = {}
        """Per kind, the records as last read or written (until a refresh or failed batch)."""
        self._stored: dict[str, tuple[list[int], list[str]]] = {}
        """The writer's, per kind: the rows' positions and canonical documents, in order."""
        self._written: dict[str, dict[int, tuple[Any, str]]] = {}
        """Per kind, by identity, records written lately with their canonical document."""

    def forget(self) -> None:
        """What the database holds may differ from what was remembered (a reader's refresh, a
        writer's failed batch): read it again."""
        self._cache.clear()
        self._stored.clear()

    # -- reading ---------------------------------------------------------------------------

    def read(self, kind: Kind[R]) -> list[R]:
        """The kind's records: a per-POP kind's of the writer's own POP, or of every POP
        (in the order of their names) for a reader."""
        if kind.per_pop and not self._store.writable:
            return self.every_pop(kind)
        cached = self._cache.get(kind.table)
        if cached is not None:
            return list(cached)
        with self._store.talking("read records"):
            row = self._store.conn.execute(
                "SELECT coalesce(json_agg(doc ORDER BY pos), '[]')::text FROM records"
                " WHERE kind = %s AND pop = %s",
                (kind.table, self._pop(kind)),
            ).fetchone()
        docs = json.loads(row[0]) if row else []
        records = parse(kind, docs, self.where)
        self._cache[kind.table] = records
        return list(records)

    def every_pop(self, kind: Kind[R]) -> list[R]:
        key = kind.table + EVERY_POP
        cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        with self._store.talking("read records"):
            row = self._store.conn.execute(
                "SELECT coalesce(json_agg(doc ORDER BY pop, pos), '[]')::text FROM records"
                " WHERE kind = %s",
                (kind.table,),
            ).fetchone()
        records = parse(kind, json.loads(row[0]) if row else [], self.where)
        # A writer's copy lasts until its next batch (forget_shared) or its own write.
        self._cache[key] = records
        return list(records)

    def forget_shared(self) -> None:
        """Another POP's writer may have changed the shared kinds since this one last read
        or wrote them: read them again (the writer's own POP's rows are its own)."""
        for table in [t for t in self._cache if not _per_pop(t) or t.endswith(EVERY_POP)]:
            del self._cache[table]
        for table in [t for t in self._stored if not _per_pop(t)]:
            del self._stored[table]

    def _pop(self, kind: Kind[Any]) -> str:
        """The `pop` of the kind's rows this store writes: its POP's, or "" (the ledger's)."""
        return self._store.pop if kind.per_pop else ""

    # -- writing ---------------------------------------------------------------------------

    def write(self, kind: Kind[R], records: Iterable[R]) -> None:
        self._store.require_writer()
        kept = list(records)
        for record in kept:
            if not isinstance(record, kind.record):
                raise TypeError(f"a {kind.table} record must be a {kind.record.__name__}")
        wanted = self._canonical(kind, kept)
        with self._store.batch(), self._store.talking(f"write {kind.table} records"):
            positions, stored = self._stored_of(kind)
            common = min(len(stored), len(wanted))
            changed = [i for i in range(common) if stored[i] != wanted[i]]
            if len(changed) > BULK:
                self._delete(kind, "pos = ANY(%s)", [positions[i] for i in changed])
                self._insert(kind, [(positions[i], wanted[i]) for i in changed])
            elif changed:
                with self._store.conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE records SET doc = %s::jsonb WHERE kind = %s AND pop = %s"
                        " AND pos = %s",
                        [(wanted[i], kind.table, self._pop(kind), positions[i]) for i in changed],
                    )
            if len(wanted) < len(stored):
                self._delete(kind, "pos >= %s", positions[len(wanted)])
                positions = positions[: len(wanted)]
            elif len(wanted) > len(stored):
                start = positions[-1] + 1 if positions else 1
                added = list(range(start, start + len(wanted) - len(stored)))
                self._insert(kind, list(zip(added, wanted[len(stored) :], strict=True)))
                positions = positions + added
            if kind is LIMITS and (changed or len(wanted) != len(stored)):
                # Other POPs' daemons enforce these limits: told when the batch commits.
                announce(self._store.conn, self._store.pop, self._store.seq)
        self._stored[kind.table] = (positions, wanted)
        self._cache[kind.table] = kept
        self._cache.pop(kind.table + EVERY_POP, None)

    def add_events(
        self, events: Iterable[EventRecord], keep: int = EVENTS_KEPT
    ) -> list[EventRecord]:
        """Append events (numbered on from the last), keeping the latest `keep`: new rows at
        the end, the oldest deleted, nothing else rewritten."""
        self._store.require_writer()
        incoming = list(events)
        if not incoming:
            return []
        with self._store.batch():
            # The ledger's event numbers follow one another across every POP's writers:
            # the meta row, locked until the batch ends, makes them take turns.
            with self._store.talking("number events"):
                self._store.conn.execute("SELECT 1 FROM meta WHERE id = 1 FOR UPDATE")
            kept = self.read(EVENTS)
            last = kept[-1].seq if kept else 0
            added = [replace(event, seq=last + n) for n, event in enumerate(incoming, start=1)]
            docs = self._canonical(EVENTS, added)
            with self._store.talking("write events"):
                positions, stored = self._stored_of(EVENTS)
                start = positions[-1] + 1 if positions else 1
                new = list(range(start, start + len(added)))
                self._insert(EVENTS, list(zip(new, docs, strict=True)))
                positions, stored, records = positions + new, stored + docs, kept + added
                if len(records) > keep:
                    cut = len(records) - keep
                    if cut < len(positions):
                        self._delete(EVENTS, "pos < %s", positions[cut])
                    else:
                        self._delete(EVENTS, "TRUE", None)
                    positions, stored, records = positions[cut:], stored[cut:], records[cut:]
            self._stored[EVENTS.table] = (positions, stored)
            self._cache[EVENTS.table] = records
        return added

    def _stored_of(self, kind: Kind[Any]) -> tuple[list[int], list[str]]:
        """The kind's rows as the writer last left them, read once from the database."""
        known = self._stored.get(kind.table)
        if known is not None:
            return list(known[0]), list(known[1])
        rows = text_rows(
            self._store.conn,
            "pos || E'\\t' || doc::text",
            "FROM records WHERE kind = %s AND pop = %s",
            (kind.table, self._pop(kind)),
            order="pos",
        )
        positions = [int(pos) for pos, _ in rows]
        stored = [_canonical_text(json.loads(text)) for _, text in rows]
        self._stored[kind.table] = (positions, stored)
        return list(positions), list(stored)

    def _canonical(self, kind: Kind[R], records: list[R]) -> list[str]:
        """The records' documents as canonical JSON text; dumped only for records this
        store has not written before (records are frozen: the same object, the same text)."""
        written = self._written.setdefault(kind.table, {})
        known = [None if hit is None else hit[1] for hit in map(written.get, map(id, records))]
        fresh = [record for record, text in zip(records, known, strict=True) if text is None]
        if not fresh:
            return known  # type: ignore[return-value]  # none is None
        texts = [_canonical_text(doc) for doc in documents(kind, fresh)]
        if len(written) + len(fresh) > 2 * len(records) + 64:
            written.clear()  # forget records no longer written
            written.update((id(r), (r, t)) for r, t in zip(records, known, strict=True)
                           if t is not None)  # fmt: skip
        written.update((id(r), (r, t)) for r, t in zip(fresh, texts, strict=True))
        made = iter(texts)
        return [text if text is not None else next(made) for text in known]

    def _insert(self, kind: Kind[Any], rows: list[tuple[int, str]]) -> None:
        if not rows:
            return
        sql = "COPY records (kind, pop, pos, doc) FROM STDIN"
        with self._store.conn.cursor() as cur, cur.copy(sql) as copy:
            for pos, text in rows:
                copy.write_row((kind.table, self._pop(kind), pos, text))

    def _delete(self, kind: Kind[Any], condition: str, value: Any) -> None:
        params: tuple[Any, ...] = (kind.table, self._pop(kind))
        if value is not None:
            params += (value,)
        self._store.conn.execute(
            f"DELETE FROM records WHERE kind = %s AND pop = %s AND {condition}",
            params,
        )


def _per_pop(table: str) -> bool:
    return any(kind.per_pop for kind in KINDS if kind.table == table)


def _canonical_text(doc: Any) -> str:
    """A document as JSON text with sorted keys: equal documents, equal text, however the
    database ordered their keys."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):  # an integer past 64 bits, say
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))
