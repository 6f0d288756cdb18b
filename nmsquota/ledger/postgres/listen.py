"""Limits told as they commit (issue 24): LISTEN/NOTIFY on channel `nmsquota_limits`.

Several POPs' daemons share one ledger and one of them decides (store.lead()). The others
bring their drivers to the limits it decides at each of their cycles; told at once, they
need not wait up to an interval for a limit on a subscriber online at their access servers.

- The telling side (`announce`): a writer's batch that changes the LIMITS rows notifies in
  its own transaction (records.py), so the server delivers the notice only if the batch
  commits, and a batch that rolls back tells nobody. The payload is JSON: the POP that
  wrote and the commit number, {"pop": "adelaide", "seq": 42}. Several writes of the limits
  in one batch send one notice (the server folds identical notices of one transaction).
- The listening side (`PostgresLimitsListener`): a connection of its own (autocommit,
  asyncio, so waiting costs the daemon's loop nothing), which only listens. Notices of its
  own POP's writer are skipped (it knows what it wrote). A notice is followed by any others
  arriving within BURST_SECONDS, and the burst is handed over as one.

A lost listening connection (a server restart, pg_terminate_backend) raises DatabaseUnusable
from changed(); listen() connects again. Notices committed meanwhile are not delivered to
anyone: the daemon's next cycle follows every limit anyway.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import psycopg

from nmsquota.ledger.base import LimitsListener, LimitsNotice
from nmsquota.ledger.postgres.connection import (
    DatabaseUnusable,
    application_name,
    problem_of,
    public_url,
)

CHANNEL = "nmsquota_limits"
BURST_SECONDS = 0.2
"""After a notice, how long more are gathered into the same burst: the decider's batches
of one moment (a cycle, then a look, several operator requests) cause one reconcile."""
KEEPALIVE_SECONDS = 10
"""libpq's keepalives (idle 10 s, then 3 probes 5 s apart): a listening connection only
reads, and without them a server gone from the network would never be noticed. libpq
ignores them on a Unix socket."""


def announce(conn: psycopg.Connection[Any], pop: str, seq: int) -> None:
    """Tell the listeners that this transaction changes the limits, when (and only if) it
    commits."""
    payload = json.dumps({"pop": pop, "seq": seq}, separators=(",", ":"))
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def notice_of(payload: str) -> LimitsNotice:
    """A notification's payload as a notice; one not in announce()'s form (another program
    notifying on the channel) is a change from an unknown writer, followed as any other."""
    try:
        found = json.loads(payload)
        pop, seq = found["pop"], found["seq"]
        if isinstance(pop, str) and (seq is None or isinstance(seq, int)):
            return LimitsNotice(pop, seq)
    except (ValueError, TypeError, KeyError):
        pass
    return LimitsNotice("?", None)


class PostgresLimitsListener(LimitsListener):
    """The limits' notices for the writer of `pop`, on a connection of its own."""

    def __init__(self, url: str, pop: str) -> None:
        self.url = url
        self.pop = pop
        self.where = public_url(url)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def listening(self) -> bool:
        return self._conn is not None and not (self._conn.closed or self._conn.broken)

    async def listen(self) -> None:
        if self.listening:
            return
        await self.close()
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                application_name=application_name("listener", self.pop),
                connect_timeout=10,
                keepalives=1,
                keepalives_idle=KEEPALIVE_SECONDS,
                keepalives_interval=5,
                keepalives_count=3,
            )
        except psycopg.Error as error:
            raise DatabaseUnusable(self.where, "listen for limits on", problem_of(error)) from None
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            await conn.close()
            raise DatabaseUnusable(self.where, "listen for limits on", problem_of(error)) from None
        self._conn = conn

    async def changed(self) -> list[LimitsNotice]:
        if self._conn is None:
            raise DatabaseUnusable(self.where, "listen for limits on", "not listening")
        conn = self._conn
        try:
            burst: list[LimitsNotice] = []
            while not burst:
                # stop_after, not a break: the generator holds the connection's lock until
                # it returns.
                async for notify in conn.notifies(stop_after=1):
                    burst += self._others([notify])
            async for notify in conn.notifies(timeout=BURST_SECONDS):
                burst += self._others([notify])
        except psycopg.Error as error:
            raise DatabaseUnusable(self.where, "listen for limits on", problem_of(error)) from None
        return burst

    def _others(self, notifies: list[psycopg.Notify]) -> list[LimitsNotice]:
        """Another writer's notices: this POP's own writer knows what it wrote."""
        notices = [notice_of(notify.payload) for notify in notifies]
        return [notice for notice in notices if notice.pop != self.pop]

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):  # a lost one has nothing left to close
                await conn.close()
