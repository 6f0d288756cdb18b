"""Walks recorded from real agents, served by snmpsim, polled twice with known traffic added
in between: every charge exact, through each transport (the `transport` fixture).

The captures are the ones snmpsim ships in `snmpsim/data/recorded/` (a Windows XP host's SNMP
service and a Linux Net-SNMP host). They come under snmpsim's licence, BSD-2-Clause
(Copyright (c) 2010-2019 Ilya Etingof, (c) 2022 LeXtudio Inc.), which allows using them here;
they are read from the installed package, not copied into this repository.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from conftest import free_udp_port
from fixtures.config_file import WriteConfig, access_server
from fixtures.recorded_agent import RecordedAgent, recorded_agent

from nmsquota.attribution import Attribution, InterfaceMap, attribute
from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.snmp.connect import open_transport
from nmsquota.snmp.poller import poll
from nmsquota.snmp.tables import Poll
from nmsquota.snmp.walk import Agent
from nmsquota.usage import Sample

T0 = 1_800_000_000
INTERVAL = 900  # long enough for the wireless port's 32-bit counter to wrap honestly

IF_IN, IF_OUT = "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.16"
HC_IN, HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"


@pytest.fixture
def windows_host(tmp_path: Path) -> Iterator[RecordedAgent]:
    yield from recorded_agent("winxp-full-walk", tmp_path, free_udp_port())


@pytest.fixture
def linux_host(tmp_path: Path) -> Iterator[RecordedAgent]:
    yield from recorded_agent("linux-full-walk", tmp_path, free_udp_port())


def two_polls(
    agent: RecordedAgent, mapping: InterfaceMap, traffic: Mapping[str, int], transport: str
) -> tuple[Poll, Poll, Attribution]:
    """A baseline poll, `traffic` added to the served counters, a second poll INTERVAL later,
    the requests sent by `transport`."""
    where = Agent(
        "recorded", "127.0.0.1", agent.port, community=agent.community, transport=transport
    )

    async def run() -> tuple[Poll, Poll, Attribution]:
        session = await open_transport(where)
        first = await poll(session, mapping, T0)
        baseline = attribute({}, first.readings, T0)
        agent.add(traffic, INTERVAL)
        second = await poll(session, mapping, T0 + INTERVAL)
        return first, second, attribute(baseline.baselines, second.readings, T0 + INTERVAL)

    return asyncio.run(run())


WINDOWS_NAMES = InterfaceMap(
    static={
        "MS TCP Loopback interface": "winnie",
        "Intel(R) PRO/Wireless 2200BG Network Connection": "wendy",
    }
)


def test_the_windows_hosts_nul_terminated_names_map_and_are_charged_exactly(
    windows_host: RecordedAgent, transport: str
) -> None:
    loopback, wireless = 1, 65539
    wrap = 2**32 - windows_host.value(f"{IF_IN}.{wireless}") + 1_000  # wraps, 32-bit
    traffic = {
        f"{IF_IN}.{loopback}": 40_000_000, f"{IF_OUT}.{loopback}": 40_000_000,
        f"{IF_IN}.{wireless}": wrap, f"{IF_OUT}.{wireless}": 123_456,
    }  # fmt: skip
    first, second, result = two_polls(windows_host, WINDOWS_NAMES, traffic, transport)

    readings = {key.interface: (key, reading) for key, reading in second.readings}
    assert sorted(readings) == sorted(WINDOWS_NAMES.static)
    assert [i.descr for i in second.unmapped] == ["Bluetooth Device (Personal Area Network)"]
    key, reading = readings["MS TCP Loopback interface"]
    assert (key.index, key.subscriber, reading.width, reading.speed_bps) == (1, "winnie", 32, 10**7)
    key, reading = readings["Intel(R) PRO/Wireless 2200BG Network Connection"]
    assert (key.subscriber, reading.width, reading.speed_bps) == ("wendy", 32, 54 * 10**6)
    # download is octets out of the interface (the configuration's default)
    assert sorted(result.samples, key=lambda s: s.subscriber) == [
        Sample("wendy", T0 + INTERVAL, bytes_in=123_456, bytes_out=wrap),
        Sample("winnie", T0 + INTERVAL, bytes_in=40_000_000, bytes_out=40_000_000),
    ]
    assert {c.verdict.value for _, c in result.charges} == {"charged"}
    assert len(first.readings) == 2


def test_the_linux_hosts_64_bit_counters_are_charged_exactly(
    linux_host: RecordedAgent, transport: str
) -> None:
    lo, eth0 = 1, 2
    mapping = InterfaceMap(static={"eth0": "linus", "lo": "lola"})
    # The capture's 32-bit counters were walked at another moment than its 64-bit ones and
    # disagree with them; they are raised too, and the poller must read only the 64-bit ones.
    traffic = {
        f"{HC_IN}.{eth0}": 9_000_000_000, f"{HC_OUT}.{eth0}": 250_000_000,
        f"{IF_IN}.{eth0}": 9_000_000_000, f"{IF_OUT}.{eth0}": 250_000_000,
        f"{HC_IN}.{lo}": 7, f"{HC_OUT}.{lo}": 7, f"{IF_IN}.{lo}": 7, f"{IF_OUT}.{lo}": 7,
    }  # fmt: skip
    _, second, result = two_polls(linux_host, mapping, traffic, transport)

    readings = {key.interface: reading for key, reading in second.readings}
    assert {name: (r.width, r.speed_bps) for name, r in readings.items()} == {
        "eth0": (64, 100 * 10**6),
        "lo": (64, 10 * 10**6),
    }
    assert readings["eth0"].octets_in == linux_host.value(f"{HC_IN}.{eth0}")
    assert sorted(result.samples, key=lambda s: s.subscriber) == [
        Sample("linus", T0 + INTERVAL, bytes_in=250_000_000, bytes_out=9_000_000_000),
        Sample("lola", T0 + INTERVAL, bytes_in=7, bytes_out=7),
    ]


def test_poll_prints_the_windows_hosts_names_as_an_operator_reads_them(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config_file: WriteConfig,
    windows_host: RecordedAgent,
    transport: str,
) -> None:
    # The access server's `transport` key reaches the poller: the whole path through each.
    server = access_server(windows_host.port, community=windows_host.community, transport=transport)
    server["interfaces"] = {"MS TCP Loopback interface": "winnie"}
    config = config_file(access_servers={"xp": server})
    ledger = tmp_path / "none"
    arguments = ["-c", str(config), "poll", "--once", "--ledger", str(ledger)]
    assert main(arguments, clock=ManualClock(T0)) == 0
    out, err = capsys.readouterr()
    assert "\x00" not in out + err
    assert out.splitlines()[1].split()[:6] == ["xp", "MS", "TCP", "Loopback", "interface", "winnie"]
    assert err.strip() == (
        "xp: not mapped to a subscriber: Intel(R) PRO/Wireless 2200BG Network Connection, "
        "Bluetooth Device (Personal Area Network)"
    )
    assert main([*arguments, "--json"], clock=ManualClock(T0)) == 0
    (device,) = json.loads(capsys.readouterr().out)
    assert [row["interface"] for row in device["rows"]] == ["MS TCP Loopback interface"]
