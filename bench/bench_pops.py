"""Issue 24's "10 daemons writing one database at once": POP writers committing cycles to one
PostgreSQL ledger at the same moment, through the real store (Ledger.open_writer(url,
tallies, pop=...)), each its own process, as each POP's daemon is.

Every POP carries --subscribers / --pops subscribers (every one active: one sample each a
cycle). For each of --cycles cycles all POPs wait at a barrier, then each commits its cycle
in one transaction (the store's commit: COPY of the samples, the totals upsert, the edges
under the meta row's lock); each commit's wall time is measured in its own process. The
same subscribers committed by one writer alone (--pops 1) is the baseline to set it against.
After the cycles, every window's totals are checked against a recount (the numbers must be
right under concurrency too).

It starts its own throwaway PostgreSQL as bench_pg_commit.py does (fsync on, Unix socket
only). Run it under `nice -n 19` on a shared machine:

    nice -n 19 .venv/bin/python bench/bench_pops.py --subscribers 5000 --pops 1 10
    nice -n 19 .venv/bin/python bench/bench_pops.py --subscribers 100000 --pops 1 10 --cycles 6
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench_pg_commit import running_server

from nmsquota.ledger import Ledger, Sample, Tally

SERVER_OPTIONS = ("shared_buffers=1GB", "max_wal_size=8GB", "max_connections=60")
T0 = 1_800_000_000
INTERVAL = 300
TALLIES = [Tally(30 * 86400), Tally(86400)]


def writer(url: str, pop: str, names: Sequence[str], cycles: int, barrier: Any,
           out: Any) -> None:  # fmt: skip
    """One POP's daemon, as far as the ledger sees it: its cycles' commits."""
    timings = []
    with Ledger.open_writer(url, TALLIES, pop=pop) as ledger:
        for cycle in range(cycles):
            now = T0 + INTERVAL * (cycle + 1)
            samples = [Sample(name, now, 1_000 + n + cycle, 100) for n, name in enumerate(names)]
            barrier.wait(timeout=600)  # a writer that died breaks it for the others
            started = time.perf_counter()
            with ledger.batch():
                ledger.commit(now, samples)
            timings.append(time.perf_counter() - started)
    out.put((pop, timings))


def run(url: str, subscribers: int, pops: int, cycles: int) -> dict[str, list[float]]:
    names = [f"user{n:06d}" for n in range(subscribers)]
    share = -(-subscribers // pops)
    barrier = mp.Barrier(pops)
    out: Any = mp.Queue()
    workers = [
        mp.Process(
            target=writer,
            args=(url, f"pop{p}", names[p * share : (p + 1) * share], cycles, barrier, out),
        )
        for p in range(pops)
    ]
    for worker in workers:
        worker.start()
    found: dict[str, list[float]] = {}
    while len(found) < pops:
        try:
            pop, timings = out.get(timeout=5)
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                for worker in workers:
                    worker.terminate()
                raise SystemExit(f"bench_pops: a writer failed (exit status {dead[0]})") from None
            continue
        found[pop] = timings
    for worker in workers:
        worker.join(timeout=60)
    return found


def checked(url: str) -> str:
    with Ledger.open_reader(url) as reader:
        for tally in reader.tallies():
            if reader.totals(tally) != reader.recount(tally, reader.edge(tally)):
                return f"WRONG totals for {tally.key}"
        return "totals = recount"


def fresh_database(server: Any, name: str) -> str:
    import psycopg

    from nmsquota.ledger.postgres.schema import migrate

    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql:///{name}?host={server.directory}&user=postgres"
    migrate(url)
    return url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[5000])
    parser.add_argument("--pops", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--cycles", type=int, default=8)
    args = parser.parse_args(argv)
    import psycopg

    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, psycopg "
          f"{psycopg.pq.__impl__}, {stamp}")  # fmt: skip
    print("| subscribers | POPs | each POP | commit median ms | p95 ms | max ms | check | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with running_server(SERVER_OPTIONS) as server:
        for subscribers in args.subscribers:
            for pops in args.pops:
                url = fresh_database(server, f"pops_{subscribers}_{pops}")
                found = run(url, subscribers, pops, args.cycles)
                # The first cycle makes every subscriber's totals row: reported apart.
                steady = sorted(t * 1000 for timings in found.values() for t in timings[1:])
                p95 = steady[min(len(steady) - 1, int(0.95 * len(steady)))]
                print(f"| {subscribers:,} | {pops} | {-(-subscribers // pops):,} | "
                      f"{statistics.median(steady):.0f} | {p95:.0f} | {steady[-1]:.0f} | "
                      f"{checked(url)} | {os.getloadavg()[0]:.2f} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
