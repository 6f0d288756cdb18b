"""The window totals in SQL: one row per subscriber, an element per tally (schema.py), moved
by one upsert per commit.

A tally counts a sample when its time is after the tally's edge and the tally counts that
time (not in its free hours). Whether a time counts is decided in Python (`Tally.counts`:
free hours and monthly periods are never written twice, once in SQL), and a commit, a prune
or a recount has only a handful of distinct sample times to ask about (one per commit in a
band), so SQL is handed the times (or a range of them, for a tally without free hours) and
sums the samples at them.

A move is a list of terms per tally, each a condition on a sample's (t, seq) and a sign:
the commit's new samples counted (+1), the band of samples the edge passed (-1 moving
forward, +1 when the clock went back), the samples a prune retires (-1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from nmsquota.usage import Tally, Totals


@dataclass
class Move:
    """What moves one tally's totals: (condition, sign) terms over samples' t and seq."""

    terms: list[tuple[str, int]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, condition: str, sign: int, **params: Any) -> None:
        self.terms.append((condition, sign))
        self.params.update(params)


def band(
    conn: psycopg.Connection[Any], tally: Tally, low: int, high: int, sign: int, move: Move,
    name: str,
) -> None:  # fmt: skip
    """Add to `move` the samples with low < t <= high that `tally` counts, with `sign`."""
    if high <= low:
        return
    if tally.free is None:
        move.add(f"(t > %({name}_low)s AND t <= %({name}_high)s)", sign,
                 **{f"{name}_low": low, f"{name}_high": high})  # fmt: skip
        return
    counted = counted_times(conn, tally, low, high)
    if counted:
        move.add(f"t = ANY(%({name}_t)s::bigint[])", sign, **{f"{name}_t": counted})


def counted_times(conn: psycopg.Connection[Any], tally: Tally, low: int, high: int) -> list[int]:
    """The distinct sample times in (low, high] that `tally` counts."""
    times = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT t FROM samples WHERE t > %s AND t <= %s ORDER BY t", (low, high)
        )
    ]
    return [t for t, counts in zip(times, tally.counts_each(times), strict=True) if counts]


def apply(conn: psycopg.Connection[Any], moves: Sequence[Move]) -> None:
    """Move every tally's totals (moves[i] for the tally at position i + 1): the moved
    samples summed per subscriber, then the rows that exist updated by one hash join and
    the missing ones inserted; a subscriber whose totals all reach zero leaves the table.

    Not `INSERT .. ON CONFLICT DO UPDATE`: that probes the primary key and locks each row
    as a speculative insertion, about 0.35 s more server CPU than this join at 100,000
    subscribers (bench/RESULTS.md, "One cycle's commit on each ledger store"). Commits
    take their turn on the meta row, so no other writer inserts a subscriber meanwhile.
    The search for subscribers not yet there runs only when the update missed some (the
    counts compared first): a cycle of known subscribers skips its scan of the table."""
    if not any(move.terms for move in moves):
        return
    params: dict[str, Any] = {}
    weights, conditions = [], []
    for i, move in enumerate(moves):
        cases = [f"CASE WHEN {cond} THEN {sign} ELSE 0 END" for cond, sign in move.terms]
        weights.append(f"({' + '.join(cases) or '0'}) w{i}")
        conditions += [cond for cond, _ in move.terms]
        params.update(move.params)
    # The sums as plain columns (i1, o1, i2, ..), one per tally and direction: arrays
    # built per subscriber here and taken apart again in the update cost about 0.3 s of
    # server CPU at 100,000 subscribers.
    n, columns = len(moves), {"bytes_in": "i", "bytes_out": "o"}
    sums = ", ".join(
        f"sum({c} * w{i - 1})::bigint {x}{i}" for c, x in columns.items() for i in range(1, n + 1)
    )
    added = {
        c: "ARRAY[" + ", ".join(f"x.{c}[{i}] + m.{x}{i}" for i in range(1, n + 1)) + "]"
        for c, x in columns.items()
    }
    new = {
        c: "ARRAY[" + ", ".join(f"{x}{i}" for i in range(1, n + 1)) + "]"
        for c, x in columns.items()
    }
    nonzero = " OR ".join(f"{x}{i} <> 0" for x in columns.values() for i in range(1, n + 1))
    params["zeros"] = [0] * n
    zeros = conn.execute(
        f"""WITH m AS MATERIALIZED (
                SELECT subscriber, {sums}
                FROM (SELECT subscriber, bytes_in, bytes_out, {", ".join(weights)}
                      FROM samples WHERE {" OR ".join(f"({c})" for c in conditions)}) s
                GROUP BY subscriber),
            updated AS (
                UPDATE totals AS x
                SET bytes_in = {added["bytes_in"]}, bytes_out = {added["bytes_out"]}
                FROM m WHERE x.subscriber = m.subscriber
                RETURNING x.subscriber, x.bytes_in, x.bytes_out),
            inserted AS (
                INSERT INTO totals (subscriber, bytes_in, bytes_out)
                SELECT subscriber, {new["bytes_in"]}, {new["bytes_out"]} FROM m
                WHERE (SELECT count(*) FROM updated) < (SELECT count(*) FROM m)
                  AND ({nonzero})
                  AND NOT EXISTS (SELECT FROM totals y WHERE y.subscriber = m.subscriber))
            SELECT subscriber FROM updated
            WHERE bytes_in = %(zeros)s::bigint[] AND bytes_out = %(zeros)s::bigint[]""",
        params,
    ).fetchall()
    if zeros:
        conn.execute(
            "DELETE FROM totals WHERE subscriber = ANY(%s) AND bytes_in = %s::bigint[]"
            " AND bytes_out = %s::bigint[]",
            ([row[0] for row in zeros], [0] * n, [0] * n),
        )


def recount(conn: psycopg.Connection[Any], tally: Tally, edge: int) -> dict[str, Totals]:
    """Totals for `tally` at `edge` summed from every stored sample."""
    params: list[Any]
    if tally.free is None:
        condition, params = "t > %s", [edge]
    else:
        counted = counted_times(conn, tally, edge, 2**62)
        if not counted:
            return {}
        condition, params = "t = ANY(%s::bigint[])", [counted]
    rows = text_rows(
        conn,
        "subscriber || E'\\t' || i || E'\\t' || o",
        "FROM (SELECT subscriber, sum(bytes_in) i, sum(bytes_out) o FROM samples"
        f" WHERE {condition} GROUP BY subscriber) sums WHERE i <> 0 OR o <> 0",
        params,
    )
    return {name: Totals(int(i), int(o)) for name, i, o in rows}


def read(conn: psycopg.Connection[Any], position: int) -> dict[str, Totals]:
    """The totals of the tally at `position`, zero pairs left out."""
    found: dict[str, Totals] = {}
    for name, i, o in text_rows(
        conn,
        f"subscriber || E'\\t' || bytes_in[{position}] || E'\\t' || bytes_out[{position}]",
        f"FROM totals WHERE bytes_in[{position}] <> 0 OR bytes_out[{position}] <> 0",
    ):
        found[name] = Totals(int(i), int(o))
    return found


def text_rows(
    conn: psycopg.Connection[Any], line: str, rest: str, params: Any = None, order: str = ""
) -> list[list[str]]:
    """Rows as one text value the server joins (`line` per row, tab-separated, after
    `SELECT string_agg(..)` and before `rest`, in `order`), split here at C speed.
    psycopg's pure-Python build spends about 10 us on each row it receives, by fetch or by
    COPY alike; one value of a few megabytes costs it nothing. Only for values without a
    raw tab or newline: login names (checked), integers, jsonb's text (JSON escapes both)."""
    ordered = f" ORDER BY {order}" if order else ""
    row = conn.execute(f"SELECT string_agg({line}, E'\\n'{ordered}) {rest}", params).fetchone()
    if not row or row[0] is None:
        return []
    return [text.split("\t") for text in row[0].split("\n")]


def write_all(
    conn: psycopg.Connection[Any], tallies: int, columns: Iterable[dict[str, Totals]]
) -> None:
    """Replace every total: columns[i] is the tally at position i + 1."""
    rows: dict[str, tuple[list[int], list[int]]] = {}
    for i, totals in enumerate(columns):
        for name, pair in totals.items():
            row = rows.get(name)
            if row is None:
                row = rows[name] = ([0] * tallies, [0] * tallies)
            row[0][i], row[1][i] = pair.bytes_in, pair.bytes_out
    conn.execute("DELETE FROM totals")
    with (
        conn.cursor() as cur,
        cur.copy("COPY totals (subscriber, bytes_in, bytes_out) FROM STDIN") as copy,
    ):
        for name, (ins, outs) in rows.items():
            if any(ins) or any(outs):
                copy.write_row((name, ins, outs))
