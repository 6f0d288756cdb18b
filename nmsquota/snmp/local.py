"""The simulator's transport: an agent's objects read in this process (Agent.local), no
request made, so `simulate --no-snmp` costs the poller nothing but its own work.

It answers as Walker does over a well-behaved agent: each column's rows from the start
given, to the column's end; None for an object the table does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nmsquota.snmp.pysnmp_transport import plain
from nmsquota.snmp.transport import Agent, Closing, Column, Index, LocalTable, parse_oid
from nmsquota.snmp.walk import start_of


class LocalTransport(Closing):  # nothing to close: a table in memory
    """A Transport over an agent's LocalTable (its objects are pysnmp values)."""

    def __init__(self, agent: Agent, table: LocalTable) -> None:
        self.agent = agent
        self.table = table

    async def get(self, oids: Sequence[str]) -> dict[str, Any]:
        return {oid: plain(self.table.lookup(parse_oid(oid))) for oid in oids}

    async def walk(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        *,
        counters: Mapping[str, str] | None = None,
        start: Mapping[str, Index] | None = None,
    ) -> dict[str, Column]:
        results: dict[str, Column] = {}
        for column in columns:
            prefix = parse_oid(column)
            rows: Column = results.setdefault(column, {})
            position = start_of(column, (start or {}).get(column))
            while (found := self.table.following(position)) is not None:
                oid, value = found
                if oid[: len(prefix)] != prefix:
                    break
                rows[oid[len(prefix) :]] = plain(value)
                position = oid
        return results
