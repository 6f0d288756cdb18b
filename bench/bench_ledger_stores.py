"""Issue 24's benchmark (docs/design/ledger-stores.md step 10, first half): the commit of one
300 s cycle on each ledger store, TinyDB and PostgreSQL, through the real API, for 5,000 and
100,000 active subscribers at day 1 and day 30 of history (targets: TinyDB as today;
PostgreSQL <= 250 ms at 5,000 and <= 1 s at 100,000, flat from day 1 to day 30).

One timed commit is what the daemon's cycle asks of the ledger: `ledger.commit(now, samples)`
with one sample per subscriber at `now`, every subscriber active, on a writer opened with
`Ledger.open_writer(location, tallies)`, where location is a directory (TinyStore) or a
postgresql:// URL (PostgresStore). Tallies: `1` = a 30-day window, `2` = 30 days and 24
hours (as bench_pg_commit's spike). Samples are made before the clock starts.

History before the timed cycles is committed through the same API, an hour of cycles per
commit (a commit may hold samples at many times; each store keeps them as it keeps a
cycle's: a document per time in the hour's file, or rows at their `t`). Day D means D full
days of history before the timed cycles, which start at D x 86400. By default the history
is sparse, as the spike's: only the days a day-D commit reads or whose shape it meets are
filled: day D-1 whole (the 24 h window's band passes it, and every subscriber's latest
index entries fill their own b-tree leaf, as they do in a full history) and day D-30 (the
30-day band passes it). Days between are empty; `--history full` fills every day. Both
stores find a band by time (TinyDB: the hour files it falls in; PostgreSQL: the samples'
primary key on t), so what the commit reads and writes does not depend on the empty days.

After each row's timed cycles the store's `totals(tally)` must equal `recount(tally,
edge(tally))` for every tally kept (the incremental totals against the slow, obvious sum).
Before a row's timed cycles come --warmup untimed ones (after a reopen, TinyDB's writer reads
its files again and PostgreSQL's totals were rewritten by the change of tallies).

PostgreSQL: the script starts its own throwaway server, as bench_pg_commit does (its
`running_server`: initdb in /tmp, Unix socket, fsync on, shared_buffers=1GB,
max_wal_size=8GB), creates a database per subscriber count and runs
`nmsquota.ledger.postgres.schema.migrate(url)`. CPU columns come from /proc/PID/schedstat:
this process, and (PostgreSQL) the writer's server backend; "wait" is the time both sat
runnable waiting for a CPU, what sharing the machine adds to the wall time.

--profile-cycles N commits N more cycles per row under cProfile (not in the figures);
--explain commits one more per PostgreSQL row with auto_explain (ANALYZE, BUFFERS) on the
writer's connection and prints the plans of its statements from the server's log;
--statements starts the server with pg_stat_statements and prints, per row, the server's
time, buffers and WAL per commit for each statement the store ran in the timed commits.
--pg SETTING=VALUE and --drop-index NAME are what-ifs (a server setting; an index of the
store's schema dropped after migrating): their rows name them, so that they are never read
as the store as it is. Each row also times reading every tally's totals on the writer.

Run from the repository root, under nice when the machine is shared (the server inherits it):

    nice -n 19 .venv/bin/python bench/bench_ledger_stores.py --subscribers 5000
    nice -n 19 .venv/bin/python bench/bench_ledger_stores.py --store postgresql \\
        --subscribers 100000 --cycles 8 --profile-cycles 2 --explain
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import pstats
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from bench_ledger import Traffic, code_version

from nmsquota.ledger import Ledger, Tally

CYCLE = 300
DAY = 86400
HOUR = 3600
PER_DAY = DAY // CYCLE
WINDOWS = (Tally(30 * DAY), Tally(DAY))
"""--tallies 1 keeps the 30-day window (a monthly-style cap), 2 adds the 24 h one."""
SERVER_OPTIONS = ("shared_buffers=1GB", "max_wal_size=8GB")
"""bench_pg_commit's: a production-like server on this 24 GiB machine; fsync stays on."""


# ---------------------------------------------------------------- measuring


def schedstat(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of a process' main thread."""
    fields = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(fields[0]), int(fields[1])


@dataclass
class Timing:
    wall: float = 0.0  # ms, as the others
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    waited: float = 0.0
    found: int = 0  # rows a read returned


@contextlib.contextmanager
def timed(backend: int | None) -> Iterator[Timing]:
    timing = Timing()
    pids = [os.getpid()] + ([backend] if backend else [])
    before = [schedstat(pid) for pid in pids]
    started = time.perf_counter()
    yield timing
    timing.wall = (time.perf_counter() - started) * 1000
    after = [schedstat(pid) for pid in pids]
    timing.client_cpu = (after[0][0] - before[0][0]) / 1e6
    if backend:
        timing.server_cpu = (after[1][0] - before[1][0]) / 1e6
    timing.waited = sum(a[1] - b[1] for a, b in zip(after, before, strict=True)) / 1e6


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- the ledgers


@dataclass
class Place:
    """Where a store's ledger is, and how to take it away."""

    store: str
    location: Path | str
    impl: str = "-"


@dataclass
class Run:
    """One ledger being written: its writer, the traffic and the clock of the last commit."""

    place: Place
    traffic: Traffic
    ledger: Ledger
    tallies: int
    now: int = 0
    filled: list[tuple[int, int]] = field(default_factory=list)  # (first, last) cycle times

    def backend(self) -> int | None:
        conn = getattr(self.ledger, "conn", None)  # PostgresStore's writer connection
        return int(conn.info.backend_pid) if conn is not None else None

    def reopen(self, tallies: int) -> None:
        if tallies != self.tallies:
            self.ledger.close()
            self.ledger = Ledger.open_writer(self.place.location, WINDOWS[:tallies])
            self.tallies = tallies

    def cycle(self) -> Timing:
        """One daemon-like commit: every subscriber's sample at the next cycle's time."""
        self.now += CYCLE
        samples = self.traffic.cycle(self.now)
        with timed(self.backend()) as timing:
            self.ledger.commit(self.now, samples)
        return timing

    def fill(self, until: int) -> None:
        """Commit cycles up to `until`, an hour of them per commit, at their own times."""
        first = self.now + CYCLE
        while self.now < until:
            hour_end = min(until, (self.now // HOUR + 1) * HOUR)
            times = range(self.now + CYCLE, hour_end + 1, CYCLE)
            samples = [sample for t in times for sample in self.traffic.cycle(t)]
            self.ledger.commit(hour_end, samples)
            self.now = hour_end
        if until >= first:
            self.filled.append((first, until))

    def skip_to(self, when: int) -> None:
        """No samples until `when`: the days sparse history leaves empty."""
        self.now = max(self.now, when)


def history_days(day: int, history: str) -> list[int]:
    """The days of history a day-`day` row needs filled (see the module's docstring)."""
    if history == "full":
        return list(range(day))
    return sorted({day - 1, *([day - 30] if day >= 30 else [])})


def prepare(run: Run, day: int, history: str) -> None:
    """Commit the history a day-`day` row needs, whatever of it lies after the last commit."""
    started = time.perf_counter()
    for wanted in history_days(day, history):
        if (wanted + 1) * DAY <= run.now:
            continue  # filled (or timed) before
        run.skip_to(wanted * DAY)
        run.fill((wanted + 1) * DAY)
    run.skip_to(day * DAY)
    say(
        f"  {run.place.store} {len(run.traffic.names):,}: history for day {day} committed in"
        f" {time.perf_counter() - started:.0f} s (load {load()})"
    )


@dataclass
class Row:
    store: str
    impl: str
    subscribers: int
    day: int
    history: str
    tallies: int
    commits: list[Timing]
    load: str
    check: str
    profile: str = ""
    plans: str = ""
    statements: str = ""
    reads: list[Timing] = field(default_factory=list)
    one_reads: list[Timing] = field(default_factory=list)


def measure(run: Run, args: argparse.Namespace, day: int, tallies: int, server: Any) -> Row:
    run.reopen(tallies)
    for _ in range(args.warmup):
        run.cycle()
    statements = Statements(run.place) if args.statements and run.backend() else None
    commits = [run.cycle() for _ in range(args.cycles)]
    row_load = load()
    row = Row(
        run.place.store,
        run.place.impl,
        len(run.traffic.names),
        day,
        args.history,
        tallies,
        commits,
        row_load,
        "",
    )
    if statements is not None:
        row.statements = statements.report(args.cycles)
    if args.profile_cycles:
        row.profile = profiled(run, args.profile_cycles, args.profile_top)
    if args.explain and server is not None and run.backend():
        row.plans = explained(run, server, args.explain_ms)
    row.reads = [read_all(run.ledger) for _ in range(3)]
    names = run.traffic.names
    row.one_reads = [read_one(run.ledger, names[i * len(names) // 5]) for i in range(5)]
    row.check = checked(run.ledger)
    return row


class Statements:
    """The server's own time per statement over the timed commits, from pg_stat_statements
    (the server started with it preloaded, --statements): reset here, read by `report`."""

    def __init__(self, place: Place) -> None:
        import psycopg

        self.conn = psycopg.connect(str(place.location), autocommit=True)
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def report(self, cycles: int) -> str:
        rows = self.conn.execute(
            """SELECT calls, total_exec_time, rows, shared_blks_hit, shared_blks_read,
                      shared_blks_dirtied, wal_bytes, regexp_replace(query, '\\s+', ' ', 'g')
               FROM pg_stat_statements
               WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND query NOT LIKE '%%pg_stat_statements%%'
               ORDER BY total_exec_time DESC LIMIT 10"""
        ).fetchall()
        self.conn.close()
        lines = [
            f"pg_stat_statements over the {cycles} timed commits, per commit:",
            "| server ms | calls | rows | buffers hit / read / dirtied | WAL MB | statement |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for calls, total, count, hit, read, dirtied, wal, query in rows:
            lines.append(
                f"| {total / cycles:.1f} | {calls / cycles:g} | {count / cycles:,.0f} "
                f"| {hit // cycles:,} / {read // cycles:,} / {dirtied // cycles:,} "
                f"| {float(wal) / cycles / 2**20:.1f} | {query[:160]} |"
            )
        return "\n".join(lines)


def read_all(ledger: Ledger) -> Timing:
    """Every subscriber's totals for every tally, as the daemon's decisions read them after
    a commit (on the writer): not a target here, but what tells psycopg's builds apart."""
    conn = getattr(ledger, "conn", None)
    with timed(int(conn.info.backend_pid) if conn is not None else None) as timing:
        for tally in ledger.tallies():
            ledger.totals(tally)
    return timing


def read_one(ledger: Ledger, name: str) -> Timing:
    """One subscriber's samples in the longest window, as the console's detail screen and
    `nmsquota usage` read them (on the writer's connection)."""
    conn = getattr(ledger, "conn", None)
    after = min(ledger.edge(tally) for tally in ledger.tallies())
    with timed(int(conn.info.backend_pid) if conn is not None else None) as timing:
        timing.found = len(list(ledger.samples([name], after=after)))
    return timing


def checked(ledger: Ledger) -> str:
    """Each kept tally's incremental totals against a recount from the stored samples."""
    verdicts = []
    for tally in ledger.tallies():
        kept, recounted = ledger.totals(tally), ledger.recount(tally, ledger.edge(tally))
        wrong = sum(kept.get(name) != recounted.get(name) for name in kept.keys() | recounted)
        verdicts.append(
            f"{tally.key}: {len(kept):,} equal" if not wrong else f"{tally.key}: {wrong:,} WRONG"
        )
    return "; ".join(verdicts)


def profiled(run: Run, cycles: int, top: int) -> str:
    profiler = cProfile.Profile()
    walls = []
    for _ in range(cycles):
        run.now += CYCLE
        samples = run.traffic.cycle(run.now)
        started = time.perf_counter()
        profiler.runcall(run.ledger.commit, run.now, samples)
        walls.append((time.perf_counter() - started) * 1000)
    out = io.StringIO()
    out.write(
        f"cProfile of {cycles} more commits (wall with the profiler on:"
        f" {', '.join(f'{w:.0f}' for w in walls)} ms)\n"
    )
    for key in ("tottime", "cumulative"):
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key)
        stats.print_stats(top)
    return out.getvalue()


def explained(run: Run, server: Any, threshold_ms: int) -> str:
    """One more commit with auto_explain on the writer's connection: the plans, with actual
    times and buffers, of its statements slower than `threshold_ms`, from the server's log."""
    conn = getattr(run.ledger, "conn", None)
    if conn is None:
        return ""
    log = Path(server.directory) / "log"
    offset = log.stat().st_size
    for setting in (
        "LOAD 'auto_explain'",
        f"SET auto_explain.log_min_duration = {threshold_ms}",
        "SET auto_explain.log_analyze = on",
        "SET auto_explain.log_buffers = on",
        "SET auto_explain.log_nested_statements = on",
    ):
        conn.execute(setting)
    timing = run.cycle()
    conn.execute("SET auto_explain.log_min_duration = -1")
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    return f"auto_explain of one more commit (wall {timing.wall:.0f} ms with it on):\n{text}"


# ---------------------------------------------------------------- the stores


def tinydb_place(subscribers: int) -> Place:
    directory = Path(tempfile.mkdtemp(prefix=f"nq-stores-{subscribers}-", dir="/tmp"))
    return Place("tinydb", directory)


def postgres_place(
    server: Any, subscribers: int, statements: bool, dropped: Sequence[str], settings: Sequence[str]
) -> Place:
    import psycopg

    from nmsquota.ledger.postgres.schema import migrate

    name = f"bench_{subscribers}"
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql:///{name}?host={server.directory}&user=postgres"
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        if statements:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        for index in dropped:  # a what-if (--drop-index), not the store's schema
            conn.execute(psycopg.sql.SQL("DROP INDEX {}").format(psycopg.sql.Identifier(index)))
    variant = " ".join([*settings, *(f"-{index}" for index in dropped)])
    return Place(f"postgresql {variant}".strip(), url, psycopg.pq.__impl__)


def run_place(place: Place, args: argparse.Namespace, subscribers: int, server: Any) -> list[Row]:
    traffic = Traffic(subscribers, CYCLE, args.seed)
    most = max(args.tallies)
    run = Run(place, traffic, Ledger.open_writer(place.location, WINDOWS[:most]), most)
    rows: list[Row] = []
    try:
        for day in sorted(args.days):
            run.reopen(most)  # history is kept with every window, as a daemon keeps it
            prepare(run, day, args.history)
            for tallies in sorted(args.tallies, reverse=True):
                row = measure(run, args, day, tallies, server)
                say(format_row(row))
                rows.append(row)
    finally:
        run.ledger.close()
    return rows


# ---------------------------------------------------------------- reporting


HEADER = (
    "| store | psycopg | subscribers | day | history | tallies | commit wall median / max ms "
    "| CPU client + server ms | CPU wait ms | load 1/5/15 | totals = recount "
    "| all totals() read ms | one subscriber's samples read ms (samples) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _median(timings: Sequence[Timing], name: str) -> float:
    return float(statistics.median(getattr(t, name) for t in timings))


def format_row(row: Row) -> str:
    c = row.commits
    server = f" + {_median(c, 'server_cpu'):.0f}" if row.store.startswith("postgresql") else ""
    return (
        f"| {row.store} | {row.impl} | {row.subscribers:,} | {row.day} | {row.history} "
        f"| {row.tallies} | {_median(c, 'wall'):.0f} / {max(t.wall for t in c):.0f} "
        f"| {_median(c, 'client_cpu'):.0f}{server} | {_median(c, 'waited'):.0f} "
        f"| {row.load} | {row.check} "
        f"| {_median(row.reads, 'wall'):.0f} "
        f"| {_median(row.one_reads, 'wall'):.1f} ({max(t.found for t in row.one_reads):,}) |"
    )


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--store", nargs="+", choices=["tinydb", "postgresql"], default=["tinydb", "postgresql"]
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[5000])
    parser.add_argument(
        "--days",
        type=int,
        nargs="+",
        default=[1, 30],
        help="days of history before the timed cycles (default: 1 30)",
    )
    parser.add_argument("--tallies", type=int, nargs="+", choices=[1, 2], default=[1, 2])
    parser.add_argument(
        "--history",
        choices=["sparse", "full"],
        default="sparse",
        help="fill only the days a commit reads (default), or every day",
    )
    parser.add_argument(
        "--cycles",
        type=int,
        default=12,
        help="timed commits per row (12: every slot of an hour file once)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed commits before them")
    parser.add_argument("--seed", type=int, default=2001)
    parser.add_argument(
        "--profile-cycles",
        type=int,
        default=0,
        help="commits per row under cProfile after the timed ones",
    )
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="PostgreSQL: one more commit per row under auto_explain",
    )
    parser.add_argument(
        "--explain-ms",
        type=int,
        default=50,
        help="plans of statements slower than this (default: 50)",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="PostgreSQL: the server's time per statement (pg_stat_statements) in each row",
    )
    parser.add_argument(
        "--drop-index",
        action="append",
        default=[],
        metavar="NAME",
        help="PostgreSQL what-if: drop this index of the store's schema after migrating",
    )
    parser.add_argument(
        "--pg",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="an extra server setting, e.g. --pg jit=off (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the TinyDB directories")
    args = parser.parse_args(argv)
    if any(d < 1 for d in args.days) or any(s < 1 for s in args.subscribers):
        parser.error("--days and --subscribers must be >= 1")
    per_day = len(args.tallies) * (args.cycles + args.warmup + args.profile_cycles + 1)
    if args.cycles < 1 or args.warmup < 0 or per_day > PER_DAY // 4:
        parser.error("--cycles must be >= 1 and every row's commits fit in a few hours")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # so the server is stopped and removed on SIGTERM too

    signal.signal(signal.SIGTERM, interrupted)
    say(
        f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}, nmsquota at {code_version()}, nice {os.nice(0)},"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        server = None
        if "postgresql" in args.store:
            from bench_pg_commit import running_server

            preload = ["shared_preload_libraries=pg_stat_statements"] if args.statements else []
            options = [*SERVER_OPTIONS, *preload, *args.pg]
            server = stack.enter_context(running_server(options))
            say(f"# PostgreSQL server in {server.directory}, settings {options}")
        try:
            for subscribers in args.subscribers:
                for store in args.store:
                    place = (
                        tinydb_place(subscribers)
                        if store == "tinydb"
                        else postgres_place(
                            server, subscribers, args.statements, args.drop_index, args.pg
                        )
                    )
                    try:
                        rows += run_place(place, args, subscribers, server)
                    finally:
                        if isinstance(place.location, Path) and not args.keep:
                            shutil.rmtree(place.location, ignore_errors=True)
        except KeyboardInterrupt:
            say("bench_ledger_stores: interrupted; server stopped and removed")
            return 130
    print(HEADER)
    for row in rows:
        print(format_row(row))
    for row in rows:
        for text in (row.statements, row.profile, row.plans):
            if text:
                print(f"\n## {row.store} {row.subscribers:,} day {row.day} tallies {row.tallies}")
                print(text.rstrip())
    return 0 if all("WRONG" not in row.check for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
