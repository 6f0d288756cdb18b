"""Every POP's last cycle as `nmsquota status` and the check plugin tell it, from two
in-process POP daemons on one PostgreSQL ledger (issue 24; test_pops.py has the daemons):
both POPs listed, who decides; a POP whose daemon stopped named stale, with the sessions on
its access servers that nobody counts; a POP whose daemon runs another plan named."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from integration.test_pops import T0, pop
from unit.test_check_plugin import CRITICAL, OK, WARNING, perfdata

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.nms.check import main as check_main


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


def status(capsys: pytest.CaptureFixture[str], config: Path, now: float) -> tuple[int, list[str]]:
    code = main(["-c", str(config), "status"], clock=ManualClock(now))
    return code, [line for line in capsys.readouterr().out.splitlines() if line.startswith("POP")]


def poller(capsys: pytest.CaptureFixture[str], config: Path, now: float) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        check_main(["poller", "--config", str(config)], now=now)
    return int(exited.value.code or 0), capsys.readouterr().out.splitlines()[0]


def test_status_and_the_check_name_a_pop_whose_daemon_stopped_or_runs_other_plans(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: str
) -> None:
    config = tmp_path / "adelaide" / "nmsquota.toml"

    async def run() -> None:
        clock = ManualClock(T0)
        async with pop(tmp_path, "adelaide", database, clock) as a:
            async with pop(tmp_path, "darwin", database, clock) as d:
                a.show(clock.now(), {7: ("alice", 0)})
                d.show(clock.now(), {3: ("bob", 0)})
                await a.daemon.cycle()  # the first to ask decides
                await d.daemon.cycle()
                code, lines = status(capsys, config, clock.now() + 60)
                assert code == 0
                assert [line.split(";")[0] for line in lines] == [
                    "POP adelaide: deciding, cycle 1 1m ago",
                    "POP darwin: following, cycle 1 1m ago",
                ]
                code, line = poller(capsys, config, clock.now() + 60)
                assert code == OK and "POPs: 2, deciding: adelaide |" in line
            # Darwin's daemon is gone; Adelaide cycles on past three intervals.
            for _ in range(4):
                clock.advance(300)
                a.show(clock.now(), {7: ("alice", 0)})
                await a.daemon.cycle()
            code, lines = status(capsys, config, clock.now() + 60)
            assert code == 1
            assert lines[1] == (
                "POP darwin: following, cycle 1 21m ago; access servers: 1 ok, 0 failed; STALE "
                "(its daemon down?): 1 sessions on its access servers not counted"
            )
            code, line = poller(capsys, config, clock.now() + 60)
            # bob's session at Darwin goes uncounted: as for a single daemon stopped.
            assert code == CRITICAL
            assert line.startswith("NMSQUOTA CRITICAL: POP darwin stale: its last cycle (1) "
                                   "was 21m ago (its daemon down?), 1 sessions")  # fmt: skip
            assert perfdata(line)["pops_stale"] == "1;;;0;2"
            # Darwin comes back with a larger cap than Adelaide, which decides, runs.
            async with pop(tmp_path, "darwin", database, clock, cap="2MB") as back:
                back.show(clock.now(), {3: ("bob", 0)})
                await back.daemon.cycle()
                code, lines = status(capsys, config, clock.now() + 60)
                assert code == 1
                assert lines[1] == (
                    "POP darwin: following, cycle 1 1m ago; access servers: 1 "
                    "ok, 0 failed; runs other plans than the deciding POP"
                )
                code, line = poller(capsys, config, clock.now() + 60)
                assert code == WARNING
                assert line.startswith("NMSQUOTA WARNING: POP darwin runs other plans or "
                                       "subscribers than the deciding POP; cycle")  # fmt: skip
                assert perfdata(line)["pops_other_plans"] == "1;;;0;2"

    asyncio.run(run())
