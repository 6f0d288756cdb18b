"""The quota ledger: usage samples, rolling-window totals and enforcement state, in TinyDB.

Layout of a ledger directory:

    ledger.lock     the writer's PID, under flock while it runs
    state.json      TinyDB: commit counter, window totals, poller counter state, and the
                    typed records (records.py: subscribers, plans, overrides, standings,
                    limits, health, devices, sessions, events); replaced atomically once per
                    commit
    intent.json     which usage shards the commit in flight touches (for crash recovery)
    usage/*.json    TinyDB: one file per hour of samples (see shards.py)

A commit writes intent.json, then the usage shards, then state.json; state.json is the commit
point. A writer that opens after a crash removes from the shards named in intent.json any
document of a commit later than state.json's, so the cycle in flight is lost whole (samples
and the poller's counter baselines together, which is what keeps it from being counted twice)
and everything committed before it is kept. Readers read state.json first and ignore shard
documents of later commits, so they see each commit entirely or not at all.

Window totals are kept incrementally (windows.py): a commit adds its new samples and moves
each window's edge, subtracting the samples it passes. No commit rescans history.

Over 400 lines, on purpose: opening (recovery), reading, committing, replacing and pruning all
keep one invariant, that state.json is the commit point and readers see whole commits only,
through the same meta, intent and shard state; split across modules, that invariant would
have no single place to be read in.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from nmsquota.errors import UsageError
from nmsquota.ledger.base import DAWN, Archive, Ledger, Location, PruneResult
from nmsquota.ledger.codec import KINDS
from nmsquota.ledger.columns import Doc, group_by_time
from nmsquota.ledger.commits import STATE_NAME
from nmsquota.ledger.errors import (
    LedgerCorrupt,
    LedgerError,
    LedgerMissing,
    LedgerReadOnly,
    LedgerRecordError,
    refused_as,
)
from nmsquota.ledger.lock import WriterLock
from nmsquota.ledger.salvage import (
    COUNTERS,
    META,
    MISSING_ADVICE,
    TALLIES,
    WHAT,
    Salvage,
    readable_tables,
)
from nmsquota.ledger.shards import (
    SHARD_SECONDS,
    ShardSet,
    parse_shard_name,
    rows_among,
    shard_name,
)
from nmsquota.ledger.storage import (
    AtomicJSONStorage,
    read_json,
    remove_leftover_temps,
    write_json_atomically,
)
from nmsquota.ledger.store import RecordStore
from nmsquota.ledger.windows import (
    Rows,
    TallyState,
    add_rows,
    advanced,
    state_doc,
    state_from_doc,
)
from nmsquota.usage import Sample, SampleColumns, Tally, Totals

FORMAT = 2
"""2: typed, versioned records (records.py). A format-1 ledger (untyped records) is read as
it is and migrated by its first writer, which then marks it 2, so that an older nmsquota
refuses it by name instead of misreading the new records."""
READS = (1, 2)
INTENT_NAME = "intent.json"
USAGE_DIR = "usage"


class TinyStore(Ledger):
    """A ledger directory, opened by `open_writer` (one process) or `open_reader` (any)."""

    def __init__(self, directory: Path, *, writable: bool) -> None:
        self.directory = directory
        self.where = str(directory)
        self.writable = writable
        self._state_storage = AtomicJSONStorage(directory / STATE_NAME, writable=writable)
        self._state = TinyDB(storage=lambda: self._state_storage)
        self.shards = ShardSet(directory / USAGE_DIR, writable=writable)
        self.records: RecordStore = RecordStore(
            self._state, self._state_storage, self._require_writer
        )
        """The typed records kept beside the totals (subscribers, standings, health...)."""
        self._lock = WriterLock(directory)
        self._tallies: dict[str, TallyState] = {}
        self._batch_depth = 0
        self._committed_in_batch = False
        self._known_tallies: list[Tally] = []
        self._known_names: set[str] = set()
        self.salvaged: Salvage | None = None
        """What a rebuild kept and lost of a state.json that did not read whole."""

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open_writer(
        cls,
        directory: Location,
        tallies: Sequence[Tally] = (),
        *,
        rebuild: bool = False,
        pop: str = "",
    ) -> TinyStore:
        """Take the writer lock, recover from a crash, and keep `tallies` from now on.

        A new tally (a plan with a new window) starts from one full recount; tallies no
        longer asked for are dropped. `rebuild` recounts every window from the usage files
        and recreates a missing state.json (see `_rebuild`). A directory is one POP's
        ledger: `pop` is refused (several POPs share a database ledger).
        """
        if pop:
            raise UsageError(
                f"ledger {directory} is a directory, one POP's: several POPs (pop = {pop!r}) "
                "share a ledger in PostgreSQL ([ledger] url)"
            )
        path = Path(directory)
        with refused_as(path, "create the directory"):
            path.mkdir(parents=True, exist_ok=True)
        ledger = cls(path, writable=True)
        ledger._lock.acquire()
        try:
            # One write: a reader never sees a new ledger without its window totals.
            with ledger.batch():
                ledger._recover(rebuild)
                ledger._adopt_tallies(tallies or ledger._known_tallies)
        except BaseException:
            ledger._lock.release()
            raise
        return ledger

    @classmethod
    def open_reader(cls, directory: Location) -> TinyStore:
        path = Path(directory)
        ledger = cls(path, writable=False)
        if not TinyStore.exists(path):
            raise LedgerMissing(path)
        ledger._checked_meta()
        ledger._load_tallies()
        return ledger

    @classmethod
    def exists(cls, directory: Location) -> bool:
        """Whether `directory` holds a ledger (a state.json); LedgerUnusable when this
        process may not look (Path.exists would raise PermissionError)."""
        path = Path(directory)
        with refused_as(path, "read the directory"):
            return (path / STATE_NAME).exists()

    def close(self) -> None:
        self._lock.release()

    def _recover(self, rebuild: bool) -> None:
        for directory in (self.directory, self.directory / USAGE_DIR):
            if directory.exists():
                remove_leftover_temps(directory)
        if rebuild:
            self.salvaged = self._salvage_state()
        meta = self._meta()
        if not meta:
            has_data = bool(self.shards.hours()) or (self.directory / INTENT_NAME).exists()
            if has_data and not rebuild:
                raise LedgerCorrupt(
                    self._state_storage.path,
                    f"is missing, but {self.directory / USAGE_DIR} holds usage records",
                    advice=f"Restore it, or {MISSING_ADVICE}",
                )
            with self.batch():
                self._write_meta({"format": FORMAT, "seq": 0, "now": None, "pruned_through": None})
            meta = self._meta()
        meta = self._checked_meta()
        # Records from before they had types are rewritten once, by the first writer.
        if meta["format"] != FORMAT:
            with self.batch():
                self.records.migrate()
                self._write_meta({**meta, "format": FORMAT})
            meta = self._checked_meta()
        if rebuild:
            self._rebuild(meta)
            return
        self._roll_back_uncommitted()
        if meta["pruned_through"] is not None:
            self._finish_prune(meta["pruned_through"])
        if meta.get("replaced_through") is not None:
            self._finish_replace(meta["replaced_through"])
        self._load_tallies()

    def _checked_meta(self) -> dict[str, Any]:
        meta = self._meta()
        problem = _meta_problem(meta)
        if problem is not None:
            newer = isinstance(meta.get("format"), int) and meta["format"] > FORMAT
            advice = "Use the nmsquota that wrote it (a newer one)" if newer else None
            raise LedgerCorrupt(self._state_storage.path, problem, advice)
        return meta

    def _salvage_state(self) -> Salvage | None:
        """rebuild: a state.json that does not read whole is moved aside (never deleted)
        and replaced by what of it still reads: each table that parses and whose records
        validate (salvage.py). Returns what was kept and lost; None if it reads whole or
        there is no ledger here at all."""
        path = self._state_storage.path
        if not path.exists():
            if not self.shards.hours():
                return None
            return Salvage("was missing", None, lost=dict.fromkeys(WHAT, "no state.json"))
        try:
            self._checked_meta()
            for kind in KINDS:
                self.records.read(kind)
            return None
        except LedgerCorrupt as error:
            problem = error.problem
        self._state_storage.forget()
        aside = _aside(path)
        with refused_as(path, "move aside"):
            os.rename(path, aside)
            raw = aside.read_bytes()
        tables = readable_tables(raw)
        salvage = Salvage(problem, aside)
        metas = list(tables.get(META, {}).values())
        meta = metas[0] if len(metas) == 1 and _meta_problem(metas[0]) is None else None
        with self.batch():
            if meta is not None:
                self._write_meta({**meta, "format": FORMAT})
            if TALLIES in tables:  # which windows were kept; rebuild recounts them anyway
                self._state.table(TALLIES).insert_multiple(tables[TALLIES].values())
            for kind in KINDS:
                if kind.table not in tables:
                    salvage.lost[kind.table] = "not in the part of the file that still reads"
                    continue
                try:
                    records = self.records.parse(kind, list(tables[kind.table].values()))
                except LedgerRecordError as error:
                    salvage.lost[kind.table] = error.detail
                    continue
                self.records.write(kind, records)
                salvage.kept[kind.table] = len(records)
            self._salvage_counters(tables.get(COUNTERS), meta, salvage)
        return salvage

    def _salvage_counters(
        self, table: dict[str, Any] | None, meta: dict[str, Any] | None, salvage: Salvage
    ) -> None:
        """The poller's baselines belong to the commit state.json recorded. Kept only if
        that commit reads and no usage file holds a later one: baselines older than the
        samples would charge the bytes in between a second time."""
        docs = list(table.values()) if table is not None else []
        shaped = all(
            isinstance(doc.get("access_server"), str) and isinstance(doc.get("state"), dict)
            for doc in docs
        )
        highest = max(
            (doc["seq"] for hour in self.shards.hours() for doc in self.shards.shard(hour).docs()),
            default=0,
        )
        if table is None or not shaped:
            salvage.lost[COUNTERS] = "not in the part of the file that still reads"
        elif meta is None:
            salvage.lost[COUNTERS] = "the commit they belong to is unreadable"
        elif meta["seq"] < highest:
            salvage.lost[COUNTERS] = "older than the usage files' last commit"
        else:
            self._state.table(COUNTERS).insert_multiple(docs)
            salvage.kept[COUNTERS] = len(docs)

    def _roll_back_uncommitted(self) -> None:
        """Remove shard documents of a commit that never reached state.json."""
        path = self.directory / INTENT_NAME
        intent = read_json(path)
        if intent is None:
            return
        if not (
            isinstance(intent, dict)
            and type(intent.get("seq")) is int
            and isinstance(intent.get("shards"), list)
        ):
            raise LedgerCorrupt(path, "is not a commit intent")
        meta = self._meta()
        if not meta:
            return  # no state.json: nothing to measure against (rebuild decides)
        committed = meta["seq"]
        if intent["seq"] <= committed:
            return
        for name in intent["shards"]:
            hour = parse_shard_name(str(name))
            if hour is not None:
                shard = self.shards.shard(hour)
                if shard.docs():
                    shard.remove_where(newer_seq=committed)

    def _rebuild(self, meta: dict[str, Any]) -> None:
        """Make state.json agree with the usage files again (`nmsquota rebuild`).

        Every document in the usage files counts as committed, and each window is recounted
        from them; limits, records and counter state are kept where state.json still has them.
        """
        try:
            self._load_tallies()
            self._known_tallies = [state.tally for state in self._tallies.values()]
        except LedgerCorrupt:
            self._known_tallies = []
        highest = max(
            (doc["seq"] for hour in self.shards.hours() for doc in self.shards.shard(hour).docs()),
            default=0,
        )
        with self.batch():
            self._write_meta({**meta, "seq": max(meta["seq"], highest), "pruned_through": None})
            self._tallies = {}
            self._state.table("tallies").truncate()
        (self.directory / INTENT_NAME).unlink(missing_ok=True)
        self._load_tallies()

    # -- reading -------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        doc = self._state.table("ledger").get(doc_id=1)
        return dict(doc) if doc else {}

    @property
    def seq(self) -> int:
        return int(self._meta().get("seq", 0))

    @property
    def as_of(self) -> int | None:
        """The `now` of the last commit: the moment the window totals describe."""
        return self._meta().get("now")

    def refresh(self) -> None:
        """Readers: move to the writer's latest commit. Until then a reader sees one commit."""
        if not self.writable and self._state_storage.reload():
            self.shards.refresh()
            self._load_tallies()

    def _load_tallies(self) -> None:
        self._tallies = {}
        for doc in self._state.table("tallies").all():
            try:
                state = state_from_doc(doc)
            except (KeyError, TypeError, ValueError) as error:
                raise LedgerCorrupt(
                    self._state_storage.path, f"has a bad tally: {error}"
                ) from error
            self._tallies[state.tally.key] = state

    def tallies(self) -> list[Tally]:
        return [state.tally for state in self._tallies.values()]

    def totals(self, tally: Tally | None = None) -> dict[str, Totals]:
        """Every subscriber's usage in the window, as of the last commit."""
        state = self._tally_state(tally)
        return {name: Totals(*pair) for name, pair in state.totals.items() if pair != [0, 0]}

    def edge(self, tally: Tally | None = None) -> int:
        return self._tally_state(tally).edge

    def _tally_state(self, tally: Tally | None) -> TallyState:
        if not self._tallies:
            raise LedgerError(f"ledger {self.directory} keeps no window totals yet")
        if tally is None:
            return next(iter(self._tallies.values()))
        try:
            return self._tallies[tally.key]
        except KeyError:
            raise LedgerError(
                f"ledger {self.directory} keeps no totals for a {tally.key} window "
                f"(it keeps: {', '.join(self._tallies)})"
            ) from None

    def samples(
        self,
        subscribers: Iterable[str] | None = None,
        *,
        after: int = DAWN,
        until: int = 2**62,
    ) -> Iterator[Sample]:
        """Committed samples with after < time <= until, in time order."""
        wanted = set(subscribers) if subscribers is not None else None
        meta = self._meta()
        for doc in self._visible_docs(meta, after, until):
            t = doc["t"]
            for name, bytes_in, bytes_out in rows_among(doc, wanted):
                yield Sample(name, t, bytes_in, bytes_out)

    def sample_columns(
        self,
        subscribers: Iterable[str] | None = None,
        *,
        after: int = DAWN,
        until: int = 2**62,
    ) -> dict[str, SampleColumns]:
        """The samples `samples` gives, by subscriber (each oldest first), without an object
        per sample: a week of thousands of subscribers is millions of them."""
        wanted = set(subscribers) if subscribers is not None else None
        rows: dict[str, list[int]] = {}
        meta = self._meta()
        for doc in self._visible_docs(meta, after, until):
            t = doc["t"]
            for name, bytes_in, bytes_out in rows_among(doc, wanted):
                mine = rows.get(name)
                if mine is None:
                    mine = rows[name] = []
                mine += (t, bytes_in, bytes_out)
        return {name: SampleColumns.interleaved(name, mine) for name, mine in rows.items()}

    def _visible_docs(self, meta: dict[str, Any], after: int, until: int) -> Iterator[Doc]:
        """The documents that belong to the commit `meta` describes."""
        return self.shards.docs_between(
            max(after, meta.get("pruned_through") or DAWN),
            until,
            max_seq=meta.get("seq", 0),
            min_seq=meta.get("replaced_through"),
        )

    def recount(self, tally: Tally, edge: int) -> dict[str, Totals]:
        """Totals for `tally` at `edge` from every stored sample: the slow, obvious answer."""
        rows: Rows = {}
        meta = self._meta()
        for doc in self._visible_docs(meta, edge, 2**62):
            if tally.counts(doc["t"]):
                add_rows(rows, doc, 1)
        return {name: Totals(*pair) for name, pair in rows.items() if pair != [0, 0]}

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Every state change inside the block reaches disk in one write, at its end."""
        self._require_writer()
        self._batch_depth += 1
        try:
            with self._state_storage.deferred():
                yield
        except BaseException:
            if self._batch_depth == 1:
                self._after_failed_batch()
            raise
        finally:
            self._batch_depth -= 1
            if not self._batch_depth:
                self._committed_in_batch = False

    def _after_failed_batch(self) -> None:
        """Back to the last commit after a batch failed (a full disk, say). Whatever the
        block wrote to usage files is not committed: take it out, so that the next commit,
        which reuses the number, cannot adopt it. If that fails too (the disk is still
        full), the next commit takes it out before it writes anything (_write_samples).
        The in-memory tallies may be ahead of the disk: they are read again, always."""
        try:
            self._roll_back_uncommitted()
        except LedgerError:
            pass  # the caller hears of the failure that matters, the batch's own
        finally:
            self._load_tallies()

    def commit(self, now: float, samples: Iterable[Sample] = ()) -> int:
        """Record one cycle: store `samples`, move every window to `now`. Returns the commit.

        Inside `batch()`, the state (window totals, and whatever else the block changed)
        is written when the block ends; the samples are on disk before that.
        """
        self._require_writer()
        now = int(now)
        with self.batch():
            meta, seq, docs = self._write_samples(samples)
            updated = {
                key: advanced(state, docs, now, self.shards.docs_between)
                for key, state in self._tallies.items()
            }
            self._write_tallies(updated)
            self._write_meta({**meta, "seq": seq, "now": now})
        return seq

    def _write_samples(self, samples: Iterable[Sample]) -> tuple[dict[str, Any], int, list[Doc]]:
        """The first half of a commit: the new commit's documents, on disk but not yet
        committed. Returns the last committed meta, the new commit number and its documents."""
        meta = self._meta()
        if meta.get("pruned_through") is not None or meta.get("replaced_through") is not None:
            raise LedgerError("a prune or replace is unfinished; reopen the ledger")
        if self._committed_in_batch:
            # intent.json names one commit's files; a second would hide the first's.
            raise LedgerError("one commit per batch: end the batch before the next commit")
        self._committed_in_batch = True
        self._roll_back_uncommitted()
        seq = meta["seq"] + 1
        docs = group_by_time(samples, seq, self._known_names)
        if docs:
            names = sorted({shard_name(doc["t"] - doc["t"] % SHARD_SECONDS) for doc in docs})
            write_json_atomically(self.directory / INTENT_NAME, {"seq": seq, "shards": names})
            self.shards.append(docs)
        return meta, seq, docs

    def _adopt_tallies(self, wanted: Sequence[Tally]) -> None:
        if not wanted:
            return
        as_of = self.as_of
        updated: dict[str, TallyState] = {}
        for tally in wanted:
            if tally.key in self._tallies:
                updated[tally.key] = self._tallies[tally.key]
                continue
            edge = tally.edge_at(as_of) if as_of is not None else DAWN
            rows = {
                name: [totals.bytes_in, totals.bytes_out]
                for name, totals in self.recount(tally, edge).items()
            }
            updated[tally.key] = TallyState(tally, edge, rows)
        if updated.keys() != self._tallies.keys() or list(updated) != list(self._tallies):
            with self.batch():
                self._write_tallies(updated)

    def _write_tallies(self, tallies: dict[str, TallyState]) -> None:
        table = self._state.table("tallies")
        table.truncate()
        table.insert_multiple(state_doc(key, state) for key, state in tallies.items())
        self._tallies = tallies

    def _write_meta(self, meta: dict[str, Any]) -> None:
        self._state.table("ledger").upsert(Document(meta, doc_id=1))

    def _require_writer(self) -> None:
        if not self.writable:
            raise LedgerReadOnly(self._state_storage.path)

    # -- the poller's counters -------------------------------------------------------------

    def counter_state(self, access_server: str) -> dict[str, Any]:
        """What the poller stored for `access_server` at the last commit (its baselines)."""
        found = self._state.table("counters").search(
            lambda doc: doc["access_server"] == access_server
        )
        return dict(found[0]["state"]) if found else {}

    def counter_states(self) -> dict[str, dict[str, Any]]:
        return {
            doc["access_server"]: dict(doc["state"])
            for doc in self._state.table("counters").all()
            if doc["state"]
        }

    def set_counter_state(self, access_server: str, state: Mapping[str, Any]) -> None:
        self._require_writer()
        table = self._state.table("counters")
        table.remove(lambda doc: doc["access_server"] == access_server)
        table.insert({"access_server": access_server, "state": dict(state)})

    # -- replacing every sample (the repair path) -------------------------------------------

    def replace(self, now: float, samples: Iterable[Sample], archive: Archive) -> int:
        """Replace every stored sample with `samples`, in one commit.

        The old samples go to `archive` first. The new ones are written under a new commit
        number and state.json, the commit point, says that every earlier commit is replaced;
        readers hide those documents until they are removed. A crash before the commit point
        leaves the old ledger; after it, reopening finishes the removal.
        """
        self._require_writer()
        if self._batch_depth:
            raise LedgerError("replace is a commit of its own: call it outside a batch")
        archive(self.samples())
        now = int(now)
        with self.batch():
            meta, seq, docs = self._write_samples(samples)
            updated = {}
            for key, state in self._tallies.items():
                edge = state.tally.edge_at(now)
                totals: Rows = {}
                for doc in docs:
                    if doc["t"] > edge and state.tally.counts(doc["t"]):
                        add_rows(totals, doc, 1)
                updated[key] = TallyState(state.tally, edge, totals)
            self._write_tallies(updated)
            self._write_meta({**meta, "seq": seq, "now": now, "replaced_through": meta["seq"]})
        self._finish_replace(meta["seq"])
        return seq

    def _finish_replace(self, replaced_through: int) -> None:
        for hour in self.shards.hours():
            shard = self.shards.shard(hour)
            docs = shard.docs()
            if all(doc["seq"] <= replaced_through for doc in docs):
                self.shards.delete(hour)
            elif any(doc["seq"] <= replaced_through for doc in docs):
                shard.remove_where(upto_seq=replaced_through)
        with self.batch():
            self._write_meta({**self._meta(), "replaced_through": None})

    # -- retiring old samples --------------------------------------------------------------

    def prune(self, cutoff: int, archive: Archive) -> PruneResult:
        """Retire samples with time <= cutoff, handing them to `archive` first.

        The archive is written before anything is removed, so a crash can at worst archive
        a record twice, never lose one. A writer prunes exactly, subtracting retired samples
        from any window they still counted in; a reader (the daemon holds the lock) may only
        delete whole hour files that no window reaches any more.
        """
        if self.writable:
            return self._prune_exact(cutoff, archive)
        return self._prune_beside_writer(cutoff, archive)

    def _prune_exact(self, cutoff: int, archive: Archive) -> PruneResult:
        retired = list(self.samples(until=cutoff))
        archive(retired)
        with self.batch():
            updated = {}
            for key, state in self._tallies.items():
                totals = {name: list(pair) for name, pair in state.totals.items()}
                if cutoff > state.edge:
                    for doc in self.shards.docs_between(state.edge, cutoff):
                        if state.tally.counts(doc["t"]):
                            add_rows(totals, doc, -1)
                updated[key] = TallyState(state.tally, max(state.edge, cutoff), totals)
            self._write_tallies(updated)
            self._write_meta({**self._meta(), "pruned_through": cutoff})
        files = self._finish_prune(cutoff)
        return PruneResult(len(retired), files, complete=True)

    def _finish_prune(self, cutoff: int) -> int:
        removed = 0
        for hour in self.shards.hours():
            if hour + SHARD_SECONDS - 1 <= cutoff:
                self.shards.delete(hour)
                removed += 1
            elif hour <= cutoff:
                self.shards.shard(hour).remove_where(until=cutoff)
        with self.batch():
            self._write_meta({**self._meta(), "pruned_through": None})
        return removed

    def _prune_beside_writer(self, cutoff: int, archive: Archive) -> PruneResult:
        self._load_tallies()
        reach = min((state.edge for state in self._tallies.values()), default=DAWN)
        # Samples at or before every window's edge no longer count anywhere, and the writer
        # never reads them again unless the clock goes back; only those may go without it.
        limit = min(cutoff, reach)
        hours = [h for h in self.shards.hours() if h + SHARD_SECONDS - 1 <= limit]
        count = 0
        for hour in hours:
            # samples() shows only what is committed, as any reader sees it.
            samples = list(self.samples(after=hour - 1, until=hour + SHARD_SECONDS - 1))
            archive(samples)
            count += len(samples)
            self.shards.delete(hour)
        left = next(self.samples(until=cutoff), None)
        return PruneResult(count, len(hours), complete=left is None)


def _meta_problem(meta: Any) -> str | None:
    """What is wrong with a commit record (state.json's "ledger" table), None if nothing."""
    if not isinstance(meta, dict):
        return f"has a bad commit record: {meta!r:.120}"
    if meta.get("format") not in READS:
        return (f"has ledger format {meta.get('format')!r}; this nmsquota reads "
                + " and ".join(map(str, READS)))  # fmt: skip
    ok = (
        type(meta.get("seq")) is int
        and (meta.get("now") is None or type(meta.get("now")) is int)
        and all(
            meta.get(key) is None or type(meta.get(key)) is int
            for key in ("pruned_through", "replaced_through")
        )
    )
    return None if ok else f"has a bad commit record: {meta!r:.120}"


def _aside(path: Path) -> Path:
    """A name beside `path` for keeping an unreadable copy, never one already taken."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.unreadable-{stamp}-{number}")
    return aside
