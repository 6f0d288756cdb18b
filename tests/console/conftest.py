"""The console's fixed simulated ledger: a daemon's morning (tests/fixtures/ledger-v0,
recorded from a real daemon on the in-process agent) with sessions and access servers added,
so that every state a subscriber row can show is in it:

    alice  limited, and measured not to bite (limit not effective); online on bras
    bob    exempt (configuration)
    carol  limited on the hour's cap of two (fair plan), topped-up day cap; offline
    dave   warned, exempt by an override; online on bras
    erin   forced by an operator; no session
    frank  provisioned in the ledger, on a step; online on bras-2
    gina   on the step at 80%; online on bras

Its last cycle (13) started at T0 + 3600, every 5 minutes; at NOW it is a minute old, and
from STALE_AT on it is stale. tests/console/__init__.py exists because a second conftest.py
without a package would take the name `conftest` from tests/conftest.py (`from conftest
import REPO` elsewhere would then fail).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO
from textual.pilot import Pilot

from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.app import ConsoleApp
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import DeviceRecord, SessionRecord
from nmsquota.standings import Reader, Snapshot

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
NOW = T0 + 12 * 300 + 60
"""A minute after the last cycle."""
STALE_AT = T0 + 12 * 300 + 3 * 300 + 1
"""Just over three intervals after the last cycle: `status` calls it stale from here."""
SIZE = (100, 30)

SESSIONS = (
    SessionRecord(subscriber="alice", online=True, access_server="bras",
                  interface="<pppoe-alice>", addresses=("10.60.1.2",), since=T0),
    SessionRecord(subscriber="carol", online=False, access_server="bras",
                  interface="<pppoe-carol>", seen=T0 + 3000),
    SessionRecord(subscriber="dave", online=True, access_server="bras",
                  interface="<pppoe-dave>", addresses=("10.60.1.4",), since=T0 + 600),
    SessionRecord(subscriber="frank", online=True, access_server="bras-2",
                  interface="<pppoe-frank>", addresses=("10.60.1.6",), since=T0 + 900),
    SessionRecord(subscriber="gina", online=True, access_server="bras",
                  interface="<pppoe-gina>", addresses=("10.60.1.7",), since=T0 + 1200),
)  # fmt: skip
DEVICES = (
    DeviceRecord(name="bras", host="127.0.0.1", snmp_version="2c", last_poll=T0 + 3600,
                 last_answer=T0 + 3600, latency=0.02, counter_bits=64, interfaces=6),
)  # fmt: skip


@pytest.fixture
def console_data(tmp_path: Path) -> Path:
    """A data directory: `ledger/` and `nmsquota.toml` (the fixture's, Europe/Berlin)."""
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    with Ledger.open_writer(tmp_path / "ledger") as ledger, ledger.batch():
        ledger.records.set_sessions(SESSIONS)
        ledger.records.set_devices(DEVICES)
    return tmp_path


def reader_of(data: Path) -> Reader:
    return Reader.open(data / "ledger", load_config(data / "nmsquota.toml"))


@pytest.fixture
def console_snapshot(console_data: Path) -> Snapshot:
    """The fixture's snapshot, for a screen tested alone (`screen.show(snapshot)`)."""
    return reader_of(console_data).snapshot()


def console_app(data: Path, now: float = NOW, refresh: float = 3600.0) -> ConsoleApp:
    """The console on the fixture, on a fixed clock. The refresh interval is long, so that
    a test reads the ledger again only when it says so (`app.refresh_now()`)."""
    config = load_config(data / "nmsquota.toml")
    return ConsoleApp(config, data / "ledger", ManualClock(now), zone=ZoneInfo("Europe/Berlin"),
                      refresh=refresh)  # fmt: skip


Script = Callable[[ConsoleApp, Pilot[None]], Awaitable[None]]


def drive(app: ConsoleApp, script: Script, size: tuple[int, int] = SIZE) -> None:
    """Run `script` against the app under Textual's pilot, once its first snapshot is shown
    (a plain asyncio.run: the suite has no pytest-asyncio)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settled(app, pilot)
            await script(app, pilot)

    asyncio.run(main())


async def settled(app: ConsoleApp, pilot: Pilot[None]) -> None:
    """Every read finished and its snapshot shown."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
