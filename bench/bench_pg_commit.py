"""Spike for issue 24: which layout of rolling-window totals lets the PostgreSQL ledger commit one
cycle within its targets (5,000 subscribers <= 250 ms, 100,000 <= 1 s, flat from day 1 to 30)?

It starts its own throwaway PostgreSQL (Debian's binaries, as tests/fixtures/postgres.py does,
but with fsync on: a commit's WAL flush is part of its cost), prefills a `samples` table
partitioned by day (PARTITION BY RANGE on t, one partition per day, index on t) with D days of
300 s cycles, every subscriber active in every cycle (one row per subscriber per cycle), then
for each candidate layout times the commit of --cycles more cycles, each end to end in ONE
transaction, and the read of every subscriber's totals for every tally:

  update-ff100  `totals(tally, subscriber, bytes_in, bytes_out)` kept incrementally: COPY the
                cycle into a temp table, INSERT it into samples, then per tally an UPDATE ..
                FROM the cycle (+ INSERT of new subscribers) and an UPDATE .. FROM (SELECT
                subscriber, sum(..) FROM samples WHERE t in the band GROUP BY 1) subtracting
                the band that fell out of the window; fillfactor 100 (PostgreSQL's default)
  update-ff70   the same, totals with fillfactor=70 (room on each page for HOT updates)
  upsert-ff70   the same table, one statement per tally: the cycle and the band (negated)
                summed per subscriber, INSERT .. ON CONFLICT DO UPDATE (each row written once
                per cycle, not twice; new subscribers need no second statement)
  wide-ff70     one row per subscriber for all tallies, `totals(subscriber, bytes_in bigint[],
                bytes_out bigint[])` (element i = tally i), one INSERT .. ON CONFLICT DO UPDATE
                for all tallies: each subscriber's row written once per cycle, whatever the
                number of tallies
  docs          totals as documents, as the TinyDB ledger keeps them in state.json: the writer
                keeps every tally's totals in memory (loaded when it opens, not timed), reads
                each band's sums per subscriber from samples, moves the totals in Python and
                writes them back as 64 rows per tally (`totals(tally, shard, names text[],
                bytes_in bigint[], bytes_out bigint[])`); readers read the 64 rows
  on-read       no totals table: the commit only COPYs the samples; the read is SELECT
                subscriber, sum(..) FROM samples WHERE t > edge GROUP BY subscriber

Every commit also moves each tally's edge (`tallies` row) and bumps `meta.seq`. Tallies:
--tallies 1 is a 30-day window, 2 adds a 24 h window. Before each candidate the samples and
totals go back to the same prefilled state, so every candidate commits the same cycles. After
each totals-table candidate its totals are checked against the sums on read (the numbers must
agree to the byte).

Prefill is server-side (INSERT .. SELECT generate_series), so it is fast, but 30 days at
100,000 subscribers is 864 M rows (about 60 GB): --sparse fills, for each day D, only the
partitions a commit reads or writes (day D-1 for the 24 h band, day D-30 for the 30-day band,
the current one); every partition up to day D exists, empty, so planning and pruning see all
of them. What a sparse day's read-on-read figure would be when full is extrapolated in
RESULTS.md, not here.

Run it under `nice -n 19` when the machine is shared (the server inherits it):

    nice -n 19 .venv/bin/python bench/bench_pg_commit.py --subscribers 5000 --days 1 30
    nice -n 19 .venv/bin/python bench/bench_pg_commit.py --subscribers 100000 --days 1 30 \\
        --sparse --cycles 8
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

CYCLE = 300
DAY = 86400
PER_DAY = DAY // CYCLE
WINDOWS = {"30d": 30 * DAY, "24h": DAY}
"""--tallies 1 keeps the 30-day window (a monthly-style cap), 2 adds the 24 h one."""
CANDIDATES = ("update-ff100", "update-ff70", "upsert-ff70", "wide-ff70", "docs", "on-read")
SHARDS = 64
"""docs: each tally's totals in this many rows (by crc32 of the name), arrays inside."""
BINARIES = "/usr/lib/postgresql/*/bin"


# ---------------------------------------------------------------- the throwaway server


@dataclass(frozen=True)
class Server:
    directory: Path
    bindir: Path

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.directory} dbname={dbname} user=postgres"


def _run(*argv: str | Path, check: bool = True) -> None:
    done = subprocess.run(
        [str(arg) for arg in argv],
        user="postgres" if os.geteuid() == 0 else None,  # initdb and postgres refuse root
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{Path(str(argv[0])).name} exited {done.returncode}: {said[0]}")


@contextlib.contextmanager
def running_server(options: Sequence[str]) -> Iterator[Server]:
    """initdb + pg_ctl start in a short /tmp directory, Unix socket only; stopped and removed
    however the block ends."""
    bindirs = sorted(Path("/").glob(BINARIES.lstrip("/")))
    if not bindirs:
        raise SystemExit(f"bench_pg_commit: no PostgreSQL binaries in {BINARIES}")
    bindir = bindirs[-1]
    directory = Path(tempfile.mkdtemp(prefix="nq-pgb-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    try:
        _run(bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync", "--no-instructions")  # fmt: skip
        settings = " ".join(f"-c {option}" for option in options)
        _run(bindir / "pg_ctl", "-D", data, "-l", directory / "log", "-w", "-t", "60", "-o",
             f"-k {directory} -c listen_addresses='' {settings}", "start")  # fmt: skip
        yield Server(directory, bindir)
    finally:
        if (data / "postmaster.pid").exists():
            _run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop",
                 check=False)  # fmt: skip
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------- schema and prefill


def name_of(subscriber: int) -> str:
    return f"sub{subscriber:06d}"


def create_schema(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE samples (
            t bigint NOT NULL, seq bigint NOT NULL, subscriber text NOT NULL,
            bytes_in bigint NOT NULL CHECK (bytes_in >= 0),
            bytes_out bigint NOT NULL CHECK (bytes_out >= 0)
        ) PARTITION BY RANGE (t);
        CREATE TABLE tallies (key text PRIMARY KEY, window_s bigint NOT NULL, edge bigint NOT NULL);
        CREATE TABLE meta (id int PRIMARY KEY, seq bigint NOT NULL, now bigint NOT NULL);
        INSERT INTO meta VALUES (1, 0, 0);
        CREATE TABLE totals_base (tally text, subscriber text, bytes_in bigint, bytes_out bigint);
    """)
    conn.commit()


def ensure_partitions(conn: psycopg.Connection[Any], through_day: int) -> None:
    for day in range(through_day + 2):
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS samples_d{day:03d} PARTITION OF samples "
            f"FOR VALUES FROM ({day * DAY}) TO ({(day + 1) * DAY})"
        )
    conn.commit()


def fill_cycles(conn: psycopg.Connection[Any], first: int, last: int, subscribers: int) -> None:
    """Cycles first..last (t = cycle * 300), every subscriber in each, pseudo-random bytes up
    to ~50 MB in and ~12 MB out per cycle (deterministic in cycle and subscriber)."""
    if last < first:
        return
    conn.execute(
        """INSERT INTO samples
           SELECT c * 300, c, 'sub' || lpad(s::text, 6, '0'),
                  (s * 2654435761 + c * 40503) %% 50000000,
                  (s * 40503 + c * 2654435761) %% 12000000
           FROM generate_series(%s::bigint, %s::bigint) c, generate_series(1::bigint, %s) s""",
        (first, last, subscribers),
    )
    conn.commit()


def fill_day(conn: psycopg.Connection[Any], day: int, through_cycle: int, subs: int) -> None:
    fill_cycles(conn, max(1, day * PER_DAY), min((day + 1) * PER_DAY - 1, through_cycle), subs)


# ---------------------------------------------------------------- the candidates


def setup_totals(conn: psycopg.Connection[Any], candidate: str, tallies: Sequence[str]) -> None:
    conn.execute("DROP TABLE IF EXISTS totals")
    if candidate == "wide-ff70":
        conn.execute(
            "CREATE TABLE totals (subscriber text PRIMARY KEY, bytes_in bigint[] NOT NULL,"
            " bytes_out bigint[] NOT NULL) WITH (fillfactor = 70)"
        )
        arrays = [
            "ARRAY[" + ", ".join(f"coalesce(b{i}.{column}, 0)" for i in range(len(tallies))) + "]"
            for column in ("bytes_in", "bytes_out")
        ]
        joins = " ".join(
            f"LEFT JOIN totals_base b{i} ON b{i}.tally = %s AND b{i}.subscriber = s.subscriber"
            for i in range(len(tallies))
        )
        conn.execute(
            f"INSERT INTO totals SELECT s.subscriber, {arrays[0]}, {arrays[1]}"
            f" FROM (SELECT DISTINCT subscriber FROM totals_base) s {joins}",
            list(tallies),
        )
    elif candidate == "docs":
        conn.execute(
            "CREATE TABLE totals (tally text, shard int, names text[] NOT NULL,"
            " bytes_in bigint[] NOT NULL, bytes_out bigint[] NOT NULL, PRIMARY KEY (tally, shard))"
        )
        memory = load_memory(conn, tallies)
        write_docs(conn.cursor(), memory)
    elif candidate != "on-read":
        fillfactor = 100 if candidate.endswith("ff100") else 70
        conn.execute(
            "CREATE TABLE totals (tally text, subscriber text, bytes_in bigint NOT NULL,"
            " bytes_out bigint NOT NULL, PRIMARY KEY (tally, subscriber))"
            f" WITH (fillfactor = {fillfactor})"
        )
        conn.execute("INSERT INTO totals SELECT * FROM totals_base")
    conn.commit()
    conn.autocommit = True
    if candidate != "on-read":
        conn.execute("VACUUM ANALYZE totals")
    conn.execute("ANALYZE samples")
    conn.autocommit = False


Memory = dict[str, dict[str, list[int]]]
"""docs: tally -> subscriber -> [bytes_in, bytes_out], the writer's own copy."""


def load_memory(conn: psycopg.Connection[Any], tallies: Sequence[str]) -> Memory:
    memory: Memory = {key: {} for key in tallies}
    for key, name, bytes_in, bytes_out in conn.execute(
        "SELECT * FROM totals_base WHERE tally = ANY(%s)", (list(tallies),)
    ):
        memory[key][name] = [bytes_in, bytes_out]
    return memory


def write_docs(cur: psycopg.Cursor[Any], memory: Memory) -> None:
    for key, totals in memory.items():
        shards: list[tuple[list[str], list[int], list[int]]] = [([], [], []) for _ in range(SHARDS)]
        for name, (bytes_in, bytes_out) in totals.items():
            names, ins, outs = shards[zlib.crc32(name.encode()) % SHARDS]
            names.append(name)
            ins.append(bytes_in)
            outs.append(bytes_out)
        cur.execute("DELETE FROM totals WHERE tally = %s", (key,))
        with cur.copy("COPY totals FROM STDIN") as copy:
            for shard, (names, ins, outs) in enumerate(shards):
                copy.write_row((key, shard, names, ins, outs))


def commit_docs(cur: psycopg.Cursor[Any], memory: Memory, rows: Sequence[tuple[str, int, int]],
                bands: dict[str, tuple[int, int]]) -> None:  # fmt: skip
    """The cycle added and each band subtracted in the writer's memory, then written."""
    for key, (low, high) in bands.items():
        totals = memory[key]
        for name, bytes_in, bytes_out in rows:
            pair = totals.get(name)
            if pair is None:
                totals[name] = [bytes_in, bytes_out]
            else:
                pair[0] += bytes_in
                pair[1] += bytes_out
        cur.execute(
            """SELECT subscriber, sum(bytes_in)::bigint, sum(bytes_out)::bigint FROM samples
               WHERE t > %s AND t <= %s GROUP BY 1""",
            (low, high),
        )
        for name, bytes_in, bytes_out in cur:
            pair = totals[name]
            pair[0] -= bytes_in
            pair[1] -= bytes_out
    write_docs(cur, memory)


def copy_text(t: int, seq: int, rows: Sequence[tuple[str, int, int]]) -> bytes:
    return "".join(f"{t}\t{seq}\t{name}\t{i}\t{o}\n" for name, i, o in rows).encode()


def commit_cycle(conn: psycopg.Connection[Any], candidate: str, tallies: Sequence[str],
                 t: int, seq: int, rows: Sequence[tuple[str, int, int]],
                 memory: Memory) -> None:  # fmt: skip
    """One cycle in one transaction: samples in, each tally's totals and edge moved, meta."""
    edges = dict(conn.execute("SELECT key, edge FROM tallies").fetchall())
    data = copy_text(t, seq, rows)
    with conn.cursor() as cur:
        if candidate in ("on-read", "docs"):
            with cur.copy("COPY samples FROM STDIN") as copy:
                copy.write(data)
        else:
            with cur.copy("COPY cycle FROM STDIN") as copy:
                copy.write(data)
            cur.execute("INSERT INTO samples SELECT * FROM cycle")
        if candidate == "docs":
            commit_docs(cur, memory, rows, {key: (edges[key], t - WINDOWS[key]) for key in tallies})
        if candidate == "wide-ff70":
            wide_upsert(cur, [(edges[key], t - WINDOWS[key]) for key in tallies])
        for key in tallies:
            old, new = edges[key], t - WINDOWS[key]
            band = {"tally": key, "low": old, "high": new}
            if candidate.startswith("update"):
                cur.execute(
                    """UPDATE totals SET bytes_in = totals.bytes_in + c.i,
                                         bytes_out = totals.bytes_out + c.o
                       FROM (SELECT subscriber, sum(bytes_in) i, sum(bytes_out) o
                             FROM cycle GROUP BY 1) c
                       WHERE totals.tally = %(tally)s AND totals.subscriber = c.subscriber""",
                    band,
                )
                cur.execute(
                    """INSERT INTO totals
                       SELECT %(tally)s, subscriber, sum(bytes_in), sum(bytes_out) FROM cycle c
                       WHERE NOT EXISTS (SELECT 1 FROM totals x
                                         WHERE x.tally = %(tally)s AND x.subscriber = c.subscriber)
                       GROUP BY subscriber""",
                    band,
                )
                cur.execute(
                    """UPDATE totals SET bytes_in = totals.bytes_in - b.i,
                                         bytes_out = totals.bytes_out - b.o
                       FROM (SELECT subscriber, sum(bytes_in) i, sum(bytes_out) o FROM samples
                             WHERE t > %(low)s AND t <= %(high)s GROUP BY 1) b
                       WHERE totals.tally = %(tally)s AND totals.subscriber = b.subscriber""",
                    band,
                )
            elif candidate == "upsert-ff70":
                cur.execute(
                    """INSERT INTO totals AS x
                       SELECT %(tally)s, subscriber, sum(i), sum(o) FROM (
                           SELECT subscriber, bytes_in i, bytes_out o FROM cycle
                           UNION ALL
                           SELECT subscriber, -bytes_in, -bytes_out FROM samples
                           WHERE t > %(low)s AND t <= %(high)s) d
                       GROUP BY subscriber
                       ON CONFLICT (tally, subscriber) DO UPDATE
                       SET bytes_in = x.bytes_in + excluded.bytes_in,
                           bytes_out = x.bytes_out + excluded.bytes_out""",
                    band,
                )
            cur.execute("UPDATE tallies SET edge = %(high)s WHERE key = %(tally)s", band)
        cur.execute("UPDATE meta SET seq = seq + 1, now = %s WHERE id = 1", (t,))
    conn.commit()


def wide_upsert(cur: psycopg.Cursor[Any], bands: Sequence[tuple[int, int]]) -> None:
    """Every tally's delta (the cycle in, each band out) summed per subscriber in one pass,
    added to the subscriber's one row."""
    n = len(bands)
    inside = [f"(t > %(low{i})s AND t <= %(high{i})s)" for i in range(n)]
    signs = ", ".join(f"CASE WHEN {inside[i]} THEN -1 ELSE 0 END w{i}" for i in range(n))
    ones = ", ".join(f"1 w{i}" for i in range(n))
    deltas = ", ".join(
        f"ARRAY[{', '.join(f'sum({c} * w{i})::bigint' for i in range(n))}] {c}" for c in ("i", "o")
    )
    sums = {
        column: ", ".join(f"x.{column}[{i}] + excluded.{column}[{i}]" for i in range(1, n + 1))
        for column in ("bytes_in", "bytes_out")
    }
    added = ", ".join(f"{column} = ARRAY[{terms}]" for column, terms in sums.items())
    params: dict[str, int] = {}
    for i, (low, high) in enumerate(bands):
        params[f"low{i}"], params[f"high{i}"] = low, high
    cur.execute(
        f"""INSERT INTO totals AS x
            SELECT subscriber, {deltas} FROM (
                SELECT subscriber, bytes_in i, bytes_out o, {ones} FROM cycle
                UNION ALL
                SELECT subscriber, bytes_in, bytes_out, {signs} FROM samples
                WHERE {" OR ".join(inside)}) d
            GROUP BY subscriber
            ON CONFLICT (subscriber) DO UPDATE SET {added}""",
        params,
    )


def read_totals(conn: psycopg.Connection[Any], candidate: str,
                tallies: Sequence[str]) -> dict[str, list[tuple[str, int, int]]]:  # fmt: skip
    """Every subscriber's totals for every tally, as a reader needs them for a decision."""
    found: dict[str, list[tuple[str, int, int]]] = {key: [] for key in tallies}
    if candidate == "wide-ff70":
        for name, ins, outs in conn.execute("SELECT subscriber, bytes_in, bytes_out FROM totals"):
            for i, key in enumerate(tallies):
                found[key].append((name, ins[i], outs[i]))
        conn.commit()
        return found
    if candidate == "docs":
        for key in tallies:
            for names, ins, outs in conn.execute(
                "SELECT names, bytes_in, bytes_out FROM totals WHERE tally = %s", (key,)
            ):
                found[key] += zip(names, ins, outs, strict=True)
        conn.commit()
        return found
    for key in tallies:
        if candidate == "on-read":
            found[key] = conn.execute(
                """SELECT subscriber, sum(bytes_in)::bigint, sum(bytes_out)::bigint
                   FROM samples WHERE t > (SELECT edge FROM tallies WHERE key = %s)
                   GROUP BY subscriber""",
                (key,),
            ).fetchall()
        else:
            found[key] = conn.execute(
                "SELECT subscriber, bytes_in, bytes_out FROM totals WHERE tally = %s",
                (key,),
            ).fetchall()
    conn.commit()
    return found


def mismatches(conn: psycopg.Connection[Any], candidate: str, tallies: Sequence[str]) -> int:
    """Subscribers whose kept totals differ from the sums on read, over all tallies."""
    wrong = 0
    for position, key in enumerate(tallies, 1):
        kept = (
            f"SELECT subscriber, bytes_in[{position}] bytes_in, bytes_out[{position}] bytes_out"
            " FROM totals"
            if candidate == "wide-ff70"
            else "SELECT unnest(names) subscriber, unnest(bytes_in) bytes_in,"
            " unnest(bytes_out) bytes_out FROM totals WHERE tally = %(k)s"
            if candidate == "docs"
            else "SELECT * FROM totals WHERE tally = %(k)s"
        )
        row = conn.execute(
            f"""SELECT count(*) FROM ({kept}) k
               FULL JOIN (SELECT subscriber, sum(bytes_in) i, sum(bytes_out) o FROM samples
                          WHERE t > (SELECT edge FROM tallies WHERE key = %(k)s)
                          GROUP BY subscriber) r USING (subscriber)
               WHERE k.bytes_in IS DISTINCT FROM r.i OR k.bytes_out IS DISTINCT FROM r.o""",
            {"k": key},
        ).fetchone()
        wrong += row[0] if row else 0
    conn.commit()
    return wrong


# ---------------------------------------------------------------- the run


@dataclass
class Timing:
    """One timed step: wall time, and from the scheduler (/proc/PID/schedstat, ns) the CPU
    time of this client and of its server backend and the time both waited for a CPU. On a
    shared machine wall minus that wait estimates the wall time on an idle one."""

    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    waited: float = 0.0


def schedstat(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of a process' main thread."""
    fields = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(fields[0]), int(fields[1])


@contextlib.contextmanager
def timed(backend: int) -> Iterator[Timing]:
    timing = Timing()
    client0, server0 = schedstat(os.getpid()), schedstat(backend)
    started = time.perf_counter()
    yield timing
    timing.wall = (time.perf_counter() - started) * 1000
    client1, server1 = schedstat(os.getpid()), schedstat(backend)
    timing.client_cpu = (client1[0] - client0[0]) / 1e6
    timing.server_cpu = (server1[0] - server0[0]) / 1e6
    timing.waited = (client1[1] - client0[1] + server1[1] - server0[1]) / 1e6


@dataclass
class Row:
    subscribers: int
    day: int
    fill: str
    candidate: str
    tallies: int
    commits: list[Timing]
    reads: list[Timing]
    load: str
    check: str


def base_totals(conn: psycopg.Connection[Any], now: int, subs: int) -> None:
    """Every window's totals at `now` from the samples, the state each candidate starts from."""
    conn.execute("TRUNCATE totals_base; DELETE FROM tallies")
    for key, window in WINDOWS.items():
        edge = now - window
        conn.execute("INSERT INTO tallies VALUES (%s, %s, %s)", (key, window, edge))
        conn.execute(
            """INSERT INTO totals_base SELECT %s, subscriber, sum(bytes_in), sum(bytes_out)
               FROM samples WHERE t > %s GROUP BY subscriber""",
            (key, edge),
        )
    conn.execute("UPDATE meta SET now = %s", (now,))
    conn.commit()


def run_candidate(conn: psycopg.Connection[Any], args: argparse.Namespace, subs: int, day: int,
                  fill: str, candidate: str, ntallies: int) -> Row:  # fmt: skip
    now = day * DAY
    tallies = list(WINDOWS)[:ntallies]
    conn.execute("DELETE FROM samples WHERE t > %s", (now,))  # the previous candidate's cycles
    conn.execute("UPDATE tallies SET edge = %s - window_s", (now,))
    conn.commit()
    setup_totals(conn, candidate, tallies)
    memory = load_memory(conn, tallies) if candidate == "docs" else {}
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS cycle (t bigint, seq bigint, subscriber text,"
        " bytes_in bigint, bytes_out bigint) ON COMMIT DELETE ROWS"
    )
    conn.commit()
    rng = random.Random(args.seed)
    names = [name_of(s) for s in range(1, subs + 1)]
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    backend = conn.info.backend_pid
    commits: list[Timing] = []
    for k in range(1, args.cycles + 1):
        cycle = day * PER_DAY + k
        rows = [(n, rng.randrange(50_000_000), rng.randrange(12_000_000)) for n in names]
        with timed(backend) as timing:
            commit_cycle(conn, candidate, tallies, cycle * CYCLE, cycle, rows, memory)
        commits.append(timing)
    reads: list[Timing] = []
    for _ in range(args.reads):
        with timed(backend) as timing:
            found = read_totals(conn, candidate, tallies)
        reads.append(timing)
    assert all(len(v) == subs for v in found.values()), {k: len(v) for k, v in found.items()}
    check = "-" if candidate == "on-read" else f"{mismatches(conn, candidate, tallies)} wrong"
    if candidate != "on-read" and args.verbose:
        size = conn.execute("SELECT pg_total_relation_size('totals')").fetchone()
        print(f"  totals size after: {size[0] if size else 0:,} bytes", file=sys.stderr)
    return Row(subs, day, fill, candidate, ntallies, commits, reads, load, check)


def run_scale(server: Server, args: argparse.Namespace, subs: int) -> list[Row]:
    name = f"bench_{subs}"
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        # --collate-c: text compared bytewise (memcmp), not by the C.UTF-8 locale's strcoll,
        # for every subscriber key in every index, join and GROUP BY.
        collation = " TEMPLATE template0 LC_COLLATE 'C'" if args.collate_c else ""
        admin.execute(f"CREATE DATABASE {name}{collation}")
    rows: list[Row] = []
    with psycopg.connect(server.conninfo(name)) as conn:
        create_schema(conn)
        filled: set[int] = set()
        previous = 0
        for day in sorted(args.days):
            ensure_partitions(conn, day)
            # The previous day's current partition held one prefilled cycle and the cycles
            # its candidates committed: gone, so the days filled now start clean.
            conn.execute("DELETE FROM samples WHERE t >= %s", (previous * DAY,))
            conn.commit()
            filled = {d for d in filled if d < previous}
            previous = day
            wanted = set(range(day)) if not args.sparse else {day - 1, max(0, day - 30)}
            started = time.perf_counter()
            for d in sorted(wanted - filled):
                fill_day(conn, d, day * PER_DAY, subs)
            fill_day(conn, day, day * PER_DAY, subs)  # cycle day*288 starts the current day
            filled |= wanted
            conn.autocommit = True
            conn.execute("CREATE INDEX IF NOT EXISTS samples_t ON samples (t)")
            conn.execute("VACUUM ANALYZE samples")
            conn.autocommit = False
            count = conn.execute("SELECT count(*) FROM samples").fetchone()
            fill_s = time.perf_counter() - started
            size = conn.execute(
                "SELECT pg_total_relation_size(%s)", (f"samples_d{day - 1:03d}",)
            ).fetchone()
            kind = "sparse" if args.sparse and len(wanted) < day else "full"
            print(
                f"# {subs:,} subscribers, day {day} ({kind}): {count[0] if count else 0:,}"
                f" sample rows, prefill {fill_s:.0f} s; one full day of samples with its index"
                f" = {(size[0] if size else 0) / 2**20:.0f} MiB",
                flush=True,
            )
            base_totals(conn, day * DAY, subs)
            for candidate in args.candidates:
                for ntallies in args.tallies:
                    row = run_candidate(conn, args, subs, day, kind, candidate, ntallies)
                    print(format_row(row), flush=True)
                    rows.append(row)
    return rows


HEADER = (
    "| subscribers | day | fill | candidate | tallies | commit wall median / max ms "
    "| commit CPU client + server ms | commit CPU wait ms | read all totals wall ms "
    "| read CPU client + server ms | load 1/5/15 | check |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _median(timings: Sequence[Timing], field: str) -> float:
    return float(statistics.median(getattr(t, field) for t in timings))


def format_row(row: Row) -> str:
    c, r = row.commits, row.reads
    return (
        f"| {row.subscribers:,} | {row.day} | {row.fill} | {row.candidate} | {row.tallies} "
        f"| {_median(c, 'wall'):.0f} / {max(t.wall for t in c):.0f} "
        f"| {_median(c, 'client_cpu'):.0f} + {_median(c, 'server_cpu'):.0f} "
        f"| {_median(c, 'waited'):.0f} | {_median(r, 'wall'):.0f} "
        f"| {_median(r, 'client_cpu'):.0f} + {_median(r, 'server_cpu'):.0f} "
        f"| {row.load} | {row.check} |"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[5000])
    parser.add_argument("--days", type=int, nargs="+", default=[1, 30],
                        help="days of history to prefill before timing (ascending)")  # fmt: skip
    parser.add_argument("--tallies", type=int, nargs="+", choices=[1, 2], default=[1, 2])
    parser.add_argument("--cycles", type=int, default=12, help="timed commits per candidate")
    parser.add_argument("--reads", type=int, default=3, help="timed reads of all totals")
    parser.add_argument("--candidates", nargs="+", choices=CANDIDATES, default=list(CANDIDATES))
    parser.add_argument("--sparse", action="store_true",
                        help="fill only the day partitions a commit touches")  # fmt: skip
    parser.add_argument("--collate-c", action="store_true",
                        help="the database's collation C instead of C.UTF-8")  # fmt: skip
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--pg", action="append", default=[], metavar="SETTING=VALUE",
                        help="an extra server setting, e.g. --pg jit=off (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    if any(d < 1 for d in args.days) or any(s < 1 for s in args.subscribers):
        parser.error("--days and --subscribers must be >= 1")
    if args.cycles < 1 or args.cycles * len(args.candidates) * len(args.tallies) > PER_DAY // 2:
        parser.error("--cycles must be >= 1 and keep every candidate's cycles within half a day")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # so the server is stopped and removed on SIGTERM too

    signal.signal(signal.SIGTERM, interrupted)
    # A production-like server on a 24 GiB machine, not a tuned one: 1 GB of shared buffers,
    # WAL big enough that the prefill does not checkpoint every few seconds; fsync stays on.
    options = ["shared_buffers=1GB", "max_wal_size=8GB", *args.pg]
    print(
        f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}, psycopg {psycopg.__version__} ({psycopg.pq.__impl__}),"
        f" nice {os.nice(0)}, server settings {options},"
        f" collation {'C' if args.collate_c else 'C.UTF-8'},"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        flush=True,
    )
    rows: list[Row] = []
    try:
        with running_server(options) as server:
            with psycopg.connect(server.conninfo()) as conn:
                version = conn.execute("SHOW server_version").fetchone()
                print(f"# PostgreSQL {version[0] if version else '?'}", flush=True)
            for subs in args.subscribers:
                rows += run_scale(server, args, subs)
    except KeyboardInterrupt:
        print("bench_pg_commit: interrupted; server stopped and removed", file=sys.stderr)
        return 130
    print()
    print(HEADER)
    for row in rows:
        print(format_row(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
