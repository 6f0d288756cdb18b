"""The daemon's cycle end to end on the in-process agent with a simulated clock: poll,
commit, decide, enforce; the window rolls and the limit lifts; a restart resumes."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures.config_file import access_server, if_name, write_config
from integration.test_sim_agent import interfaces
from pysnmp.proto.rfc1902 import Integer32, TimeTicks

from nmsquota.clock import ManualClock
from nmsquota.config import Config, load_config
from nmsquota.control.protocol import (
    Exempt,
    Limit,
    Release,
    Session,
    SubscriberAdd,
    SubscriberRemove,
    SubscriberSet,
    Topup,
)
from nmsquota.daemon.core import Daemon
from nmsquota.enforcement.driver import Limit as DriverLimit
from nmsquota.enforcement.driver import make_driver
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import DriftRecord
from nmsquota.sim.agent import start_agent
from nmsquota.snmp import tables as p

T0 = 1_800_000_000.0
MB = 10**6


def local(moment: float) -> str:
    """A moment as status prints it, in the configuration's time zone (UTC by default)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


HOME = {"cap": "1MB", "window": "1d", "warn_at": ["80%"]}
SUBSCRIBERS = {"alice": {"plan": "home", "addresses": ["10.60.1.2"]}, "bob": {"plan": "home"}}


def settings(port: int, bras: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """The rig's configuration, with top-level tables replaced by `changes`: one plan, alice
    (address known) and bob on it, the agent's PPPoE interfaces named by ifName; `bras`
    adds to (or changes) the access server's settings."""
    bras = access_server(port, match=[if_name("<pppoe-(?P<user>.+)>")], **(bras or {}))
    return {"interval": "5m", "plans": {"home": HOME}, "subscribers": SUBSCRIBERS,
            "access_servers": {"bras": bras}, **changes}  # fmt: skip


class Bras:
    """The agent's view at a moment of the simulated clock: uptime follows the clock."""

    def __init__(self, agent) -> None:  # type: ignore[no-untyped-def]
        self.agent = agent

    def show(self, now: float, alice_down: int, bob_down: int) -> None:
        uptime = int((now - T0 + 1000) * 100)
        objects = interfaces(uptime, {7: ("<pppoe-alice>", 0, alice_down),
                                      8: ("<pppoe-bob>", 0, bob_down)})  # fmt: skip
        objects[oid(p.IF_NUMBER)] = Integer32(2)
        objects[oid(p.IF_TABLE_LAST_CHANGE)] = TimeTicks(0)
        self.agent.set(objects)


@dataclass
class Rig:
    """The daemon on the in-process agent, a manual clock and a ledger, with the log driver
    (or the drivers given)."""

    agent: Any
    bras: Bras
    path: Path
    config: Config
    clock: ManualClock
    ledger: Ledger
    daemon: Daemon
    driver: Any
    """The first driver."""
    location: Path | str
    """Where the ledger is (a directory, or a database's URL: the `ledger_at` fixture)."""


@asynccontextmanager
async def rig(tmp_path: Path, drivers: list[Any] | None = None, bras: dict[str, Any] | None = None,
              ledger: Path | str | None = None, **changes: Any) -> AsyncIterator[Rig]:  # fmt: skip
    """settings' configuration, with `bras` and `changes`; the ledger at `ledger` (default:
    a directory in tmp_path)."""
    agent, port = await start_agent()
    path = write_config(tmp_path, **settings(port, bras, **changes))
    config = load_config(path)
    clock = ManualClock(T0)
    drivers = drivers or [make_driver("log", "log", {})]
    location = tmp_path / "ledger" if ledger is None else ledger
    with Ledger.open_writer(location, config.tallies()) as opened:
        daemon = Daemon(config, clock, opened, drivers=drivers)
        yield Rig(agent, Bras(agent), path, config, clock, opened, daemon, drivers[0], location)


def usage(r: Rig, *more: str) -> list[str]:
    """`nmsquota usage` on the rig's configuration and ledger, as argv for cli.main."""
    return ["-c", str(r.path), "usage", "--ledger", str(r.location), *more]


def status(r: Rig) -> list[str]:
    return ["-c", str(r.path), "status", "--ledger", str(r.location)]


NOTIFY = "import sys; open(sys.argv[1], 'a').write(' '.join(sys.argv[2:]) + chr(10))"
"""A notify command's script: appends its arguments to a file, a line a call."""


def notify_into(record: Path, *arguments: str) -> dict[str, Any]:
    """A [notify] table with NOTIFY writing `arguments` (placeholders) to `record`."""
    return {"command": [sys.executable, "-c", NOTIFY, str(record), *arguments]}


def told(record: Path, lines: int) -> list[str]:
    """What the notify command wrote, once it has written `lines` lines (hooks run in a
    thread of their own)."""
    deadline = time.monotonic() + 10
    while len(record.read_text().splitlines() if record.exists() else []) < lines:
        assert time.monotonic() < deadline, f"the notify command wrote under {lines} lines"
        time.sleep(0.1)
    return record.read_text().splitlines()


def test_over_the_cap_limited_within_a_cycle_then_released_as_the_window_rolls(
    tmp_path, ledger_at, transport
):
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, bras={"transport": transport}) as r:
            bras, clock, ledger, daemon, log = r.bras, r.clock, r.ledger, r.daemon, r.driver
            bras.show(clock.now(), 5_000, 5_000)
            first = await daemon.cycle()
            assert first.devices_ok == ["bras"] and first.limited == []

            clock.advance(300)
            bras.show(clock.now(), 5_000 + 2 * MB, 5_000 + 100_000)
            second = await daemon.cycle()
            assert second.limited == ["alice"] and second.changed == ["alice"]
            (limit,) = log.installed()
            assert (limit.subscriber, limit.addresses, limit.rate_bps) == (
                "alice", ("10.60.1.2",), 3_000)  # fmt: skip
            assert limit.interface == "<pppoe-alice>" and limit.access_server == "bras"
            assert second.drivers["log"]["added"] == ["alice"]
            assert [lim.subscriber for lim in ledger.limits()] == ["alice"]
            standing = {r.subscriber: r for r in ledger.records.standings()}
            assert standing["alice"].used == 2 * MB and standing["bob"].limited is False
            health = ledger.records.health()
            assert health is not None
            assert health.number == 2 and health.limited == ("alice",)

            # A day and a bit later, nothing more downloaded: the window rolled past.
            clock.advance(86_400 + 300)
            bras.show(clock.now(), 5_000 + 2 * MB, 5_000 + 100_000)
            third = await daemon.cycle()
            assert third.limited == [] and third.changed == ["alice"]
            assert log.installed() == [] and ledger.limits() == []

    asyncio.run(run())


def test_a_restart_resumes_limits_and_counts_nothing_twice(tmp_path, transport, ledger_at):
    async def run() -> None:
        agent, port = await start_agent()
        bras = Bras(agent)
        config = load_config(write_config(tmp_path, **settings(port, {"transport": transport})))
        clock = ManualClock(T0)
        with Ledger.open_writer(ledger_at, config.tallies()) as ledger:
            daemon = Daemon(config, clock, ledger, drivers=[make_driver("log", "log", {})])
            bras.show(clock.now(), 0, 0)
            await daemon.cycle()
            clock.advance(300)
            bras.show(clock.now(), 3 * MB, 0)
            assert (await daemon.cycle()).limited == ["alice"]
        # A new process: a new driver that has nothing installed (say, after a reboot).
        clock.advance(300)
        bras.show(clock.now(), 3 * MB + 1_000, 0)
        with Ledger.open_writer(ledger_at, config.tallies()) as ledger:
            fresh = make_driver("log", "log", {})
            daemon = Daemon(config, clock, ledger, drivers=[fresh])
            report = await daemon.cycle()
            assert report.limited == ["alice"] and report.changed == []
            assert [lim.subscriber for lim in fresh.installed()] == ["alice"]
            totals = ledger.totals(config.tallies()[0])
            assert totals["alice"].bytes_in == 3 * MB + 1_000  # nothing twice

    asyncio.run(run())


def test_a_session_that_starts_over_the_cap_is_limited_at_once_and_overrides_apply(
    tmp_path, ledger_at
):
    from unit.test_reconcile import Memory

    async def run() -> None:
        by_address = Memory()
        async with rig(tmp_path, ledger=ledger_at, drivers=[by_address]) as r:
            bras, clock, ledger, daemon = r.bras, r.clock, r.ledger, r.daemon
            bras.show(clock.now(), 0, 0)
            await daemon.cycle()
            clock.advance(300)
            bras.show(clock.now(), 0, 5 * MB)  # bob: over the cap, no address known yet
            report = await daemon.cycle()
            assert report.limited == ["bob"]
            assert report.drivers["mem"]["unenforceable"] == ["bob"]
            assert by_address.table == {}

            clock.advance(10)
            reply = await daemon.handle(Session(event="up", interface="ppp9", login="bob",
                                                 address="100.64.0.9"), peer=None)  # fmt: skip
            assert reply["limited"] == ["bob"] and list(by_address.table) == ["100.64.0.9"]
            await daemon.handle(Session(event="down", interface="ppp9", login="bob",
                                        address="100.64.0.9"), peer=None)  # fmt: skip
            assert by_address.table == {}

            # The operator: exempt bob for a day, force alice, top-ups, release.
            mayor = Exempt(subscriber="bob", duration=86400, reason="the mayor")
            reply = await daemon.handle(mayor, peer=None)
            assert reply["message"] == "exempt bob for 1d: the mayor"
            assert reply["limited"] == []
            reply = await daemon.handle(
                Limit(subscriber="alice", reason="abuse ticket 17"), peer=None
            )
            assert reply["limited"] == ["alice"] and list(by_address.table) == ["10.60.1.2"]
            assert {r.kind for r in ledger.records.overrides()} == {"exempt", "force"}
            reply = await daemon.handle(Release(subscriber="alice"), peer=None)
            assert reply["limited"] == [] and by_address.table == {}
            # Refusals are UsageErrors (the control server turns them into error replies).
            with pytest.raises(UsageError, match="no subscriber named 'carol'"):
                await daemon.handle(Limit(subscriber="carol", reason="typo"), peer=None)
            stranger = Session(event="up", interface="ppp8", login="carol", address="100.64.0.8")
            with pytest.raises(UsageError, match="no subscriber named 'carol'"):
                await daemon.handle(stranger, peer=None)

    asyncio.run(run())


def test_a_look_that_limits_writes_state_json_once_with_all_it_changed(tmp_path):
    from fixtures.writes import state_writes
    from unit.test_reconcile import Memory

    from nmsquota.enforcement.driver import Limit as DriverLimit

    async def run() -> None:
        shaper = Memory()
        async with rig(tmp_path, drivers=[shaper]) as r:
            bras, clock, ledger, daemon = r.bras, r.clock, r.ledger, r.daemon
            bras.show(clock.now(), 0, 0)
            await daemon.cycle()
            # A limit nmsquota did not make: the look's reconciliation repairs it, and says so.
            shaper.table["10.9.9.9"] = DriverLimit("zoe", ("10.9.9.9",))
            clock.advance(60)
            bras.show(clock.now(), 2 * MB, 0)
            with state_writes() as written:
                assert await daemon.look("alice") is True
            assert len(written) == 1
            assert [lim.subscriber for lim in ledger.limits()] == ["alice"]
            assert [(e.kind.value, e.subscriber) for e in ledger.records.events()][-2:] == [
                ("limit applied", "alice"), ("repair", None)]  # fmt: skip

    asyncio.run(run())


def test_a_projected_crossing_is_looked_at_and_limited_at_the_cap(tmp_path, ledger_at, transport):
    async def run() -> None:
        plans = {"home": {**HOME, "cap": "500MB"}}
        async with rig(tmp_path, ledger=ledger_at, bras={"transport": transport}, plans=plans) as r:
            bras, clock, ledger, daemon, log = r.bras, r.clock, r.ledger, r.daemon, r.driver
            # alice downloads 1 MB/s without a pause; bob nothing.
            r.agent.before_reply = lambda: bras.show(clock.now(), int((clock.now() - T0) * MB), 0)
            await daemon.run(asyncio.Event(), cycles=3)
            # Cycle 2 at +300 s saw 300 MB at 1 MB/s: the cap is crossed at +500 s, before
            # cycle 3 at +600 s. Looks close in on it (each timed for 1.5 times the rate)
            # and the limit lands within one agent-cache gap (5 s = 5 MB) of the cap.
            assert 2 <= daemon.looks <= 6
            (limit,) = ledger.limits()
            assert limit.subscriber == "alice" and T0 + 500 <= limit.since <= T0 + 505
            (standing,) = [r for r in ledger.records.standings() if r.subscriber == "alice"]
            assert [lim.subscriber for lim in log.installed()] == ["alice"]
            # Without projection the limit would have waited for cycle 3: 100 MB later.
            assert standing.limited is True

    asyncio.run(run())


def test_without_projection_the_limit_waits_for_the_next_cycle(tmp_path, ledger_at):
    async def run() -> None:
        fixed = {"projection": False, "plans": {"home": {**HOME, "cap": "500MB"}}}

        async with rig(tmp_path, ledger=ledger_at, **fixed) as r:
            bras, clock, ledger, daemon = r.bras, r.clock, r.ledger, r.daemon
            r.agent.before_reply = lambda: bras.show(clock.now(), int((clock.now() - T0) * MB), 0)
            await daemon.run(asyncio.Event(), cycles=3)
            assert daemon.looks == 0
            (limit,) = ledger.limits()
            assert limit.since == T0 + 600

    asyncio.run(run())


def test_provisioned_subscribers_count_and_configured_exemptions_hold(tmp_path, ledger_at):
    async def run() -> None:
        exempt = {**SUBSCRIBERS, "bob": {"plan": "home", "exempt": True}}

        async with rig(tmp_path, ledger=ledger_at, subscribers=exempt) as r:
            bras, clock, ledger, daemon = r.bras, r.clock, r.ledger, r.daemon
            carol = SubscriberAdd(name="carol", plan="home", addresses=("10.0.0.3",))
            reply = await daemon.handle(carol, peer=None)
            assert reply["message"] == "subscriber carol saved"
            with pytest.raises(UsageError, match="bob is in the configuration file"):
                await daemon.handle(SubscriberAdd(name="bob", plan="home"), peer=None)
            with pytest.raises(UsageError, match="no plan named 'gold'"):
                await daemon.handle(SubscriberSet(name="carol", plan="gold"), peer=None)
            bras.show(clock.now(), 0, 0)
            await daemon.cycle()
            clock.advance(300)
            bras.show(clock.now(), 0, 9 * MB)  # bob over the cap, but exempt
            report = await daemon.cycle()
            assert report.limited == []  # bob exempt; carol not seen yet
            standing = {r.subscriber: r for r in ledger.records.standings()}
            assert str(standing["bob"].reason) == "exempt: exempt in the configuration"
            assert "carol" in standing
            await daemon.handle(SubscriberRemove(name="carol"), peer=None)
            assert ledger.records.provisioned() == []

    asyncio.run(run())


def test_warnings_and_limits_reach_the_notify_command_once_per_crossing(tmp_path):
    record = tmp_path / "told"

    async def run() -> None:
        async with rig(
            tmp_path, notify=notify_into(record, "{subscriber}", "{event}", "{percent}")
        ) as r:
            bras, clock, daemon = r.bras, r.clock, r.daemon
            for alice in (0, 850_000, 900_000, 1_200_000, 1_300_000):
                bras.show(clock.now(), alice, 0)
                await daemon.cycle()
                clock.advance(300)
            daemon.notifier.close()  # waits for the hooks in flight

    asyncio.run(run())
    assert sorted(told(record, 2)) == ["alice limited 120", "alice warning 80% 85"]


def test_a_plan_with_two_caps_limits_at_the_strictest_and_releases_in_order(
    tmp_path, ledger_at, capsys
):
    from nmsquota.cli import main

    async def run() -> None:
        hour = {"cap": "1MB", "window": "1h", "limit": {"rate": "64kbit"}}
        day = {"cap": "3MB", "window": "1d", "limit": {"rate": "8kbit"}}
        two_caps = {"caps": [hour, day]}

        async with rig(tmp_path, ledger=ledger_at, plans={"home": two_caps}) as r:
            bras, clock, ledger, daemon, log = r.bras, r.clock, r.ledger, r.daemon, r.driver

            def rates() -> dict[str, int | None]:
                return {limit.subscriber: limit.rate_bps for limit in log.installed()}

            seen = []
            for alice in (0, 1_200_000, 3_100_000):  # over the hour's cap, then the day's
                bras.show(clock.now(), alice, 0)
                await daemon.cycle()
                seen.append(rates())
                clock.advance(300)
            assert seen == [{}, {"alice": 64_000}, {"alice": 8_000}]
            assert ledger.limits()[0].reason == "over cap 1d: 3100000 of 3000000 bytes"
            assert main(status(r)) in (0, 1)
            out = capsys.readouterr().out
            lifts = f"lifts {local(T0 + 4200)}"  # the two samples gone an hour after the last
            assert f"cap 1h: 3.1 MB of 1.0 MB (310%), limited to 64kbit, {lifts}" in out
            assert "cap 1d: 3.1 MB of 3.0 MB (103%), limited to 8kbit" in out
            # usage too: each cap's limit, and how long until it lifts (from the last commit).
            assert main(usage(r)) == 0
            table = [line.split() for line in capsys.readouterr().out.splitlines()]
            assert table[0][-3:] == ["LIMIT", "LIFTS", "IN"]
            assert [row[-2:] for row in table[1:] if row[0] == "alice"] == [
                ["64kbit", "1h"], ["8kbit", "23h55m"]]  # fmt: skip
            assert {tuple(row[-2:]) for row in table[1:] if row[0] == "bob"} == {("-", "-")}
            assert main(usage(r, "--json")) == 0
            entry = json.loads(capsys.readouterr().out)["subscribers"][0]
            assert entry["name"] == "alice"
            assert [(c["cap_name"], c["rate"], c["lifts_at"]) for c in entry["caps"]] == [
                ("1h", 64_000, T0 + 4200), ("1d", 8_000, T0 + 300 + 86400)]  # fmt: skip
            weekly = Topup(subscriber="alice", size=10**6, cap="1w", reason="bought more")
            with pytest.raises(
                UsageError, match=r"^alice's plan has no cap '1w' \(its caps: 1h, 1d\)$"
            ):
                await daemon.handle(weekly, peer=None)
            # A top-up on the day's cap leaves the hour's in force: back to 64 kbit/s.
            reply = await daemon.handle(Topup(subscriber="alice", size=10**6, cap="1d",
                                                reason="bought more"), peer=None)  # fmt: skip
            assert reply["message"] == "topup alice on cap 1d until removed: bought more"
            assert rates() == {"alice": 64_000}
            clock.advance(3600)  # the hour rolls past: the day's cap (topped up) holds none
            bras.show(clock.now(), 3_100_000, 0)
            assert (await daemon.cycle()).limited == []
            assert main(usage(r)) == 0
            out = capsys.readouterr().out
            assert "home 1h" in out and "home 1d" in out

    asyncio.run(run())


def test_a_limit_that_does_not_bite_is_flagged_and_the_flag_clears_once_it_does(
    tmp_path, ledger_at, capsys, caplog
):
    """The log driver changes nothing on the wire: a limited subscriber keeps downloading at
    full speed, which is just what a rule on the wrong interface looks like."""
    from nmsquota.cli import main

    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            bras, clock, ledger, daemon, config = r.bras, r.clock, r.ledger, r.daemon, r.config
            reports = []
            # Limited at 2 MB (cap 1 MB, 3 kbit/s), then 2 MB more in each 5 minutes.
            for alice in (0, 2 * MB, 4 * MB, 6 * MB):
                bras.show(clock.now(), alice, 0)
                reports.append(await daemon.cycle())
                clock.advance(300)
            assert [r.not_effective for r in reports] == [[], [], [], ["alice"]]
            (record,) = [r for r in ledger.records.standings() if r.subscriber == "alice"]
            assert record.check is not None
            assert record.check.flagged and record.check.expected_bps == 3_000
            assert record.check.measured_bps == 2 * MB * 8 // 300
            assert "limit not effective on alice: measured 53.3kbit for 2 cycles" in caplog.text
            assert main(status(r)) == 1
            out = capsys.readouterr().out
            assert "LIMIT NOT EFFECTIVE: measured 53.3kbit, expected 3kbit" in out
            # The day's window lets the three 2 MB samples go at T0+300, +600, +900 a day on.
            assert f"lifts {local(T0 + 900 + 86400)} if nothing more is downloaded" in out
            # A restarted daemon still knows; then the limit bites (1.3 kbit/s): cleared.
            daemon = Daemon(config, clock, ledger, drivers=[make_driver("log", "log", {})])
            assert daemon.checks["alice"].flagged
            bras.show(clock.now(), 6 * MB, 0)
            await daemon.cycle()
            clock.advance(300)
            bras.show(clock.now(), 6 * MB + 50_000, 0)
            assert (await daemon.cycle()).not_effective == []
            assert "limit on alice effective again" in caplog.text

    caplog.set_level("INFO", logger="nmsquota")
    asyncio.run(run())


def test_a_step_before_the_cap_slows_first_and_the_cap_slows_further(tmp_path, ledger_at, capsys):
    from nmsquota.cli import main

    record = tmp_path / "told"
    notify = notify_into(record, "{event}", "step={step}", "rate={rate}")
    stepped = {"cap": "1MB", "window": "1d", "limit": {"rate": "8kbit"},
               "steps": [{"at": "80%", "rate": "1Mbit", "queue": "64KB"}]}  # fmt: skip

    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at, plans={"home": stepped}, notify=notify) as r:
            bras, clock, ledger, daemon, log = r.bras, r.clock, r.ledger, r.daemon, r.driver
            seen = []
            for alice in (0, 850_000, 900_000, 1_100_000):  # cap 1 MB a day
                bras.show(clock.now(), alice, 0)
                report = await daemon.cycle()
                seen.append(([(lim.rate_bps, lim.queue_bytes) for lim in log.installed()],
                             report.changed))  # fmt: skip
                if alice == 850_000:  # on the step: usage says which, and when it lifts
                    assert main(usage(r, "alice")) == 0
                    row = capsys.readouterr().out.splitlines()[1].split()
                    assert row[-4:] == ["1Mbit", "at", "80%", "1d"], row
                clock.advance(300)
            step, cap = (1_000_000, 64_000), (8_000, 10_000)
            assert seen == [([], []), ([step], ["alice"]), ([step], []), ([cap], ["alice"])]
            (limit,) = ledger.limits()
            assert limit.reason == "over cap: 1100000 of 1000000 bytes"
            daemon.notifier.close()  # waits for the hooks in flight

    asyncio.run(run())
    # Each step is its own notification, with the rate it brings.
    assert told(record, 2) == ["step 80% step=80% rate=1000000", "limited step= rate=8000"]


def test_a_cycle_that_overruns_its_slot_skips_the_missed_ones_and_counts_them(tmp_path, ledger_at):
    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            r.bras.show(r.clock.now(), 0, 0)
            reports = []

            def slow(report) -> None:  # type: ignore[no-untyped-def]
                reports.append(report)
                r.clock.advance(700)  # each cycle takes 700 s of its 300 s slot

            await r.daemon.run(asyncio.Event(), cycles=3, on_cycle=slow)
            # Due at +300, run at +700: the +300 and +600 slots go, the next is +900.
            assert [report.started - T0 for report in reports] == [0, 900, 1800]
            assert [report.skipped for report in reports] == [0, 2, 4]
            health = r.ledger.records.health()
            assert health is not None and health.skipped == 4

    asyncio.run(run())


def test_drift_is_kept_with_its_count_until_a_cycle_finds_none_also_over_a_restart(
    tmp_path, ledger_at, capsys
):
    from nmsquota.cli import main

    async def run() -> None:
        async with rig(tmp_path, ledger=ledger_at) as r:
            bras, clock, ledger, daemon, log = r.bras, r.clock, r.ledger, r.daemon, r.driver

            def drifting() -> DriftRecord | None:
                health = ledger.records.health()
                assert health is not None
                return health.drivers["log"].drifting

            bras.show(clock.now(), 0, 0)
            await daemon.cycle()
            clock.advance(300)
            bras.show(clock.now(), 3 * MB, 0)
            assert (await daemon.cycle()).limited == ["alice"] and drifting() is None
            for _ in range(2):  # another tool lifts alice's limit, cycle after cycle
                log.clear()
                clock.advance(300)
                bras.show(clock.now(), 3 * MB, 0)
                await daemon.cycle()
            missing = ("limit on alice [alice] was missing: reinstalled",)
            assert drifting() == DriftRecord(since=T0 + 600, cycles=2, lines=missing)
            assert main(status(r)) == 0  # drift being put right is not a failure
            assert f"driver log: drift (2 cycles since {local(T0 + 600)}" in capsys.readouterr().out

        # A restart: the first cycle finds a limit nobody wants, so the drift goes on.
        clock.advance(300)
        bras.show(clock.now(), 3 * MB, 0)
        with Ledger.open_writer(r.location, r.config.tallies()) as ledger:
            fresh = make_driver("log", "log", {})
            fresh.add([DriverLimit("mallory", ("10.9.9.9",))])
            daemon = Daemon(r.config, clock, ledger, drivers=[fresh])
            report = await daemon.cycle()
            assert report.drivers["log"]["drifting"] == {
                "since": T0 + 600, "cycles": 3,
                "lines": ["limit on mallory (10.9.9.9) found at start, not wanted: lifted"],
            }  # fmt: skip
            clock.advance(300)
            bras.show(clock.now(), 3 * MB, 0)
            assert (await daemon.cycle()).drivers["log"]["drifting"] is None  # whole: cleared
            assert main(status(r)) == 0 and "driver log: ok" in capsys.readouterr().out

    asyncio.run(run())
