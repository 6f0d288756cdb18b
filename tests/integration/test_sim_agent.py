"""The poller against the in-process agent: wraps, reboots, ifIndex reuse, big tables, a
device that dies mid-walk. Deterministic: the test sets every counter the poller sees."""

from __future__ import annotations

import asyncio

import pytest
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, Rule, attribute
from nmsquota.counters import Verdict
from nmsquota.sim.agent import start_agent
from nmsquota.snmp import poller as p
from nmsquota.snmp.walk import Agent, Session, SnmpError, walk

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


async def cycles(steps: list[dict], version: str = "2c") -> list:
    """Poll once per step (the agent's objects for it), 300 s apart; the attributions."""
    agent, port = await start_agent()
    session = await Session.open(SnmpEngine(), Agent("sim", "127.0.0.1", port, version=version))
    baselines: dict = {}
    results = []
    for n, objects in enumerate(steps):
        agent.set(objects)
        seen = await p.poll(session, MAPPING, 1_000_000.0 + 300 * n)
        result = attribute(baselines, seen.readings, 1_000_000 + 300 * n)
        baselines = result.baselines
        results.append(result)
    return results


def charged(result) -> dict[str, tuple[int, int]]:
    return {s.subscriber: (s.bytes_in, s.bytes_out) for s in result.samples}


def test_a_64_bit_wrap_is_charged_as_the_bytes_that_passed() -> None:
    top = 2**64
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 5, top - 1_000)}),
        interfaces(130_000, {7: ("<pppoe-davidn>", 10, top + 4_000)}),
    ]))  # fmt: skip
    assert charged(results[1]) == {"davidn": (5_000, 5)}


def test_a_32_bit_wrap_over_v1_is_charged_as_the_bytes_that_passed() -> None:
    top = 2**32
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 0, top - 1_000)}, hc=False),
        interfaces(130_000, {7: ("<pppoe-davidn>", 0, top + 2_000)}, hc=False),
    ], version="1"))  # fmt: skip
    assert charged(results[1]) == {"davidn": (3_000, 0)}
    (reading,) = results[1].baselines.values()
    assert reading.width == 32


def test_an_agent_reboot_charges_nothing_for_that_interval() -> None:
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-davidn>", 10**9, 10**10)}),
        interfaces(12_000, {7: ("<pppoe-davidn>", 500, 6_000)}),  # up 120 s: it rebooted
        interfaces(42_000, {7: ("<pppoe-davidn>", 900, 9_000)}),
    ]))  # fmt: skip
    assert charged(results[1]) == {}
    assert [c.verdict for _, c in results[1].charges] == [Verdict.RESTART]
    assert charged(results[2]) == {"davidn": (3_000, 400)}


def test_an_index_reused_by_another_subscriber_is_not_charged_to_either() -> None:
    results = asyncio.run(cycles([
        interfaces(100_000, {7: ("<pppoe-alice>", 0, 1_000)}),
        interfaces(130_000, {7: ("<pppoe-bob>", 0, 90_000)}),
        interfaces(160_000, {7: ("<pppoe-bob>", 0, 95_000)}),
    ]))  # fmt: skip
    assert charged(results[1]) == {}
    assert charged(results[2]) == {"bob": (5_000, 0)}


def test_ten_thousand_interfaces_are_walked_whole() -> None:
    objects = interfaces(100, {i: (f"<pppoe-u{i}>", i, 2 * i) for i in range(1, 10_001)})

    async def run() -> dict:
        agent, port = await start_agent()
        agent.set(objects)
        session = await Session.open(SnmpEngine(), Agent("big", "127.0.0.1", port, deadline=120))
        return await walk(session, [p.IF_NAME, p.IF_HC_OUT_OCTETS])

    table = asyncio.run(run())
    assert len(table[p.IF_NAME]) == len(table[p.IF_HC_OUT_OCTETS]) == 10_000
    assert table[p.IF_HC_OUT_OCTETS][(10_000,)] == 20_000


def test_an_agent_that_dies_mid_walk_is_an_error_not_a_short_table() -> None:
    async def run() -> None:
        agent, port = await start_agent()
        agent.set(interfaces(100, {i: (f"<pppoe-u{i}>", i, i) for i in range(1, 500)}))
        agent.answer_limit = 3
        session = await Session.open(
            SnmpEngine(), Agent("dying", "127.0.0.1", port, timeout=0.5, retries=1, deadline=10)
        )
        await p.poll(session, MAPPING, 0.0)

    with pytest.raises(SnmpError, match="dying"):
        asyncio.run(run())


def test_accel_ppp_sessions_are_polled_from_its_session_table(
    capsys: pytest.CaptureFixture[str], tmp_path
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
        config = tmp_path / "nmsquota.toml"
        config.write_text(
            f'[access_servers.accel]\nhost = "127.0.0.1"\nport = {port}\nsource = "accel-ppp"\n'
        )
        argv = ["-c", str(config), "poll", "--once", "--json", "--ledger", str(tmp_path / "none")]
        return await asyncio.to_thread(main, argv)

    assert asyncio.run(serve_and_poll()) == 0
    (device,) = json.loads(capsys.readouterr().out)
    (row,) = device["rows"]
    # A new session's counters started at 0 when it did: all of it is charged.
    assert (row["subscriber"], row["interface"], row["verdict"]) == ("davidn", "ppp7", "charged")
    assert (row["download"], row["upload"]) == (56_789, 1_234)
