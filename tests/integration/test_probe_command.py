"""`nmsquota probe` and `config check --live` over SNMP, through each transport, against the
in-process agent: a DSLAM whose ports share an ifDescr, a 32-bit gigabit port, a radio port
at speed 0 and an uplink that counts traffic nobody is mapped to (issue 26)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.config_file import access_server, write_config
from integration.test_daemon_cycle import oid
from pysnmp.proto.rfc1902 import Counter32, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.cli import main
from nmsquota.sim.agent import start_agent
from nmsquota.snmp import tables as p

PORTS = {  # ifIndex: (ifDescr, ifAlias, ifSpeed, octets out)
    1: ("uplink", "", 1_000_000_000, 9_000_000),
    101: ("ADSL port", "CIRCUIT-41", 24_000_000, 0),
    102: ("ADSL port", "CIRCUIT-42", 24_000_000, 0),
    103: ("radio\x00", "", 0, 0),
}
MAPPED = {"alias:CIRCUIT-41": "alice", "alias:CIRCUIT-42": "bob", "ifindex:1": "carol",
          "ifindex:103": "dan"}  # fmt: skip
SUBSCRIBERS = {name: {"plan": "home"} for name in ("alice", "bob", "carol", "dan")}


def objects() -> dict[tuple[int, ...], Any]:
    found: dict[tuple[int, ...], Any] = {oid(p.SYS_UPTIME): TimeTicks(5_000)}
    for index, (descr, alias, speed, out) in PORTS.items():
        found[(*oid(p.IF_DESCR), index)] = OctetString(descr)
        found[(*oid(p.IF_ALIAS), index)] = OctetString(alias)
        found[(*oid(p.IF_SPEED), index)] = Gauge32(speed)
        found[(*oid(p.IF_OPER_STATUS), index)] = Integer32(1)
        found[(*oid(p.IF_IN_OCTETS), index)] = Counter32(0)
        found[(*oid(p.IF_OUT_OCTETS), index)] = Counter32(out)
    return found


def cli(tmp_path: Path, transport: str, interfaces: dict[str, str], *argv: str) -> int:
    async def serve_and_run() -> int:
        agent, port = await start_agent()
        agent.set(objects())
        dslam = access_server(port, interfaces=interfaces, transport=transport)
        config = write_config(tmp_path, plans={"home": {"cap": "1GB"}}, subscribers=SUBSCRIBERS,
                              access_servers={"dslam": dslam})  # fmt: skip
        return await asyncio.to_thread(main, ["-c", str(config), *argv])

    return asyncio.run(serve_and_run())


def test_probe_prints_each_interface_and_every_warning(
    tmp_path: Path, transport: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, transport, MAPPED, "probe", "dslam") == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["IFINDEX", "IFNAME", "IFDESCR", "IFALIAS", "SPEED", "BITS",
                                "STATUS", "SUBSCRIBER", "RULE"]  # fmt: skip
    assert lines[2].split() == ["101", "-", "ADSL", "port", "CIRCUIT-41", "24M", "32", "up",
                                "alice", 'interfaces."alias:CIRCUIT-41"']  # fmt: skip
    # The radio's agent ends its ifDescr with a NUL: walked names drop it (nmsquota.names).
    assert " radio " in out and "\x00" not in out
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert [w.split(": ")[2][:20] for w in warnings] == [
        "'ADSL port' is the i", "ifIndex 1 ('uplink')", "ifIndex 103 ('radio'", ]  # fmt: skip
    assert "wraps every 34 s, more than once per 300 s interval" in warnings[1]
    assert "speed 0 (unknown)" in warnings[2]


def test_probe_json_warns_of_traffic_mapped_to_nobody(
    tmp_path: Path, transport: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unmapped = {k: v for k, v in MAPPED.items() if k != "ifindex:1"}
    assert cli(tmp_path, transport, unmapped, "probe", "dslam", "--json") == 1
    found = json.loads(capsys.readouterr().out)
    assert [i["index"] for i in found["interfaces"]] == [1, 101, 102, 103]
    assert found["interfaces"][3]["ifDescr"] == "radio"
    assert "ifIndex 1 ('uplink') has counted traffic but maps to no subscriber" in found["warnings"]


def test_probe_of_an_unknown_access_server_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:  # fmt: skip
    assert cli(tmp_path, "pysnmp", MAPPED, "probe", "nosuch") == 2
    assert "no access server named 'nosuch' (dslam)" in capsys.readouterr().err


def test_config_check_live_reports_only_the_problems(
    tmp_path: Path, transport: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path, transport, {"ADSL port": "alice"}, "config", "check", "--live") == 1
    out = capsys.readouterr().out
    live = [line for line in out.splitlines() if line.startswith("dslam: ")]
    assert live[0].startswith('dslam: interfaces."ADSL port" (alice): 2 interfaces (ifIndex '
                              "101, 102) share that name")  # fmt: skip
    assert any("ifIndex 1 ('uplink') has counted traffic" in line for line in live)
    assert "IFINDEX" not in out
    assert f"  live: 1 access servers walked, {len(live)} problems" in out
