"""A mapping that cannot go silently wrong, end to end on the daemon's cycle rig: a DSLAM
whose ADSL ports share one ifDescr charges nobody through that name and says so in the log,
the event log, the read API and `status`; the same ports mapped by ifIndex, or by ifAlias,
are charged each to their own subscriber; a renumbered ifIndex is reported (issue 26)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from integration.test_daemon_cycle import MB, T0, oid, rig, status
from pysnmp.proto.rfc1902 import Counter32, Gauge32, Integer32, OctetString, TimeTicks

from nmsquota.cli import main
from nmsquota.config import load_config
from nmsquota.snmp import tables as p
from nmsquota.standings import Reader, Snapshot

SUBSCRIBERS = {"alice": {"plan": "home"}, "bob": {"plan": "home"}}
BIG = {"home": {"cap": "10GB", "window": "1d"}}


def dslam(agent: Any, now: float, ports: dict[int, tuple[str, str, int]]) -> None:
    """A DSLAM without ifXTable but for ifAlias: ifIndex -> (ifDescr, ifAlias, octets out),
    32-bit counters, no ifName."""
    objects: dict[tuple[int, ...], Any] = {
        oid(p.SYS_UPTIME): TimeTicks(int((now - T0 + 1000) * 100)),
        oid(p.IF_NUMBER): Integer32(len(ports)),
        oid(p.IF_TABLE_LAST_CHANGE): TimeTicks(0),
    }
    for index, (descr, alias, out) in ports.items():
        objects[(*oid(p.IF_DESCR), index)] = OctetString(descr)
        if alias:
            objects[(*oid(p.IF_ALIAS), index)] = OctetString(alias)
        objects[(*oid(p.IF_OPER_STATUS), index)] = Integer32(1)
        objects[(*oid(p.IF_SPEED), index)] = Gauge32(24_000_000)
        objects[(*oid(p.IF_IN_OCTETS), index)] = Counter32(0)
        objects[(*oid(p.IF_OUT_OCTETS), index)] = Counter32(out % 2**32)
    agent.set(objects)


def ports(alice: int, bob: int, first: str = "ADSL port") -> dict[int, tuple[str, str, int]]:
    return {101: (first, "CIRCUIT-41", alice), 102: ("ADSL port", "CIRCUIT-42", bob)}


async def two_cycles(r: Any) -> dict[str, int]:
    """A baseline, then 50 MB out of port 101 and 70 MB out of port 102: who was charged."""
    dslam(r.agent, r.clock.now(), ports(1000, 2000))
    await r.daemon.cycle()
    r.clock.advance(300)
    dslam(r.agent, r.clock.now(), ports(1000 + 50 * MB, 2000 + 70 * MB))
    await r.daemon.cycle()
    return {name: t.bytes_in for name, t in r.ledger.totals().items()}


def snapshot(r: Any) -> Snapshot:
    return Reader.open(r.location, load_config(r.path)).snapshot()


def on_dslam(interfaces: dict[str, str]) -> dict[str, Any]:
    return {"bras": {"interfaces": interfaces}, "plans": BIG,
            "subscribers": SUBSCRIBERS}  # fmt: skip


def test_a_name_two_ports_share_charges_nobody_and_is_reported_everywhere(
    tmp_path: Path, ledger_at, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, **on_dslam({"ADSL port": "alice"})) as r:
            with caplog.at_level(logging.INFO, logger="nmsquota.daemon"):
                charged = await two_cycles(r)
            assert charged == {}, "never 120 MB to alice"
            started = [m for m in caplog.messages if m.startswith("interface map: ")]
            assert started == ['interface map: bras: interfaces."ADSL port" (alice): 2 '
                               "interfaces (ifIndex 101, 102) share that name: charged to "
                               "nobody; map each by ifindex: or alias:"]  # fmt: skip
            snap = snapshot(r)
            (device,) = snap.devices
            (problem,) = device.mapping
            assert (problem.kind, problem.since, problem.cycles) == ("shared", T0, 2)
            told = [e for e in snap.events if e.kind.value.startswith("mapping")]
            assert [(e.kind.value, e.device) for e in told] == [("mapping problem", "bras")]
            assert main(status(r)) == 1
            out = capsys.readouterr().out
            assert 'interface map: bras: interfaces."ADSL port" (alice): 2 interfaces' in out
            assert "(since 2027-01-15 08:00, 2 cycles)" in out

            # Mapped by ifIndex instead: the problem ends, once, in the log and the events.
            r.daemon.configure(load_config(_rewrite(r, {"ifindex:101": "alice"})))
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="nmsquota.daemon"):
                r.clock.advance(300)
                dslam(r.agent, r.clock.now(), ports(1000 + 50 * MB, 2000 + 70 * MB))
                await r.daemon.cycle()
            assert (
                'interface map: bras: interfaces."ADSL port" (shared) put right after 2 '
                "cycle(s)" in caplog.messages
            )
            snap = snapshot(r)
            assert snap.mapping_problems == ()
            assert [e.kind.value for e in snap.events].count("mapping resolved") == 1
            assert main(status(r)) == 0

    asyncio.run(run())


def _rewrite(r: Any, interfaces: dict[str, str]) -> Path:
    text = r.path.read_text()
    start = text.index("[access_servers.bras.interfaces]")
    lines = [f'"{key}" = "{value}"' for key, value in interfaces.items()]
    end = text.find("\n[", start + 1)
    rest = text[end:] if end != -1 else "\n"
    r.path.write_text(text[:start] + "[access_servers.bras.interfaces]\n" + "\n".join(lines)
                      + rest)  # fmt: skip
    return r.path


def test_the_same_ports_mapped_by_ifindex_are_charged_each_their_own(
    tmp_path: Path, ledger_at
) -> None:
    async def run() -> None:
        async with rig(
            tmp_path, ledger=ledger_at, **on_dslam({"ifindex:101": "alice", "ifindex:102": "bob"})
        ) as r:
            assert await two_cycles(r) == {"alice": 50 * MB, "bob": 70 * MB}
            assert snapshot(r).mapping_problems == ()

    asyncio.run(run())


def test_ports_mapped_by_ifalias_are_charged_each_their_own(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        mapped = {"alias:CIRCUIT-41": "alice", "alias:CIRCUIT-42": "bob"}
        async with rig(tmp_path, ledger=ledger_at, **on_dslam(mapped)) as r:
            assert await two_cycles(r) == {"alice": 50 * MB, "bob": 70 * MB}

    asyncio.run(run())


def test_a_renumbered_ifindex_is_reported_and_not_charged(
    tmp_path: Path, ledger_at: Path | str
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, **on_dslam({"ifindex:101": "alice"})) as r:
            dslam(r.agent, r.clock.now(), ports(1000, 2000, first="ADSL 0/1/1"))
            await r.daemon.cycle()
            assert [(p.index, p.name) for p in r.ledger.records.devices()[0].pins] == [
                (101, "ADSL 0/1/1")]  # fmt: skip
            # After a reboot ifIndex 101 is another port.
            r.clock.advance(300)
            dslam(r.agent, r.clock.now(), ports(1000 + 50 * MB, 2000, first="ADSL 0/2/7"))
            await r.daemon.cycle()
            assert r.ledger.totals() == {}
            (problem,) = snapshot(r).devices[0].mapping
            assert problem.kind == "renamed"
            assert "was 'ADSL 0/1/1' when mapped, is 'ADSL 0/2/7' now" in problem.text

    asyncio.run(run())


def test_status_json_lists_the_mapping_problems(
    tmp_path: Path, ledger_at: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, **on_dslam({"ifindex:7": "bob"})) as r:
            await two_cycles(r)
            assert main([*status(r), "--json"]) == 1
            (problem,) = json.loads(capsys.readouterr().out)["mapping"]
            assert (problem["device"], problem["entry"], problem["kind"], problem["cycles"]) == (
                "bras", 'interfaces."ifindex:7"', "none", 2)  # fmt: skip

    asyncio.run(run())
