"""The PostgreSQL ledger store: a `Ledger` in a database (schema.py), for several POPs on
one ledger. Behaves as the TinyDB store (ledger/ledger.py) to the byte: the same totals,
edges, samples and records for the same commits.

- One writer: a session advisory lock, held while the writer's connection lives (the server
  drops it when the process dies, as the kernel drops TinyDB's flock). A second writer gets
  LedgerLocked naming the holder's process, from its application_name.
- `batch()` is one transaction on the writer's connection (autocommit outside it, so each
  write outside a batch is a transaction of its own); a block that fails rolls back its
  samples, baselines, totals and records together, and what the writer keeps in memory
  (the commit's number, the tallies, the records) is read again.
- A reader holds one REPEATABLE READ READ ONLY transaction from one `refresh()` to the next:
  every read in between comes from one snapshot, so from one commit. Its open transaction
  keeps the server from vacuuming rows changed since; readers that live long refresh at
  every commit anyway.
- Samples are not partitioned: a reader's open transaction holds a lock on the table that
  partition DDL (a new day's partition, dropping an old one) waits behind, and every query
  after it would queue behind the DDL. Prune deletes rows instead.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from nmsquota.ledger.base import DAWN, Archive, Ledger, LimitsListener, Location, PruneResult
from nmsquota.ledger.codec import KINDS
from nmsquota.ledger.columns import Doc, group_by_time
from nmsquota.ledger.errors import (
    LedgerCorrupt,
    LedgerError,
    LedgerLocked,
    LedgerMissing,
    LedgerReadOnly,
)
from nmsquota.ledger.postgres import schema, totals
from nmsquota.ledger.postgres.connection import (
    DatabaseUnusable,
    application_name,
    connect,
    public_url,
    talking,
)
from nmsquota.ledger.postgres.records import PostgresRecords
from nmsquota.usage import FreeHours, Monthly, Sample, SampleColumns, Tally, Totals

WRITER_LOCK = 0x6E6D7371  # "nmsq"
"""The advisory lock's first key; the second is the POP's (one writer per POP)."""
DECIDER = -1
"""The second key of the decider lock (lead()): a POP's key is a crc32 masked to 31 bits,
never negative."""
BIGINT_MAX = 2**63 - 1
READER_IDLE_SECONDS = 300
"""How long the server lets a reader's snapshot sit idle before it ends the session: a
forgotten reader (a console left open on a dead terminal) would otherwise hold back the
vacuuming of every totals row changed since, which grows the table at 100,000 rows a
cycle. A reader whose session was ended connects again at its next refresh()."""
IN_BATCH_SILENCE = 120.0
"""Seconds a writer may sit silent inside a batch (between the statements of one cycle's
write: its drivers run there, each bounded by its own timeout) before the server ends its
session and frees the locks the other POPs' commits wait on."""
LOCK_WAIT_SECONDS = 60
"""How long a writer's statement waits for a lock another POP's writer holds (its commit's
turn on the commit record) before the batch fails and its cycle is retried at the next: a
POP whose writer hangs inside a batch must not hang the others' daemons with it."""
PAGE = 100_000
"""Samples read per statement: `samples()` is a generator, not a list of a week."""
BY_TIME_NAMES = 100
"""Up to this many subscribers, their samples are looked up time by time (a probe of the
samples' key per stored time and subscriber); more, and one pass over the range costs
less."""
_BY_TIME = """
    SELECT s.subscriber, s.t, s.bytes_in, s.bytes_out, s.seq, s.pos
    FROM sample_times c CROSS JOIN LATERAL (
        SELECT * FROM samples s
        WHERE s.t = c.t AND s.seq = c.seq AND s.subscriber = ANY(%(names)s)) s
    WHERE (c.t, c.seq) >= (%(t)s, %(seq)s) AND c.t <= %(until)s
      AND (s.t, s.seq, s.pos) > (%(t)s, %(seq)s, %(pos)s)"""
"""A few subscribers' samples after (t, seq, pos): no index leads with the subscriber (one
would cost every commit a leaf per subscriber, schema.py version 2), so each stored time in
the range is looked up in the samples' key (t, seq, subscriber, pos)."""


@dataclass
class TallyRow:
    tally: Tally
    position: int
    edge: int


class PostgresStore(Ledger):
    """A ledger in a PostgreSQL database, opened by `open_writer` or `open_reader`."""

    def __init__(self, url: str, conn: psycopg.Connection[Any], *, writable: bool) -> None:
        self.url = url
        self.where = public_url(url)
        self.conn = conn
        self.writable = writable
        self.pop = ""
        self.records: PostgresRecords = PostgresRecords(self)
        self._seq = 0
        self._now: int | None = None
        self._tallies: list[TallyRow] = []
        self._batch_depth = 0
        self._committed_in_batch = False
        self._known_names: set[str] = set()
        self._leading = False
        """Whether this writer's session holds the decider lock (lead())."""
        self._silence: tuple[int, int] | None = None
        """(idle, idle in a batch) milliseconds after which the server ends this writer's
        session: expire_when_silent."""

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open_writer(
        cls,
        location: Location,
        tallies: Sequence[Tally] = (),
        *,
        rebuild: bool = False,
        pop: str = "",
    ) -> PostgresStore:
        """Take the POP's writer lock and keep `tallies` from now on: a new one starts from
        a recount, one no longer asked for is dropped; `rebuild` recounts every one."""
        url = str(location)
        conn = _opened(url, application_name("writer", pop), autocommit=True,
                       **_writer_options())  # fmt: skip
        store = cls(url, conn, writable=True)
        store.pop = pop
        try:
            with store.talking("open"):
                schema.refuse_unless_current(schema.version_of(conn), store.where)
            store._lock()
            with store.batch(), store.talking("make the ledger"):
                store.conn.execute(
                    "INSERT INTO meta (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
                )
            with store.batch():
                # Several POPs' writers opening at once take turns here: each adopts its
                # windows from what the one before it left, not from a stale read.
                with store.talking("open"):
                    store.conn.execute("SELECT 1 FROM meta WHERE id = 1 FOR UPDATE")
                store._load()
                keep = [row.tally for row in store._tallies] if rebuild else []
                store._adopt_tallies(store._wanted(list(tallies)) or keep, recount_all=rebuild)
        except BaseException:
            store.conn.close()
            raise
        return store

    @classmethod
    def open_reader(cls, location: Location) -> PostgresStore:
        url = str(location)
        conn = _opened(url, application_name("reader"), autocommit=False, **_reader_options())
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        store = cls(url, conn, writable=False)
        try:
            with store.talking("open"):
                schema.refuse_unless_current(schema.version_of(conn), store.where)
            store._load()
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def exists(cls, location: Location) -> bool:
        """Whether the database at `location` holds a ledger (of any schema version)."""
        url = str(location)
        try:
            conn = _opened(url, application_name("reader"), autocommit=True)
        except LedgerMissing:
            return False
        with conn, talking(public_url(url), "look at"):
            if schema.version_of(conn) is None:
                return False
            row = conn.execute("SELECT EXISTS (SELECT FROM meta)").fetchone()
            return bool(row and row[0])

    def close(self) -> None:
        """Give up the writer's lock, then the connection. Unlocked first: the server ends a
        closed connection's session (and frees its locks) a moment after the client goes,
        and a writer opened at once would find the lock still held."""
        if self.writable and not self.conn.closed and self._batch_depth == 0:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("SELECT pg_advisory_unlock_all()")
        self.conn.close()

    def lead(self) -> bool:
        """Whether this writer holds the ledger's decider lock, taking it if it is free: a
        session lock, so it stays with this writer until its connection ends (a daemon that
        dies, or loses the database, hands it to the next POP whose cycle asks)."""
        if self._leading and not (self.conn.closed or self.conn.broken):
            return True
        with self.talking("take the decider lock"):
            self._reconnect_if_lost()
            row = self.conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (WRITER_LOCK, DECIDER)
            ).fetchone()
        self._leading = bool(row and row[0])
        return self._leading

    def expire_when_silent(self, seconds: float, in_batch: float | None = None) -> None:
        """Have the server end this writer's session when it says nothing for `seconds`
        (or for `in_batch` inside a batch, at most `seconds`): a daemon that hangs (stopped,
        stuck) while its connection stays open would otherwise keep its POP's writer lock,
        and the decider lock, for as long as the connection lives, and every other POP
        would go on enforcing decisions no one makes any more; stopped inside a batch, it
        would hold the commit record's row lock every POP's commit waits on. When it
        resumes, its next batch fails (the log says so; the next cycle counts its bytes),
        the one after connects again, and another POP decides."""
        idle = max(1, round(seconds * 1000))
        limit = IN_BATCH_SILENCE if in_batch is None else in_batch
        self._silence = (idle, min(idle, max(1, round(limit * 1000))))
        with self.talking("set how long a silent writer keeps its place"):
            self._apply_silence()

    def _apply_silence(self) -> None:
        if self._silence is None:
            return
        idle, in_batch = self._silence
        self.conn.execute(
            "SELECT set_config('idle_session_timeout', %s, false),"
            " set_config('idle_in_transaction_session_timeout', %s, false)",
            (str(idle), str(in_batch)),
        )

    def _wanted(self, tallies: list[Tally]) -> list[Tally]:
        """The tallies to keep: `tallies`, and, while another POP's daemon writes the
        ledger, every one the ledger keeps now as well. Each POP's daemon reads the windows
        of its own configuration's plans: one started with a changed configuration (the
        first of a rolling change, or one configured otherwise by mistake) must not drop a
        window a running POP still decides on, which would fail that POP's next cycle. A
        window no POP asks for any more goes when a POP's daemon opens the ledger alone."""
        if not self.pop or not tallies or not self.live_pops():
            return tallies
        asked = {tally.key for tally in tallies}
        return [*tallies, *(row.tally for row in self._tallies if row.tally.key not in asked)]

    def forget_pop(self) -> dict[str, int]:
        """Forget this writer's POP: its rows of every per-POP kind and its counter
        baselines, in one transaction."""
        if not self.pop:
            return super().forget_pop()
        forgotten: dict[str, int] = {}
        with self.batch(), self.talking(f"forget POP {self.pop}"):
            for kind in KINDS:
                if kind.per_pop:
                    forgotten[kind.table] = len(self.records.read(kind))
                    self.records.write(kind, [])
            gone = self.conn.execute("DELETE FROM counters WHERE pop = %s", (self.pop,))
            forgotten["counters"] = gone.rowcount
        return forgotten

    def live_pops(self) -> list[str]:
        """The other POPs whose daemon writes this ledger now (holds its POP's writer
        lock), by the names their connections give (application_name)."""
        with self.talking("look for other POPs' daemons"):
            held = self._writer_locks()
        return sorted({_pop_in(name) for _, name, key in held if key != DECIDER & 0xFFFFFFFF})

    def _writer_locks(self) -> list[tuple[int, str, int]]:
        """(server process, application_name, second key) of each writer lock of this
        ledger (a POP's, or the decider's) that another session holds."""
        rows = self.conn.execute(
            """SELECT a.pid, a.application_name, l.objid FROM pg_locks l
               JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
                 AND l.database = (SELECT oid FROM pg_database
                                   WHERE datname = current_database())
                 AND l.classid = %s AND l.objsubid = 2""",
            (WRITER_LOCK,),
        ).fetchall()
        return [(int(pid), name or "", int(key)) for pid, name, key in rows]

    def limits_listener(self) -> LimitsListener | None:
        """A POP's writer hears the limits other POPs' writers commit (listen.py); a writer
        with no POP is the ledger's one daemon and has no one to hear."""
        if not (self.writable and self.pop):
            return None
        from nmsquota.ledger.postgres.listen import PostgresLimitsListener

        return PostgresLimitsListener(self.url, self.pop)

    def _lock(self) -> None:
        key = zlib.crc32(self.pop.encode()) & 0x7FFFFFFF
        with self.talking("lock"):
            row = self.conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (WRITER_LOCK, key)
            ).fetchone()
            if row and row[0]:
                return
            holders = [(pid, name) for pid, name, held in self._writer_locks() if held == key]
        backend, name = holders[0] if holders else (None, "")
        pid = _pid_in(name)
        lock = "PostgreSQL advisory lock" + (f", server process {backend}" if backend else "")
        raise LedgerLocked(self.where, pid, lock)

    def _load(self) -> None:
        """The last commit's number, `now` and tallies, as the database holds them."""
        with self.talking("read"):
            row = self.conn.execute("SELECT seq, now FROM meta WHERE id = 1").fetchone()
            rows = self._tally_rows()
        if row is None:
            raise LedgerMissing(
                self.where,
                "its tables are there but no writer has opened it yet: the daemon makes "
                "the ledger at its first start, or `nmsquota import` does",
            )
        self._seq, self._now = int(row[0]), row[1]
        self._tallies = [self._tally_of(found) for found in rows]

    def _tally_rows(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT key, position, window_seconds, free, period, edge FROM tallies"
            " ORDER BY position"
        ).fetchall()

    def _tally_of(self, row: tuple[Any, ...]) -> TallyRow:
        key, position, window, free, period, edge = row
        try:
            tally = Tally(
                window,
                FreeHours(**free) if free else None,
                Monthly(**period) if period else None,
            )
        except (TypeError, ValueError) as error:
            raise LedgerCorrupt(self.where, f"has a bad tally {key!r}: {error}") from None
        return TallyRow(tally, position, edge)

    @contextlib.contextmanager
    def talking(self, action: str) -> Iterator[None]:
        """Database errors in the block as ledger errors. The writer, between batches,
        first connects again if its connection was lost (a server restart, a network
        outage), taking its lock again: the daemon's next cycle carries on."""
        if self.writable and not self._batch_depth:
            self._reconnect_if_lost()
        with talking(self.where, action):
            yield

    def _reconnect_if_lost(self) -> None:
        """A new connection for one that was lost; readers only at refresh(), since a
        new connection is a new snapshot."""
        if not (self.conn.closed or self.conn.broken):
            return
        role = "writer" if self.writable else "reader"
        options = _writer_options() if self.writable else _reader_options()
        conn = _opened(self.url, application_name(role, self.pop), autocommit=self.writable,
                       **options)  # fmt: skip
        self._leading = False  # the lost session's locks went with it
        if not self.writable:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        self.conn = conn
        self.records.forget()
        if self.writable:
            self._apply_silence()
            self._lock()  # LedgerLocked if another writer took the ledger meanwhile
        self._load()

    # -- reading -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def as_of(self) -> int | None:
        return self._now

    def refresh(self) -> None:
        """Readers: end this snapshot and start one at the latest commit."""
        if self.writable:
            return
        self._reconnect_if_lost()
        try:
            with self.talking("read"):
                self.conn.rollback()
        except LedgerError:
            # The server ended the session meanwhile (READER_IDLE_SECONDS, a restart): the
            # rollback is how the client learns it. A new snapshot needs a new session.
            if not (self.conn.closed or self.conn.broken):
                raise
            self._reconnect_if_lost()
        self.records.forget()
        self._load()

    def tallies(self) -> list[Tally]:
        return [row.tally for row in self._tallies]

    def totals(self, tally: Tally | None = None) -> dict[str, Totals]:
        row = self._row(tally)
        with self.talking("read totals"):
            return totals.read(self.conn, row.position)

    def edge(self, tally: Tally | None = None) -> int:
        return self._row(tally).edge

    def _row(self, tally: Tally | None) -> TallyRow:
        if not self._tallies:
            raise LedgerError(f"ledger {self.where} keeps no window totals yet")
        if tally is None:
            return self._tallies[0]
        for row in self._tallies:
            if row.tally.key == tally.key:
                return row
        raise LedgerError(
            f"ledger {self.where} keeps no totals for a {tally.key} window "
            f"(it keeps: {', '.join(row.tally.key for row in self._tallies)})"
        )

    def samples(
        self, subscribers: Iterable[str] | None = None, *, after: int = DAWN, until: int = 2**62
    ) -> Iterator[Sample]:
        """Committed samples with after < time <= until, in time order (then as stored)."""
        for page in self._pages(subscribers, after, until):
            for name, t, bytes_in, bytes_out, _, _ in page:
                yield Sample(name, t, bytes_in, bytes_out)

    def sample_columns(
        self, subscribers: Iterable[str] | None = None, *, after: int = DAWN, until: int = 2**62
    ) -> dict[str, SampleColumns]:
        rows: dict[str, list[int]] = {}
        for page in self._pages(subscribers, after, until):
            for name, t, bytes_in, bytes_out, _, _ in page:
                mine = rows.get(name)
                if mine is None:
                    mine = rows[name] = []
                mine += (t, bytes_in, bytes_out)
        return {name: SampleColumns.interleaved(name, mine) for name, mine in rows.items()}

    def _pages(
        self, subscribers: Iterable[str] | None, after: int, until: int
    ) -> Iterator[list[tuple[str, int, int, int, int, int]]]:
        """The samples a page (PAGE rows, one statement) at a time, each page after the
        last row of the one before: a week of samples is never one list in memory."""
        names = sorted(set(subscribers)) if subscribers is not None else None
        if names == []:
            return
        last = (after, 2**62, 2**62)  # after every sample at `after` itself
        while True:
            page = self._sample_page(names, last, until)
            if page:
                yield page
            if len(page) < PAGE:
                return
            last = (page[-1][1], page[-1][4], page[-1][5])

    def _sample_page(
        self, names: list[str] | None, last: tuple[int, int, int], until: int
    ) -> list[tuple[str, int, int, int, int, int]]:
        if names is not None and len(names) <= BY_TIME_NAMES:
            rest = f"FROM ({_BY_TIME} ORDER BY s.t, s.seq, s.pos LIMIT {PAGE}) page"
        else:
            among = " AND subscriber = ANY(%(names)s)" if names is not None else ""
            rest = (
                "FROM (SELECT subscriber, t, bytes_in, bytes_out, seq, pos FROM samples"
                " WHERE (t, seq, pos) > (%(t)s, %(seq)s, %(pos)s) AND t <= %(until)s"
                f"{among} ORDER BY t, seq, pos LIMIT {PAGE}) page"
            )
        line = (
            "subscriber || E'\\t' || t || E'\\t' || bytes_in || E'\\t' || bytes_out"
            " || E'\\t' || seq || E'\\t' || pos"
        )
        params = {"t": last[0], "seq": last[1], "pos": last[2], "until": until, "names": names}
        with self.talking("read samples"):
            found = totals.text_rows(self.conn, line, rest, params, order="t, seq, pos")
        return [
            (name, int(t), int(i), int(o), int(seq), int(pos)) for name, t, i, o, seq, pos in found
        ]

    def recount(self, tally: Tally, edge: int) -> dict[str, Totals]:
        with self.talking("recount"):
            return totals.recount(self.conn, tally, edge)

    def counter_state(self, access_server: str) -> dict[str, Any]:
        with self.talking("read counter baselines"):
            row = self.conn.execute(
                "SELECT state FROM counters WHERE pop = %s AND access_server = %s",
                (self.pop, access_server),
            ).fetchone()
        return dict(row[0]) if row else {}

    def counter_states(self) -> dict[str, dict[str, Any]]:
        with self.talking("read counter baselines"):
            rows = self.conn.execute(
                "SELECT access_server, state FROM counters WHERE pop = %s ORDER BY 1",
                (self.pop,),
            ).fetchall()
        return {name: dict(state) for name, state in rows if state}

    # -- writing -------------------------------------------------------------------------

    def require_writer(self) -> None:
        if not self.writable:
            raise LedgerReadOnly(self.where)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for the block (a nested batch is part of the outer one); a block
        that fails rolls everything back and the writer's memory is read again."""
        self.require_writer()
        if self._batch_depth:
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1
            return
        with self.talking("write"):
            self._reconnect_if_lost()
        if self.pop:
            self.records.forget_shared()  # other POPs' writers commit between our batches
        self._batch_depth = 1
        try:
            with talking(self.where, "write"), self.conn.transaction():
                yield
        except BaseException:
            self._after_failed_batch()
            raise
        finally:
            self._batch_depth = 0
            self._committed_in_batch = False

    def _after_failed_batch(self) -> None:
        self.records.forget()
        with contextlib.suppress(LedgerError):  # the caller hears of the batch's own failure
            self._load()

    def commit(self, now: float, samples: Iterable[Sample] = ()) -> int:
        """Store `samples` and move every window to `now`, in one transaction."""
        self.require_writer()
        now = int(now)
        with self.batch():
            if self._committed_in_batch:
                raise LedgerError("one commit per batch: end the batch before the next commit")
            self._committed_in_batch = True
            with self.talking("commit"):
                seq = self._locked_meta() + 1
                docs = self._checked(samples, seq)
                self._insert_samples(docs)
                moves = []
                for row in self._tallies:
                    move = totals.Move()
                    plus = [d["t"] for d in docs if d["t"] > row.edge and row.tally.counts(d["t"])]
                    if plus:
                        name = f"new{row.position}"
                        move.add(f"(seq = %(seq)s AND t = ANY(%({name})s::bigint[]))", 1,
                                 seq=seq, **{name: plus})  # fmt: skip
                    new_edge = row.tally.edge_at(now)
                    low, high, sign = (
                        (row.edge, new_edge, -1) if new_edge > row.edge else (new_edge, row.edge, 1)
                    )
                    totals.band(self.conn, row.tally, low, high, sign, move, f"b{row.position}")
                    moves.append(move)
                    row.edge = new_edge
                totals.apply(self.conn, moves)
                self._write_edges()
                self._write_meta(seq, now)
        return seq

    def _locked_meta(self) -> int:
        """The last commit's number, its row locked until this transaction ends (commits
        and prunes take their turn on it), and the tallies as they are now."""
        row = self.conn.execute("SELECT seq FROM meta WHERE id = 1 FOR UPDATE").fetchone()
        if row is None:
            raise LedgerCorrupt(self.where, "has no commit record (table meta is empty)")
        self._tallies = [self._tally_of(found) for found in self._tally_rows()]
        return int(row[0])

    def _checked(self, samples: Iterable[Sample], seq: int) -> list[Doc]:
        docs = group_by_time(samples, seq, self._known_names)
        for doc in docs:
            if max(doc["in"], default=0) > BIGINT_MAX or max(doc["out"], default=0) > BIGINT_MAX:
                raise ValueError(
                    f"a sample of more than {BIGINT_MAX} bytes at time {doc['t']}: the "
                    "PostgreSQL ledger keeps byte counts as bigint"
                )
            if not -BIGINT_MAX <= doc["t"] <= BIGINT_MAX:
                raise ValueError(f"a sample time out of range: {doc['t']}")
        return docs

    def _insert_samples(self, docs: list[Doc]) -> None:
        """COPY the commit's samples, written as text: the names are login names (no tab or
        backslash, checked) and the rest integers. Each time's rows go in by name (their
        `pos` stays the order given), so that the samples' key (t, seq, subscriber, pos)
        takes them in order at its right edge; each time is noted in sample_times."""
        if not docs:
            return
        lines = []
        for doc in docs:
            t, seq = doc["t"], doc["seq"]
            names = doc["names"]
            rows: Iterable[tuple[str, int, int, int]]
            rows = zip(names, range(len(names)), doc["in"], doc["out"], strict=True)
            if not all(map(operator.le, names, itertools.islice(names, 1, None))):
                rows = sorted(rows)  # 50 ms for 100,000 rows, even given in order
            lines += [f"{t}\t{seq}\t{pos}\t{name}\t{i}\t{o}\n" for name, pos, i, o in rows]
        sql = "COPY samples (t, seq, pos, subscriber, bytes_in, bytes_out) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            copy.write("".join(lines).encode())
        self.conn.execute(
            "INSERT INTO sample_times (t, seq) SELECT unnest(%s::bigint[]), %s",
            ([doc["t"] for doc in docs], docs[0]["seq"]),
        )

    def _write_edges(self) -> None:
        if self._tallies:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "UPDATE tallies SET edge = %s WHERE position = %s",
                    [(row.edge, row.position) for row in self._tallies],
                )

    def _write_meta(self, seq: int, now: int) -> None:
        self.conn.execute("UPDATE meta SET seq = %s, now = %s WHERE id = 1", (seq, now))
        self._seq, self._now = seq, now

    def _adopt_tallies(self, wanted: Sequence[Tally], *, recount_all: bool = False) -> None:
        """Keep `wanted` (in this order) from now on: a tally kept keeps its totals and edge,
        a new one (every one, with `recount_all`) starts from a recount."""
        unique = list({tally.key: tally for tally in reversed(wanted)}.values())[::-1]
        if not unique:
            return
        current = {row.tally.key: row for row in self._tallies}
        if not recount_all and [t.key for t in unique] == list(current):
            return
        with self.talking("keep new windows"):
            rows, columns = [], []
            for position, tally in enumerate(unique, start=1):
                old = current.get(tally.key)
                if old is not None and not recount_all:
                    edge, column = old.edge, totals.read(self.conn, old.position)
                else:
                    edge = tally.edge_at(self._now) if self._now is not None else DAWN
                    column = totals.recount(self.conn, tally, edge)
                rows.append(TallyRow(tally, position, edge))
                columns.append(column)
            totals.write_all(self.conn, len(rows), columns)
            # Rewritten whole: the planner's idea of the table (one row, until autovacuum
            # looks) would plan the next commit's upsert of every row wrongly.
            self.conn.execute("ANALYZE totals")
            self.conn.execute("DELETE FROM tallies")
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO tallies (key, position, window_seconds, free, period, edge)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [_tally_row(row) for row in rows],
                )
        self._tallies = rows

    # -- the poller's counters -------------------------------------------------------------

    def set_counter_state(self, access_server: str, state: Mapping[str, Any]) -> None:
        self.require_writer()
        with self.batch(), self.talking("write counter baselines"):
            self.conn.execute(
                """INSERT INTO counters (pop, access_server, state) VALUES (%s, %s, %s)
                   ON CONFLICT (pop, access_server) DO UPDATE SET state = excluded.state""",
                (self.pop, access_server, Jsonb(dict(state))),
            )

    # -- replacing every sample ------------------------------------------------------------

    def replace(self, now: float, samples: Iterable[Sample], archive: Archive) -> int:
        """Replace every stored sample with `samples` in one commit; the old ones go to
        `archive` first."""
        self.require_writer()
        if self._batch_depth:
            raise LedgerError("replace is a commit of its own: call it outside a batch")
        archive(self.samples())
        now = int(now)
        with self.batch(), self.talking("replace samples"):
            self._committed_in_batch = True
            seq = self._locked_meta() + 1
            docs = self._checked(samples, seq)
            self.conn.execute("DELETE FROM samples")
            self.conn.execute("DELETE FROM sample_times")
            self._insert_samples(docs)
            columns = []
            for row in self._tallies:
                row.edge = row.tally.edge_at(now)
                columns.append(totals.recount(self.conn, row.tally, row.edge))
            totals.write_all(self.conn, len(self._tallies), columns)
            self._write_edges()
            self._write_meta(seq, now)
        return seq

    # -- retiring old samples --------------------------------------------------------------

    def prune(self, cutoff: int, archive: Archive) -> PruneResult:
        """Retire samples with time <= cutoff, handing them to `archive` first; always
        exact, subtracting them from any window they still count in. A reader (the daemon
        is the writer) prunes on a connection of its own, taking its turn on the commit
        record as a commit does."""
        if self.writable:
            with self.batch():
                return self._prune_on(self.conn, cutoff, archive)
        side = PostgresStore(self.url, _opened(self.url, application_name("prune"),
                             autocommit=True), writable=True)  # fmt: skip
        try:
            with side.batch():
                return side._prune_on(side.conn, cutoff, archive)
        finally:
            side.close()

    def _prune_on(
        self, conn: psycopg.Connection[Any], cutoff: int, archive: Archive
    ) -> PruneResult:
        with self.talking("prune"):
            self._locked_meta()
        retired = list(self.samples(until=cutoff))
        archive(retired)
        with self.talking("prune"):
            moves = []
            for row in self._tallies:
                move = totals.Move()
                if cutoff > row.edge:
                    totals.band(conn, row.tally, row.edge, cutoff, -1, move, f"p{row.position}")
                moves.append(move)
                row.edge = max(row.edge, cutoff)
            totals.apply(conn, moves)
            self._write_edges()
            conn.execute("DELETE FROM samples WHERE t <= %s", (cutoff,))
            conn.execute("DELETE FROM sample_times WHERE t <= %s", (cutoff,))
        return PruneResult(len(retired), 0, complete=True)


def _writer_options() -> dict[str, str]:
    """The writer's session settings, for the commit's one big statement (bench/RESULTS.md,
    "One cycle's commit on each ledger store"): no JIT, which compiled the totals upsert
    afresh at every commit (0.2-0.45 s at 100,000 subscribers), and room to group a cycle
    in memory instead of spilling it to disk (0.1-0.3 s). And a bound on lock waits
    (LOCK_WAIT_SECONDS)."""
    return {"options": f"-c jit=off -c work_mem=64MB -c lock_timeout={LOCK_WAIT_SECONDS}s"}


def _reader_options() -> dict[str, str]:
    return {"options": f"-c idle_in_transaction_session_timeout={READER_IDLE_SECONDS * 1000}"}


def _opened(url: str, application: str, *, autocommit: bool,
            **options: str) -> psycopg.Connection[Any]:  # fmt: skip
    """A connection, or LedgerMissing when the database itself does not exist."""
    try:
        return connect(url, application=application, autocommit=autocommit, **options)
    except DatabaseUnusable as error:
        if "does not exist" in error.strerror and "database" in error.strerror:
            raise LedgerMissing(
                error.where,
                f"{error.strerror}: create it, then {schema.MIGRATE_ADVICE}",
            ) from None
        raise


def _pop_in(application: str) -> str:
    """The POP application_name() put in a writer connection's name ("" for none)."""
    for word in application.split():
        if word.startswith("pop="):
            return word[4:]
    return ""


def _pid_in(application: str) -> int | None:
    """The process id application_name() put in a connection's name."""
    for word in application.split():
        if word.startswith("pid=") and word[4:].isdigit():
            return int(word[4:])
    return None


def _tally_row(row: TallyRow) -> tuple[Any, ...]:
    tally = row.tally
    return (tally.key, row.position, tally.window, _json(tally.free), _json(tally.period), row.edge)


def _json(value: FreeHours | Monthly | None) -> Jsonb | None:
    return Jsonb(asdict(value)) if value is not None else None
