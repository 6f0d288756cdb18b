"""Walking IF-MIB columns with pysnmp against a real Net-SNMP agent, and a silent one."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from conftest import require

from nmsquota.snmp.connect import Transports, open_transport
from nmsquota.snmp.walk import Agent, SnmpError, get, walk

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def net_snmp_walk(port: int, column: str) -> dict[tuple[int, ...], str]:
    out = subprocess.run(
        [
            require("snmpbulkwalk"),
            "-v2c",
            "-c",
            "public",
            "-On",
            "-Oq",
            "-Oe",
            f"127.0.0.1:{port}",
            "." + column,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {}
    for line in out.splitlines():
        oid, _, value = line.partition(" ")
        rows[tuple(int(p) for p in oid.strip(".").split("."))[len(column.split(".")) :]] = (
            value.strip('"')
        )
    return rows


async def walk_agent(agent: Agent, columns: list[str]) -> dict:
    session = await open_transport(agent)
    return await walk(session, columns, max_repetitions=3)


# GETNEXT (v1, or bulk = false), GETBULK, and GETBULK of one row at a time.
@pytest.mark.parametrize(
    ("version", "settings"),
    [("1", {}), ("2c", {}), ("2c", {"bulk": False}), ("2c", {"max_repetitions": 1})],
)
def test_columns_match_what_net_snmp_walks(
    snmpd_loopback: int, version: str, settings: dict
) -> None:
    agent = Agent("lo", "127.0.0.1", snmpd_loopback, version=version, **settings)
    columns = [IF_DESCR, IF_NAME, IF_IN_OCTETS]
    ours = asyncio.run(walk_agent(agent, columns))
    for column in (IF_DESCR, IF_NAME):
        assert {k: str(v) for k, v in ours[column].items()} == net_snmp_walk(snmpd_loopback, column)
    theirs = net_snmp_walk(snmpd_loopback, IF_IN_OCTETS)
    assert ours[IF_IN_OCTETS].keys() == theirs.keys()
    # Counters only move forward between our walk and Net-SNMP's, by our own polling at most.
    for index, value in ours[IF_IN_OCTETS].items():
        assert 0 <= int(theirs[index]) - value < 10**6


def test_64_bit_columns_are_absent_in_v1(snmpd_loopback: int) -> None:
    ours = asyncio.run(
        walk_agent(Agent("lo", "127.0.0.1", snmpd_loopback, version="1"), [IF_HC_OUT_OCTETS])
    )
    assert ours[IF_HC_OUT_OCTETS] == {}
    v2 = asyncio.run(walk_agent(Agent("lo", "127.0.0.1", snmpd_loopback), [IF_HC_OUT_OCTETS]))
    assert v2[IF_HC_OUT_OCTETS] and all(isinstance(v, int) for v in v2[IF_HC_OUT_OCTETS].values())


def test_scalars_and_missing_objects(snmpd_loopback: int) -> None:
    async def read() -> dict:
        session = await open_transport(Agent("lo", "127.0.0.1", snmpd_loopback))
        return await get(session, [SYS_UPTIME, "1.3.6.1.2.1.1.99.0"])

    values = asyncio.run(read())
    assert isinstance(values[SYS_UPTIME], int) and values[SYS_UPTIME] >= 0
    assert values["1.3.6.1.2.1.1.99.0"] is None  # noSuchObject is not a zero


def test_a_silent_agent_is_bounded_by_its_deadline(silent_agent: int) -> None:
    agent = Agent("mute", "127.0.0.1", silent_agent, timeout=1, retries=10, deadline=1.5)
    message = r"mute \(127.0.0.1:\d+\): walk not finished within 1.5s"
    with pytest.raises(SnmpError, match=message) as cut:
        asyncio.run(walk_agent(agent, [IF_DESCR]))
    # The deadline, with nothing read: what a cycle counts, and backoff counts (backoff.py).
    assert cut.value.cause == "deadline" and cut.value.rows_read == 0


def test_a_silent_agent_does_not_hold_up_a_live_one(snmpd_loopback: int, silent_agent: int) -> None:
    finished: list[str] = []

    async def both() -> None:
        transports = Transports()

        async def one(agent: Agent) -> None:
            try:
                await walk(await transports.open(agent), [IF_DESCR, IF_IN_OCTETS])
            except SnmpError:
                finished.append(f"{agent.name} failed")
            else:
                finished.append(agent.name)

        await asyncio.gather(
            one(Agent("mute", "127.0.0.1", silent_agent, timeout=1, retries=2, deadline=3)),
            one(Agent("live", "127.0.0.1", snmpd_loopback)),
        )

    asyncio.run(both())
    assert finished == ["live", "mute failed"]
