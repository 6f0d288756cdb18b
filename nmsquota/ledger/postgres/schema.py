"""The PostgreSQL ledger's tables, versioned: `migrate` (what `nmsquota ledger migrate` runs)
applies the versions a database lacks, each once, in one transaction; a store refuses a
database whose schema is older (run migrate) or newer (use the nmsquota that wrote it).

Version 1, one POP's ledger (the `pop` columns are "" until several POPs share one):
- meta            one row, made by the first writer (until then the database holds no
                  ledger, as a directory holds none before the daemon's first start): the
                  ledger's id, the last commit's number and `now`.
- tallies         one row per window kept: its definition, its edge, and its `position`,
                  the element of the totals arrays that holds it.
- totals          one row per subscriber with usage in any window: bytes_in[i] and
                  bytes_out[i] are the totals of the tally at position i. One row written
                  per subscriber per commit whatever the number of windows (the layout
                  bench/RESULTS.md chose); fillfactor 70 leaves room on each page for the
                  new version (a HOT update: no index entry, old version pruned in place).
- samples         every sample: (t, seq, pos) is its place (time, commit, order within
                  the commit at that time), the order readers get them in.
- records         the typed records (codec.py's kinds), one document per row, `pos` their
                  order; `events` are records too, appended at the end.
- counters        the poller's baselines, one document per access server.
- schema_version  the versions applied, when and by which nmsquota.

Version 2, a cycle's samples written in order (bench/RESULTS.md, "One cycle's commit on
each ledger store"): the index `samples_by_subscriber (subscriber, t)` put each of a cycle's
100,000 rows into a different leaf (each subscriber's newest), 0.4-0.85 s of every commit at
100,000 subscribers. Now:
- samples         keyed (t, seq, subscriber, pos): a commit's rows, written by name, go in
                  at the key's right edge; still unique, and in (t, seq) order.
- sample_times    one row per (t, seq) that holds samples: a read of a few subscribers
                  walks these and looks each up in the key (store.py), a probe per time
                  instead of a range per subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from nmsquota import __version__
from nmsquota.ledger.errors import LedgerCorrupt, LedgerError, LedgerMissing
from nmsquota.ledger.postgres.connection import application_name, connect, public_url, talking

MIGRATE_ADVICE = "run `nmsquota ledger migrate` (with the same URL) to make or update it"
NEWER_ADVICE = "Use the nmsquota that wrote it (a newer one)"

MIGRATION_LOCK = 0x6E6D7371_0000_0001
"""The advisory lock two `migrate` runs take, so that they apply each version once."""

VERSIONS: Sequence[str] = (
    # 1: one POP's ledger.
    """
    CREATE TABLE meta (
        id smallint PRIMARY KEY CHECK (id = 1),
        ledger uuid NOT NULL DEFAULT gen_random_uuid(),
        seq bigint NOT NULL CHECK (seq >= 0),
        now bigint
    );

    CREATE TABLE tallies (
        key text PRIMARY KEY,
        position integer NOT NULL UNIQUE CHECK (position >= 1),
        window_seconds bigint NOT NULL CHECK (window_seconds > 0),
        free jsonb,
        period jsonb,
        edge bigint NOT NULL
    );

    CREATE TABLE totals (
        subscriber text PRIMARY KEY,
        bytes_in bigint[] NOT NULL,
        bytes_out bigint[] NOT NULL
    ) WITH (fillfactor = 70);

    CREATE TABLE samples (
        t bigint NOT NULL,
        seq bigint NOT NULL,
        pos integer NOT NULL,
        subscriber text NOT NULL,
        pop text NOT NULL DEFAULT '',
        bytes_in bigint NOT NULL CHECK (bytes_in >= 0),
        bytes_out bigint NOT NULL CHECK (bytes_out >= 0),
        PRIMARY KEY (t, seq, pos)
    );
    CREATE INDEX samples_by_subscriber ON samples (subscriber, t);

    CREATE TABLE records (
        kind text NOT NULL,
        pop text NOT NULL DEFAULT '',
        pos bigint NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (kind, pop, pos)
    );

    CREATE TABLE counters (
        pop text NOT NULL DEFAULT '',
        access_server text NOT NULL,
        state jsonb NOT NULL,
        PRIMARY KEY (pop, access_server)
    );
    """,
    # 2: a cycle's samples written in order; a subscriber's found by time.
    """
    DROP INDEX samples_by_subscriber;
    ALTER TABLE samples DROP CONSTRAINT samples_pkey;
    ALTER TABLE samples ADD PRIMARY KEY (t, seq, subscriber, pos);
    CREATE TABLE sample_times (
        t bigint NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (t, seq)
    );
    INSERT INTO sample_times (t, seq) SELECT DISTINCT t, seq FROM samples;
    """,
)
"""Each version's statements, version n at index n - 1. Never edit a released one: add the
next."""

LATEST = len(VERSIONS)


def version_of(conn: psycopg.Connection[Any]) -> int | None:
    """The database's schema version: None when it has none (not a ledger, or never
    migrated)."""
    found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not found or not found[0]:
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def refuse_unless_current(version: int | None, where: str) -> None:
    """The store opens only a database at this nmsquota's version."""
    if version is None:
        raise LedgerMissing(where, f"the database has no nmsquota tables: {MIGRATE_ADVICE}")
    if version < LATEST:
        raise SchemaOutdated(where, version)
    if version > LATEST:
        raise newer(version, where)


class SchemaOutdated(LedgerError):
    """A ledger whose tables an older nmsquota made: refused (not LedgerMissing: the ledger
    is there) until `nmsquota ledger migrate` brings them up to date."""

    def __init__(self, where: str, version: int) -> None:
        self.where = where
        self.version = version
        super().__init__(
            f"ledger {where} has nmsquota tables of version {version}, this nmsquota needs "
            f"{LATEST}: {MIGRATE_ADVICE}"
        )


def newer(version: int, where: str) -> LedgerError:
    return LedgerCorrupt(
        where,
        f"has nmsquota tables of version {version}, newer than this nmsquota reads "
        f"(up to {LATEST})",
        advice=NEWER_ADVICE,
    )


def migrate(url: str) -> list[int]:
    """Bring the database at `url` to this nmsquota's schema: the versions it lacks, in one
    transaction. Returns the versions applied ([] when it was up to date). LedgerCorrupt for
    a database whose schema is newer than this nmsquota's."""
    where = public_url(url)
    with connect(url, application=application_name("migrate")) as conn, talking(where, "migrate"):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_version (
                   version integer PRIMARY KEY,
                   applied timestamptz NOT NULL DEFAULT now(),
                   nmsquota text NOT NULL
               )"""
        )
        current = version_of(conn) or 0
        if current > LATEST:
            raise newer(current, where)
        applied = []
        for version in range(current + 1, LATEST + 1):
            conn.execute(VERSIONS[version - 1])  # our own SQL
            conn.execute(
                "INSERT INTO schema_version (version, nmsquota) VALUES (%s, %s)",
                (version, __version__),
            )
            applied.append(version)
        conn.commit()
    return applied
