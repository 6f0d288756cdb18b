"""What a first walk cut short keeps for the next try (tables.Partial), without a network:
the identity rows it read that do not name a session, never counters or names, and only
while the agent still has those rows."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.snmp import poller
from nmsquota.snmp import tables as p
from nmsquota.snmp.transport import Transport
from nmsquota.snmp.walk import WalkCut, parse_oid

BY_NAME = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])
BY_ALIAS = InterfaceMap(rules=[Rule.compile("ifAlias", r"cust-(?P<user>.+)")])
SCALARS = {p.SYS_UPTIME: 5_000, p.IF_NUMBER: 300, p.IF_TABLE_LAST_CHANGE: 40}


def rows(*indexes: int, value: object = 1) -> dict:
    return {(i,): value for i in indexes}


def cut_after(count: int, finished: frozenset[str] = frozenset()) -> WalkCut:
    """A first walk of every column cut after `count` rows of each."""
    read = {column: rows(*range(1, count + 1)) for column in p.COLUMNS}
    return WalkCut("bras1 (192.0.2.1:161): walk not finished within 30s", read, finished)


def test_a_cut_walk_keeps_descriptions_speeds_and_aliases_but_not_names_or_counters() -> None:
    partial = poller._partial_after(None, cut_after(120), SCALARS, 1_000.0, BY_NAME, "if-mib")
    assert partial is not None
    assert set(partial.rows) == {p.IF_DESCR, p.IF_SPEED, p.IF_HIGH_SPEED, p.IF_ALIAS}
    assert all(len(column) == 120 for column in partial.rows.values())
    assert (partial.uptime, partial.if_number, partial.last_change) == (5_000, 300, 40)
    assert partial.read_at == 1_000.0 and partial.finished == frozenset()


def test_a_column_a_rule_reads_is_a_name_and_is_not_kept() -> None:
    partial = poller._partial_after(None, cut_after(10), SCALARS, 1_000.0, BY_ALIAS, "if-mib")
    assert partial is not None and p.IF_ALIAS not in partial.rows
    assert p.IF_NAME not in partial.rows


def test_the_next_walk_goes_on_after_the_last_row_read_and_skips_the_finished_columns() -> None:
    partial = poller._partial_after(
        None, cut_after(120, frozenset({p.IF_ALIAS, p.IF_NAME})), SCALARS, 1_000.0, BY_NAME,
        "if-mib",
    )  # fmt: skip
    assert partial is not None
    assert partial.finished == {p.IF_ALIAS}  # ifName is read whole again all the same
    assert partial.resume_at(p.IF_SPEED) == (*parse_oid(p.IF_SPEED), 120)
    assert partial.resume_at(p.IF_NAME) is None


def test_a_second_cut_adds_to_what_the_first_kept_and_keeps_its_age() -> None:
    first = poller._partial_after(None, cut_after(100), SCALARS, 1_000.0, BY_NAME, "if-mib")
    more = WalkCut("cut again", {p.IF_SPEED: rows(*range(101, 201))}, frozenset())
    second = poller._partial_after(first, more, SCALARS, 1_300.0, BY_NAME, "if-mib")
    assert second is not None
    assert sorted(second.rows[p.IF_SPEED]) == [(i,) for i in range(1, 201)]
    assert len(second.rows[p.IF_DESCR]) == 100
    assert second.read_at == 1_000.0


def test_a_cut_that_read_nothing_leaves_what_was_kept() -> None:
    first = poller._partial_after(None, cut_after(100), SCALARS, 1_000.0, BY_NAME, "if-mib")
    silent = WalkCut("no answer", {column: {} for column in p.COLUMNS}, frozenset())
    assert poller._partial_after(first, silent, SCALARS, 1_300.0, BY_NAME, "if-mib") is first


def test_kept_rows_hold_only_while_the_agent_has_the_same_rows_and_they_are_fresh() -> None:
    partial = poller._partial_after(None, cut_after(10), SCALARS, 1_000.0, BY_NAME, "if-mib")
    assert partial is not None
    later = {**SCALARS, p.SYS_UPTIME: 35_000}
    assert partial.usable(later, 1_300.0, refresh=3_600.0)
    assert not partial.usable({**later, p.SYS_UPTIME: 2_000}, 1_300.0, 3_600.0)  # restarted
    assert not partial.usable({**later, p.IF_NUMBER: 301}, 1_300.0, 3_600.0)
    assert not partial.usable({**later, p.IF_TABLE_LAST_CHANGE: 41}, 1_300.0, 3_600.0)
    assert not partial.usable(later, 4_600.0, refresh=3_600.0)  # as old as the refresh


def test_descriptions_are_kept_only_where_the_agent_has_if_name_since_they_name_rows_else() -> None:
    read = {column: rows(1, 2) for column in p.COLUMNS if column != p.IF_NAME}
    cut = WalkCut("cut", read, frozenset({p.IF_NAME}))
    partial = poller._partial_after(None, cut, SCALARS, 1_000.0, BY_NAME, "if-mib")
    assert partial is not None and p.IF_DESCR not in partial.rows
    assert p.IF_SPEED in partial.rows


def test_a_cut_first_walk_says_why_and_how_much_it_read_as_its_walk_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A cycle counts the failure by this cause, and backoff judges it by the rows read.
    async def cut_walk(*args: object, **kwargs: object) -> dict:
        raise WalkCut("bras1: walk not finished within 30s", read, frozenset(), "deadline")

    read = {p.IF_NAME: rows(1, 2, 3), p.IF_SPEED: rows(1, 2)}
    monkeypatch.setattr(poller, "walk", cut_walk)
    run = poller._walk_on(cast(Transport, None), p.COLUMNS, None, SCALARS, 1_000.0, BY_NAME,
                          "if-mib")  # fmt: skip
    with pytest.raises(poller.PollCut) as cut:
        asyncio.run(run)
    assert (cut.value.cause, cut.value.rows_read) == ("deadline", 5)
    assert cut.value.partial is not None and p.IF_SPEED in cut.value.partial.rows
