"""Walking IF-MIB columns against a real Net-SNMP agent, and a silent one, through each
transport (the `transport` fixture: pysnmp and Net-SNMP's library)."""

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
    snmpd_loopback: int, version: str, settings: dict, transport: str
) -> None:
    agent = Agent("lo", "127.0.0.1", snmpd_loopback, version, transport=transport, **settings)
    columns = [IF_DESCR, IF_NAME, IF_IN_OCTETS]
    ours = asyncio.run(walk_agent(agent, columns))
    for column in (IF_DESCR, IF_NAME):
        assert {k: str(v) for k, v in ours[column].items()} == net_snmp_walk(snmpd_loopback, column)
    theirs = net_snmp_walk(snmpd_loopback, IF_IN_OCTETS)
    assert ours[IF_IN_OCTETS].keys() == theirs.keys()
    # Counters only move forward between our walk and Net-SNMP's, by our own polling at most.
    for index, value in ours[IF_IN_OCTETS].items():
        assert 0 <= int(theirs[index]) - value < 10**6


def test_64_bit_columns_are_absent_in_v1(snmpd_loopback: int, transport: str) -> None:
    v1 = Agent("lo", "127.0.0.1", snmpd_loopback, version="1", transport=transport)
    ours = asyncio.run(walk_agent(v1, [IF_HC_OUT_OCTETS]))
    assert ours[IF_HC_OUT_OCTETS] == {}
    v2c = Agent("lo", "127.0.0.1", snmpd_loopback, transport=transport)
    v2 = asyncio.run(walk_agent(v2c, [IF_HC_OUT_OCTETS]))
    assert v2[IF_HC_OUT_OCTETS] and all(isinstance(v, int) for v in v2[IF_HC_OUT_OCTETS].values())


def test_scalars_and_missing_objects(snmpd_loopback: int, transport: str) -> None:
    async def read() -> dict:
        session = await open_transport(
            Agent("lo", "127.0.0.1", snmpd_loopback, transport=transport)
        )
        return await get(session, [SYS_UPTIME, "1.3.6.1.2.1.1.99.0"])

    values = asyncio.run(read())
    assert isinstance(values[SYS_UPTIME], int) and values[SYS_UPTIME] >= 0
    assert values["1.3.6.1.2.1.1.99.0"] is None  # noSuchObject is not a zero


def test_a_silent_agent_is_bounded_by_its_deadline(silent_agent: int, transport: str) -> None:
    agent = Agent(
        "mute", "127.0.0.1", silent_agent, timeout=1, retries=10, deadline=1.5, transport=transport
    )
    message = r"mute \(127.0.0.1:\d+\): walk not finished within 1.5s"
    with pytest.raises(SnmpError, match=message) as cut:
        asyncio.run(walk_agent(agent, [IF_DESCR]))
    # The deadline, with nothing read: what a cycle counts, and backoff counts (backoff.py).
    assert cut.value.cause == "deadline" and cut.value.rows_read == 0


def test_a_silent_agent_does_not_hold_up_a_live_one(
    snmpd_loopback: int, silent_agent: int, transport: str
) -> None:
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
            one(Agent("mute", "127.0.0.1", silent_agent, timeout=1, retries=2, deadline=3,
                      transport=transport)),
            one(Agent("live", "127.0.0.1", snmpd_loopback, transport=transport)),
        )  # fmt: skip

    asyncio.run(both())
    assert finished == ["live", "mute failed"]


def test_a_silent_agent_fails_as_a_timeout_after_its_timeout_and_every_retry(
    silent_agent: int, transport: str
) -> None:
    # timeout 0.3 s, 2 retries: three tries, ~0.9 s, whichever library counts them.
    agent = Agent("mute", "127.0.0.1", silent_agent, timeout=0.3, retries=2, transport=transport)

    async def read() -> float:
        started = asyncio.get_running_loop().time()
        with pytest.raises(SnmpError, match=r"^mute \(127.0.0.1:\d+\): No SNMP response") as e:
            await get(await open_transport(agent), [SYS_UPTIME])
        assert e.value.cause == "timeout"
        return asyncio.get_running_loop().time() - started

    # At least the three tries; the upper bound only tells them from a library's own default
    # timeout (seconds a try): it failed at 1.53 s with a benchmark sharing the two cores.
    assert 0.85 <= asyncio.run(read()) < 3.0


def test_a_host_that_does_not_resolve_is_named_in_one_line(transport: str) -> None:
    agent = Agent("bras", "no-such-host.invalid", transport=transport)
    with pytest.raises(SnmpError, match=r"^bras: cannot resolve host 'no-such-host.invalid': "):
        asyncio.run(open_transport(agent))


def test_netsnmp_refuses_snmpv3_at_once_naming_the_agent() -> None:
    # The configuration refuses it first (test_config_walk.py); an Agent made by hand too.
    agent = Agent("bras", "127.0.0.1", version="3", user="nms", transport="netsnmp")
    with pytest.raises(SnmpError, match=r"^bras \(127.0.0.1:161\): transport netsnmp cannot "):
        asyncio.run(open_transport(agent))
