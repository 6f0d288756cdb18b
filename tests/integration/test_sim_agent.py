"""The poller against the in-process agent: wraps, reboots, ifIndex reuse, big tables, a
device that dies mid-walk. Deterministic: the test sets every counter the poller sees. Each
through every transport (the `transport` fixture)."""

from __future__ import annotations

import asyncio

import pytest
from fixtures.config_file import access_server, write_config
from pysnmp.proto.rfc1902 import (
    Counter32,
    Counter64,
    Gauge32,
    Integer32,
    IpAddress,
    OctetString,
    TimeTicks,
)

from nmsquota.attribution import InterfaceMap, Rule, attribute
from nmsquota.counters import Verdict
from nmsquota.sim.agent import decode_request, start_agent
from nmsquota.snmp import poller
from nmsquota.snmp import tables as p
from nmsquota.snmp.connect import Transports, open_transport
from nmsquota.snmp.walk import Agent, SnmpError, walk

MAPPING = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def interfaces(uptime: int, rows: dict[int, tuple[str, int, int]], hc: bool = True) -> dict:
    """ifIndex -> (ifName, octets in, octets out), as IF-MIB objects."""
    objects = {oid(p.SYS_UPTIME): TimeTicks(uptime)}
    for index, (name, octets_in, octets_out) in rows.items():
        objects[(*oid(p.IF_NAME), index)] = OctetString(name)
        objects[(*oid(p.IF_DESCR), index)] = OctetString(name)
        objects[(*oid(p.IF_OPER_STATUS), index)] = Integer32(1)
        objects[(*oid(p.IF_HIGH_SPEED), index)] = Gauge32(1000)
        objects[(*oid(p.IF_IN_OCTETS), index)] = Counter32(octets_in % 2**32)
        objects[(*oid(p.IF_OUT_OCTETS), index)] = Counter32(octets_out % 2**32)
        if hc:
            objects[(*oid(p.IF_HC_IN_OCTETS), index)] = Counter64(octets_in % 2**64)
            objects[(*oid(p.IF_HC_OUT_OCTETS), index)] = Counter64(octets_out % 2**64)
    return objects


async def cycles(steps: list[dict], transport: str, version: str = "2c") -> list:
    """Poll once per step (the agent's objects for it), 300 s apart; the attributions."""
    agent, port = await start_agent()
    where = Agent("sim", "127.0.0.1", port, version=version, transport=transport)
    session = await open_transport(where)
    baselines: dict = {}
    memory = None
    results = []
    for n, objects in enumerate(steps):
        agent.set(objects)
        # With the memory of the last poll, as the daemon polls: most cycles walk only the
        # counters and names, and every case here must come out the same that way.
        seen = await poller.poll(session, MAPPING, 1_000_000.0 + 300 * n, memory=memory)
        memory = seen.memory
        result = attribute(baselines, seen.readings, 1_000_000 + 300 * n)
        baselines = result.baselines
        results.append(result)
    return results


def charged(result) -> dict[str, tuple[int, int]]:
    return {s.subscriber: (s.bytes_in, s.bytes_out) for s in result.samples}


def test_a_64_bit_wrap_is_charged_as_the_bytes_that_passed(transport: str) -> None:
    top = 2**64
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 5, top - 1_000)}),
        interfaces(130_000, {7: ("<pppoe-davidn>", 10, top + 4_000)}),
    ], transport))  # fmt: skip
    assert charged(results[1]) == {"davidn": (5_000, 5)}


def test_a_32_bit_wrap_over_v1_is_charged_as_the_bytes_that_passed(transport: str) -> None:
    top = 2**32
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 0, top - 1_000)}, hc=False),
        interfaces(130_000, {7: ("<pppoe-davidn>", 0, top + 2_000)}, hc=False),
    ], transport, version="1"))  # fmt: skip
    assert charged(results[1]) == {"davidn": (3_000, 0)}
    (reading,) = results[1].baselines.values()
    assert reading.width == 32


def test_an_agent_reboot_charges_nothing_for_that_interval(transport: str) -> None:
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 10**9, 10**10)}),
        interfaces(12_000, {7: ("<pppoe-davidn>", 500, 6_000)}),  # up 120 s: it rebooted
        interfaces(42_000, {7: ("<pppoe-davidn>", 900, 9_000)}),
    ], transport))  # fmt: skip
    assert charged(results[1]) == {}
    assert [c.verdict for _, c in results[1].charges] == [Verdict.RESTART]
    assert charged(results[2]) == {"davidn": (3_000, 400)}


def test_an_index_reused_by_another_subscriber_is_not_charged_to_either(transport: str) -> None:
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-alice>", 0, 1_000)}),
        interfaces(130_000, {7: ("<pppoe-bob>", 0, 90_000)}),
        interfaces(160_000, {7: ("<pppoe-bob>", 0, 95_000)}),
    ], transport))  # fmt: skip
    assert charged(results[1]) == {}
    assert charged(results[2]) == {"bob": (5_000, 0)}


@pytest.mark.slow
def test_ten_thousand_interfaces_are_walked_whole(transport: str) -> None:
    objects = interfaces(100, {i: (f"<pppoe-u{i}>", i, 2 * i) for i in range(1, 10_001)})

    async def run() -> dict:
        agent, port = await start_agent()
        agent.set(objects)
        session = await open_transport(
            Agent("big", "127.0.0.1", port, deadline=120, transport=transport)
        )
        return await walk(session, [p.IF_NAME, p.IF_HC_OUT_OCTETS])

    table = asyncio.run(run())
    assert len(table[p.IF_NAME]) == len(table[p.IF_HC_OUT_OCTETS]) == 10_000
    assert table[p.IF_HC_OUT_OCTETS][(10_000,)] == 20_000


def test_an_agent_that_dies_mid_walk_is_an_error_not_a_short_table(transport: str) -> None:
    async def run() -> None:
        agent, port = await start_agent()
        agent.set(interfaces(100, {i: (f"<pppoe-u{i}>", i, i) for i in range(1, 500)}))
        agent.answer_limit = 3
        session = await open_transport(
            Agent(
                "dying", "127.0.0.1", port, timeout=0.5, retries=1, deadline=10, transport=transport
            )
        )
        await poller.poll(session, MAPPING, 0.0)

    with pytest.raises(SnmpError, match="dying"):
        asyncio.run(run())


def test_accel_ppp_sessions_are_polled_from_its_session_table(
    capsys: pytest.CaptureFixture[str], tmp_path, transport: str
) -> None:
    import json

    from nmsquota.cli import main

    sid = "0123456789abcdef"
    index = (16, *map(ord, sid))
    rows = {
        p.ACCEL_SID: OctetString(sid),
        p.ACCEL_IFNAME: OctetString("ppp7"),
        p.ACCEL_USERNAME: OctetString("davidn"),
        p.ACCEL_STATE: Integer32(2),
        p.ACCEL_UPTIME: Gauge32(90),
        p.ACCEL_RX_BYTES: Counter64(1_234),
        p.ACCEL_TX_BYTES: Counter64(56_789),
    }

    async def serve_and_poll() -> int:
        agent, port = await start_agent()
        agent.set(
            {oid(p.SYS_UPTIME): TimeTicks(5_000), **{oid(c) + index: v for c, v in rows.items()}}
        )
        config = write_config(
            tmp_path,
            access_servers={"accel": access_server(port, source="accel-ppp", transport=transport)},
        )
        argv = ["-c", str(config), "poll", "--once", "--json", "--ledger", str(tmp_path / "none")]
        return await asyncio.to_thread(main, argv)

    assert asyncio.run(serve_and_poll()) == 0
    (device,) = json.loads(capsys.readouterr().out)
    (row,) = device["rows"]
    # A new session's counters started at 0 when it did: all of it is charged.
    assert (row["subscriber"], row["interface"], row["verdict"]) == ("davidn", "ppp7", "charged")
    assert (row["download"], row["upload"]) == (56_789, 1_234)


async def polls_with_memory(
    steps: list[tuple[float, dict]], transport: str, source: str = "if-mib"
) -> list:
    """Poll once per (time, objects) step, carrying the memory; each poll and its requests."""
    agent, port = await start_agent()
    session = await open_transport(Agent("sim", "127.0.0.1", port, transport=transport))
    memory, seen = None, []
    for now, objects in steps:
        agent.set(objects)
        before = agent.requests
        result = await poller.poll(session, MAPPING, now, source, memory=memory, refresh=3600)
        memory = result.memory
        seen.append((result, agent.requests - before))
    return seen


def rows(count: int, grow: int = 0) -> dict[int, tuple[str, int, int]]:
    return {i: (f"<pppoe-u{i}>", 10 * i + grow, 100 * i + grow) for i in range(1, count + 1)}


def with_scalars(objects: dict, if_number: int, last_change: int) -> dict:
    return {**objects, oid(p.IF_NUMBER): Integer32(if_number),
            oid(p.IF_TABLE_LAST_CHANGE): TimeTicks(last_change)}  # fmt: skip


def test_a_usual_cycle_walks_counters_and_names_but_not_the_rest(transport: str) -> None:
    seen = asyncio.run(polls_with_memory([
        (1000.0, with_scalars(interfaces(100_000, rows(300)), 300, 50)),
        (1300.0, with_scalars(interfaces(130_000, rows(300, grow=7)), 300, 50)),
    ], transport))  # fmt: skip
    (first, first_requests), (second, second_requests) = seen
    assert first.identity_walked and not second.identity_walked
    assert second.memory.counters == (p.IF_HC_IN_OCTETS, p.IF_HC_OUT_OCTETS, p.IF_OPER_STATUS)
    assert second.memory.watch == (p.IF_NAME,)
    # Eight columns walked the first time (32-bit counters only where a row lacks 64-bit
    # ones: none here), four after: well under two thirds of the requests.
    assert second_requests * 1.5 < first_requests
    readings = dict(second.readings)
    assert len(readings) == 300
    key = next(k for k in readings if k.subscriber == "u5")
    assert (readings[key].octets_in, readings[key].octets_out) == (57, 507)
    assert readings[key].speed_bps == 10**9  # ifHighSpeed, from the memory


def test_a_new_session_or_a_renamed_interface_walks_the_identity_again(transport: str) -> None:
    grown = rows(3) | {9: ("<pppoe-new>", 1, 2)}
    renamed = rows(3) | {2: ("<pppoe-bob>", 20, 200)}
    seen = asyncio.run(polls_with_memory([
        (1000.0, with_scalars(interfaces(100_000, rows(3)), 3, 50)),
        # No ifNumber or ifTableLastChange change: the new row itself gives it away.
        (1300.0, with_scalars(interfaces(130_000, grown), 3, 50)),
        (1600.0, with_scalars(interfaces(160_000, grown), 3, 50)),
        # Renamed in place, as accel-ppp's unit-cache does, with nothing else moving.
        (1900.0, with_scalars(interfaces(190_000, renamed), 3, 50)),
    ], transport))  # fmt: skip
    walked = [result.identity_walked for result, _ in seen]
    assert walked == [True, True, False, True]
    new = dict((k.subscriber, r) for k, r in seen[1][0].readings)["new"]
    assert new.speed_bps == 10**9
    assert {k.subscriber for k, _ in seen[3][0].readings} == {"u1", "bob", "u3"}


def test_a_restart_or_old_names_walk_the_identity_a_moved_last_change_reads_new_rows(
    transport: str,
) -> None:
    faster = interfaces(130_000, rows(2))
    faster[(*oid(p.IF_HIGH_SPEED), 1)] = Gauge32(10_000)
    seen = asyncio.run(polls_with_memory([
        (1000.0, with_scalars(interfaces(100_000, rows(2)), 2, 50)),
        # ifTableLastChange moved but no row is new: nothing more to read.
        (1300.0, with_scalars(faster, 2, 129_000)),
        (1600.0, with_scalars(interfaces(160_000, rows(2)), 2, 129_000)),
        (1900.0, with_scalars(interfaces(1_000, rows(2)), 2, 129_000)),  # restarted
        (2200.0, with_scalars(interfaces(31_000, rows(2)), 2, 129_000)),
        (6000.0, with_scalars(faster, 2, 129_000)),  # an hour after the last whole walk
    ], transport))  # fmt: skip
    assert [result.identity_walked for result, _ in seen] == [True, False, False, True, False, True]
    assert [result.identity_rows for result, _ in seen] == [None, 0, None, None, None, None]
    # A standing row's new speed is seen at the hourly whole walk (speeds of PPP sessions
    # do not change; ifTableLastChange only says rows came or went).
    speeds = [{k.subscriber: r.speed_bps for k, r in result.readings} for result, _ in seen]
    assert speeds[1] == {"u1": 10**9, "u2": 10**9}
    assert speeds[5] == {"u1": 10**10, "u2": 10**9}


def test_sessions_that_come_and_go_cost_their_rows_not_the_whole_table(transport: str) -> None:
    """A busy BRAS: every cycle some sessions end and others start. Only the new rows'
    identity is read (by GET), not every identity column of every row."""
    first = rows(300)
    churned = {i: v for i, v in rows(300, grow=7).items() if i not in (10, 11)}
    churned |= {10: ("<pppoe-carol>", 5, 50), 400: ("<pppoe-dave>", 6, 60)}
    seen = asyncio.run(polls_with_memory([
        (1000.0, with_scalars(interfaces(100_000, first), 300, 50)),
        (1300.0, with_scalars(interfaces(130_000, rows(300, grow=3)), 300, 50)),
        (1600.0, with_scalars(interfaces(160_000, churned), 299, 150_000)),
    ], transport))  # fmt: skip
    (_, whole), (_, usual), (churn, requests) = seen
    assert churn.identity_walked and churn.identity_rows == 2  # carol on 10, dave on 400
    assert requests <= usual + 2  # the usual walk and one GET (plus the scalars)
    assert requests * 1.5 < whole
    readings = {k.subscriber: r for k, r in churn.readings}
    assert "u11" not in readings and {"carol", "dave"} <= set(readings)
    assert readings["dave"].speed_bps == 10**9  # read by GET for the new row
    assert readings["u5"].speed_bps == 10**9  # from the memory
    assert churn.memory.indexes == frozenset((i,) for i in churned)


def test_cisco_csub_session_table_names_the_subscriber_and_session(transport: str) -> None:
    def bng(uptime: int, user: str, sid: int) -> dict:
        objects = with_scalars(interfaces(uptime, {12: ("Vi2.1", 0, 5_000)}), 1, 50)
        # username (bit 12) and acctSessionId (bit 13) valid: octet 1 = 0b0000_1100.
        objects[(*oid(p.CSUB_IDENTITIES), 12)] = OctetString(b"\x80\x0c\x00")
        objects[(*oid(p.CSUB_USERNAME), 12)] = OctetString(user)
        objects[(*oid(p.CSUB_ACCT_SESSION_ID), 12)] = Gauge32(sid)
        return objects

    seen = asyncio.run(polls_with_memory([
        (1000.0, bng(100_000, "alice@isp", 0x1A)),
        (1300.0, bng(130_000, "alice@isp", 0x1A)),
        # Same Virtual-Access interface, next session: a new key, so a new baseline.
        (1600.0, bng(160_000, "bob@isp", 0x2B)),
    ], transport, source="cisco-csub"))  # fmt: skip
    keys = [[(k.subscriber, k.interface, k.session) for k, _ in r.readings] for r, _ in seen]
    assert keys == [
        [("alice@isp", "Vi2.1", "0000001a")],
        [("alice@isp", "Vi2.1", "0000001a")],
        [("bob@isp", "Vi2.1", "0000002b")],
    ]
    assert [r.identity_walked for r, _ in seen] == [True, False, True]


def test_a_restart_resumes_from_the_ledger_without_charging_anything_twice(tmp_path) -> None:
    from nmsquota.daemon.record import commit_poll as commit
    from nmsquota.daemon.record import stored_baselines
    from nmsquota.ledger import Ledger
    from nmsquota.snmp.cycle import Device, poll_devices

    async def cycle(ledger: Ledger, device: Device, now: float) -> None:
        results = await poll_devices(Transports(), [device], now, stored_baselines(ledger))
        commit(ledger, results, now)

    async def run() -> dict:
        agent, port = await start_agent()
        t = 1_000_000.0

        def device() -> Device:  # a new process: no memory of the last poll
            return Device("sim", Agent("sim", "127.0.0.1", port), MAPPING)

        with Ledger.open_writer(tmp_path / "ledger") as ledger:
            first = device()
            agent.set(interfaces(100_000, {7: ("<pppoe-davidn>", 100, 1_000)}))
            await cycle(ledger, first, t)
            agent.set(interfaces(130_000, {7: ("<pppoe-davidn>", 150, 6_000)}))
            await cycle(ledger, first, t + 300)
        # Down for an hour; the subscriber went on downloading meanwhile.
        with Ledger.open_writer(tmp_path / "ledger") as ledger:
            agent.set(interfaces(490_000, {7: ("<pppoe-davidn>", 250, 906_000)}))
            await cycle(ledger, device(), t + 3900)
            return {s.time: (s.bytes_in, s.bytes_out) for s in ledger.samples(["davidn"])}

    assert asyncio.run(run()) == {1_000_300: (5_000, 50), 1_003_900: (900_000, 100)}


async def first_poll_asking(
    objects: dict, transport: str, mapping: InterfaceMap = MAPPING
) -> tuple[poller.Poll, list[tuple[int, ...]]]:
    """A first poll (no memory) of these objects through `transport`, and every OID its
    requests asked for."""
    agent, port = await start_agent()
    agent.set(objects)
    asked: list[tuple[int, ...]] = []
    reply = agent._reply

    def recording(data: bytes) -> bytes | None:
        asked.extend(decode_request(data)[6])
        return reply(data)

    agent._reply = recording  # type: ignore[method-assign]
    session = await open_transport(Agent("sim", "127.0.0.1", port, transport=transport))
    return await poller.poll(session, mapping, 1000.0), asked


def test_a_first_walk_asks_for_32_bit_counters_only_of_rows_without_64_bit_ones(
    transport: str,
) -> None:
    columns_32 = {oid(p.IF_IN_OCTETS), oid(p.IF_OUT_OCTETS)}
    everywhere = with_scalars(interfaces(100_000, rows(50)), 50, 5)
    result, asked = asyncio.run(first_poll_asking(everywhere, transport))
    assert not [o for o in asked if o[: len(oid(p.IF_IN_OCTETS))] in columns_32]
    assert len(result.readings) == 50
    assert {reading.width for _, reading in result.readings} == {64}

    mixed = dict(everywhere)
    for index in (7, 8):
        del mixed[(*oid(p.IF_HC_IN_OCTETS), index)], mixed[(*oid(p.IF_HC_OUT_OCTETS), index)]
    result, asked = asyncio.run(first_poll_asking(mixed, transport))
    # Those two rows' 32-bit counters, asked for by GET, not the columns walked whole.
    assert sorted(o[-1] for o in asked if o[:-1] in columns_32) == [7, 7, 8, 8]
    readings = {key.subscriber: reading for key, reading in result.readings}
    assert (readings["u7"].width, readings["u7"].octets_in, readings["u7"].octets_out) == (
        32, 70, 700,
    )  # fmt: skip
    assert (readings["u9"].width, readings["u9"].octets_out) == (64, 900)
    assert result.memory is not None
    assert {p.IF_IN_OCTETS, p.IF_OUT_OCTETS} <= set(result.memory.counters)


def asked_in(column: str, asked: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The rows of `column` a poll's requests asked for (a walk asks the column itself: ())."""
    prefix = oid(column)
    return [o[len(prefix) :] for o in asked if o[: len(prefix)] == prefix]


def test_a_first_walk_reads_if_alias_only_for_a_mapping_that_reads_it(transport: str) -> None:
    objects = with_scalars(interfaces(100_000, rows(20)), 20, 5)
    for index in range(1, 21):
        objects[(*oid(p.IF_ALIAS), index)] = OctetString(f"CIRCUIT-{index}")
    result, asked = asyncio.run(first_poll_asking(objects, transport))
    assert asked_in(p.IF_ALIAS, asked) == []
    assert len(result.readings) == 20

    by_alias = InterfaceMap(static={"alias:CIRCUIT-3": "carol"})
    result, asked = asyncio.run(first_poll_asking(objects, transport, by_alias))
    assert asked_in(p.IF_ALIAS, asked)
    assert [(key.subscriber, key.index) for key, _ in result.readings] == [("carol", 3)]


def test_a_first_walk_reads_if_speed_only_where_if_high_speed_cannot_tell_the_rate(
    transport: str,
) -> None:
    objects = with_scalars(interfaces(100_000, rows(12)), 12, 5)
    for index in range(1, 13):
        # Ports 1-10 at 10 Gbit/s (ifSpeed saturated); 11 at 1.5 Mbit/s, which ifHighSpeed
        # rounds; 12 at exactly 4.2945 Gbit/s, the last rate ifSpeed still counts.
        high, speed = {11: (2, 1_500_000), 12: (4295, 4_294_500_000)}.get(
            index, (10_000, 2**32 - 1)
        )
        objects[(*oid(p.IF_HIGH_SPEED), index)] = Gauge32(high)
        objects[(*oid(p.IF_SPEED), index)] = Gauge32(speed)
    result, asked = asyncio.run(first_poll_asking(objects, transport))
    # By GET, those two rows only: the column is not walked.
    assert sorted(asked_in(p.IF_SPEED, asked)) == [(11,), (12,)]
    speeds = {key.index: reading.speed_bps for key, reading in result.readings}
    assert speeds == {**{n: 10**10 for n in range(1, 11)}, 11: 1_500_000, 12: 4_294_500_000}


def test_a_reload_that_brings_an_alias_entry_walks_if_alias_at_the_next_poll(
    transport: str,
) -> None:
    objects = with_scalars(interfaces(100_000, rows(10)), 10, 5)
    for index in range(1, 11):
        objects[(*oid(p.IF_ALIAS), index)] = OctetString(f"CIRCUIT-{index}")

    async def two_polls() -> poller.Poll:
        agent, port = await start_agent()
        agent.set(objects)
        session = await open_transport(Agent("sim", "127.0.0.1", port, transport=transport))
        first = await poller.poll(session, MAPPING, 1000.0)
        assert first.memory is not None and p.IF_ALIAS not in first.memory.identity
        later = InterfaceMap(rules=MAPPING.rules, static={"alias:CIRCUIT-4": "dave"})
        return await poller.poll(session, later, 1300.0, memory=first.memory)

    second = asyncio.run(two_polls())
    assert ("dave", 4) in [(key.subscriber, key.index) for key, _ in second.readings]
    assert second.memory is not None and p.IF_ALIAS in second.memory.watch


def test_a_first_walk_cut_at_its_32_bit_counters_keeps_every_identity_column_it_read(
    transport: str,
) -> None:
    mixed = with_scalars(interfaces(100_000, rows(30)), 30, 5)
    for index in (7, 8):
        del mixed[(*oid(p.IF_HC_IN_OCTETS), index)], mixed[(*oid(p.IF_HC_OUT_OCTETS), index)]

    async def poll_silent_from_the_32_bit_get() -> poller.PollCut:
        agent, port = await start_agent()
        agent.set(mixed)
        session = await open_transport(
            Agent("sim", "127.0.0.1", port, timeout=0.3, retries=0, deadline=5, transport=transport)
        )
        await poller.poll(session, MAPPING, 1000.0)
        whole = agent.requests  # the last of them is the GET of rows 7 and 8's 32-bit counters
        agent.requests, agent.answer_limit = 0, whole - 1
        session = await open_transport(
            Agent("sim", "127.0.0.1", port, timeout=0.3, retries=0, deadline=5, transport=transport)
        )
        with pytest.raises(poller.PollCut) as cut:
            await poller.poll(session, MAPPING, 1300.0)
        return cut.value

    cut = asyncio.run(poll_silent_from_the_32_bit_get())
    assert cut.partial is not None
    # Every identity column that does not name a row, read to its end (empty ones too; no
    # ifAlias, which this mapping does not read).
    assert cut.partial.finished == {p.IF_DESCR, p.IF_SPEED, p.IF_HIGH_SPEED}
    assert len(cut.partial.rows[p.IF_DESCR]) == 30
    assert cut.rows_read > 0  # it had answered: load, not a dead agent, for backoff


MIKROTIK_QUEUE = "1.3.6.1.4.1.14988.1.1.2.1.1"


def mikrotik(uptime: int, queues: dict[int, tuple[str, str, int, int]]) -> dict:
    """mtxrQueueSimpleTable: queue index -> (name, target address, bytes in, bytes out)."""
    objects = {oid(p.SYS_UPTIME): TimeTicks(uptime)}
    for index, (name, address, octets_in, octets_out) in queues.items():
        for column, value in ((2, OctetString(name)), (3, IpAddress(address)),
                              (8, Counter64(octets_in)), (9, Counter64(octets_out))):  # fmt: skip
            objects[(*oid(MIKROTIK_QUEUE), column, index)] = value
    return objects


def test_mikrotik_simple_queues_are_charged_to_the_pppoe_user_their_name_holds(
    transport: str,
) -> None:
    seen = asyncio.run(polls_with_memory([
        (1000.0, mikrotik(100_000, {
            3: ("<pppoe-alice>", "10.0.0.7", 500, 9_000),
            4: ("uplink-shaper", "0.0.0.0", 10**9, 10**10),  # the operator's own queue
        })),
        (1300.0, mikrotik(130_000, {
            3: ("<pppoe-alice>", "10.0.0.7", 800, 59_000),
            4: ("uplink-shaper", "0.0.0.0", 2 * 10**9, 2 * 10**10),
            # alice's second session, on another queue: a session of its own, baselined
            9: ("<pppoe-alice>", "0.0.0.0", 40, 700),
        })),
    ], transport, source="mikrotik-queues"))  # fmt: skip
    first, second = (result for result, _ in seen)
    keys = [(k.subscriber, k.interface, k.session) for k, _ in second.readings]
    assert keys == [("alice", "<pppoe-alice>", "3"), ("alice", "<pppoe-alice>", "9")]
    assert [i.name for i in second.unmapped] == ["uplink-shaper"]
    assert first.addresses == {"alice": ["10.0.0.7"]}
    baselines = attribute({}, first.readings, 1000).baselines
    result = attribute(baselines, second.readings, 1300)
    # BytesOut is what went to the subscriber (download), BytesIn what came from them.
    assert charged(result) == {"alice": (50_000, 300)}


JUNIPER_SUBSCRIBER = "1.3.6.1.4.1.2636.3.64.1.1.1.3.1"


JuniperRow = tuple[str, str, str, str, int]


def juniper(uptime: int, interfaces_now: dict[int, tuple[str, int, int]],
            subscribers: dict[tuple[int, int], JuniperRow]) -> dict:  # fmt: skip
    """IF-MIB rows, and jnxSubscriberTable: (handle high, low) -> (user name, address,
    interface name, Acct-Session-Id, state)."""
    objects = with_scalars(interfaces(uptime, interfaces_now), len(interfaces_now), 50)
    for handle, (user, address, interface, sid, state) in subscribers.items():
        for column, value in ((3, OctetString(user)), (5, IpAddress(address)),
                              (9, OctetString(interface)), (12, Integer32(state)),
                              (14, OctetString(sid))):  # fmt: skip
            objects[(*oid(JUNIPER_SUBSCRIBER), column, *handle)] = value
    return objects


def test_juniper_subscriber_table_names_the_interface_whose_counters_are_charged(
    transport: str,
) -> None:
    active, terminating = 2, 3
    links = {
        5: ("ge-0/0/1", 10**9, 10**9),
        301: ("pp0.1073741825", 1_000, 20_000),
        302: ("pp0.1073741826", 3_000, 40_000),
        303: ("<pppoe-legacy>", 10, 10),  # named by no row: the interface map's
    }
    names = {
        (0, 17): ("alice@isp", "100.64.0.9", "pp0.1073741825", "17", active),
        (0, 18): ("bob@isp", "0.0.0.0", "pp0.1073741826", "18", active),
        (0, 19): ("carol@isp", "100.64.0.11", "pp0.1073741899", "19", active),  # not in IF-MIB
    }
    later = {**links, 301: ("pp0.1073741825", 1_500, 90_000)}
    # bob logs off, his row lingering after dave's in the table's order, and dave gets the
    # same logical interface: a new session, so a new baseline.
    moved = {**names, (0, 18): ("bob@isp", "0.0.0.0", "pp0.1073741826", "18", terminating),
             (0, 16): ("dave@isp", "100.64.0.12", "pp0.1073741826", "20", active)}  # fmt: skip
    seen = asyncio.run(polls_with_memory([
        (1000.0, juniper(100_000, links, names)),
        (1300.0, juniper(130_000, later, names)),
        (1600.0, juniper(160_000, later, moved)),
    ], transport, source="juniper-subscribers"))  # fmt: skip
    keys = [[(k.subscriber, k.interface, k.session) for k, _ in r.readings] for r, _ in seen]
    assert keys[1] == keys[0]
    assert keys[0] == [
        ("alice@isp", "pp0.1073741825", "17"),
        ("bob@isp", "pp0.1073741826", "18"),
        ("legacy", "<pppoe-legacy>", ""),
    ]
    assert keys[2][1] == ("dave@isp", "pp0.1073741826", "20")
    # The names table is walked every cycle: dave's session needs no other column read again.
    assert [r.identity_walked for r, _ in seen] == [True, False, False]
    assert seen[0][0].addresses == {"alice@isp": ["100.64.0.9"]}
    baselines = attribute({}, seen[0][0].readings, 1000).baselines
    # (download, upload): ifHCOutOctets and ifHCInOctets of alice's pp0 unit.
    assert charged(attribute(baselines, seen[1][0].readings, 1300)) == {"alice@isp": (70_000, 500)}
