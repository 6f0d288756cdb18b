"""The daemon's log tells of counter baselines, agent restarts and refused spikes: each once,
one line naming the access server, the interface, the subscriber and both clocks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from integration.test_daemon_cycle import MB, rig
from integration.test_daemon_readers import show_restarted

COUNTER_WORDS = ("counters baselined", "agent restarted", "more than the line carries")


def counter_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    records = [r for r in caplog.records if r.name == "nmsquota.daemon"]
    return [(r.levelno, r.getMessage()) for r in records
            if r.getMessage().startswith(COUNTER_WORDS)]  # fmt: skip


def test_counter_events_are_logged_once_with_where_and_both_clocks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        async with rig(tmp_path) as r:
            bras, clock, daemon = r.bras, r.clock, r.daemon
            bras.show(clock.now(), 1_000, 0)  # sysUpTime 1000 s
            await daemon.cycle()
            assert counter_lines(caplog) == [
                (logging.INFO, "counters baselined, nothing charged: alice on bras "
                 "<pppoe-alice> (ifIndex 7): first reading; poller 2027-01-15 08:00:00 UTC, "
                 "agent sysUpTime 1000.00s"),
                (logging.INFO, "counters baselined, nothing charged: bob on bras <pppoe-bob> "
                 "(ifIndex 8): first reading; poller 2027-01-15 08:00:00 UTC, agent sysUpTime "
                 "1000.00s"),
            ]  # fmt: skip
            caplog.clear()
            for _ in range(2):  # charged cycles: the baselines are not told again
                clock.advance(300)
                bras.show(clock.now(), 1_000 + MB // 10, 0)
                await daemon.cycle()
            assert counter_lines(caplog) == []

            clock.advance(300)
            show_restarted(bras, clock.now(), 500, uptime=3_000)  # up 30 s: it restarted
            await daemon.cycle()
            restarts = counter_lines(caplog)
            assert [level for level, _ in restarts] == [logging.WARNING] * 2
            assert restarts[0][1] == (
                "agent restarted, nothing charged: alice on bras <pppoe-alice> (ifIndex 7): "
                "sysUpTime went back from 160000 to 3000; "
                "poller 2027-01-15 08:15:00 UTC, agent sysUpTime 30.00s"
            )
            assert restarts[1][1].startswith("agent restarted, nothing charged: bob on bras")
            caplog.clear()

            clock.advance(11)  # the agent says 600 s passed: 1 TB is still refused
            show_restarted(bras, clock.now(), 500 + 10**12, uptime=3_000 + 60_000)
            await daemon.cycle()
            ((level, spike),) = counter_lines(caplog)
            assert level == logging.WARNING
            where = "alice on bras <pppoe-alice> (ifIndex 7)"
            assert spike.startswith(f"more than the line carries, refused: {where}: "
                                    "1000000000000 bytes in 11s")  # fmt: skip
            assert spike.endswith("poller 2027-01-15 08:15:11 UTC, agent sysUpTime 630.00s")

    caplog.set_level(logging.INFO, logger="nmsquota")
    asyncio.run(run())


def test_an_agent_restart_a_look_finds_is_logged_and_not_again_by_the_next_cycle(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        async with rig(tmp_path) as r:
            bras, clock, daemon = r.bras, r.clock, r.daemon
            bras.show(clock.now(), 1_000, 0)
            await daemon.cycle()
            caplog.clear()
            clock.advance(60)
            show_restarted(bras, clock.now(), 500, uptime=3_000)
            await daemon.look("alice")  # reads alice's row only
            ((level, line),) = counter_lines(caplog)
            assert level == logging.WARNING
            assert line.startswith("agent restarted, nothing charged: alice on bras")
            assert line.endswith("poller 2027-01-15 08:01:00 UTC, agent sysUpTime 30.00s")
            caplog.clear()
            clock.advance(240)
            show_restarted(bras, clock.now(), 600, uptime=3_000 + 24_000)
            await daemon.cycle()  # alice charged from the look's baseline; bob's restart
            assert [line.split(":")[1] for _, line in counter_lines(caplog)] == [
                " bob on bras <pppoe-bob> (ifIndex 8)"
            ]

    caplog.set_level(logging.INFO, logger="nmsquota")
    asyncio.run(run())
