"""A data directory for the console's screens: the recorded ledger of tests/fixtures/ledger-v0
(plans of one and two caps, steps, limits, overrides, a driver that fails, an access server
that does not answer, a limit that does not bite), with what that recording predates added
through the ledger API: access servers' records, events, a session. And a tiny host App
that mounts one screen and shows it a snapshot."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import REPO
from textual.app import App
from textual.screen import Screen

from nmsquota.config import load_config
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import (
    DeviceRecord,
    EventKind,
    EventRecord,
    MappingProblemRecord,
    SessionRecord,
)
from nmsquota.standings import Reader, Snapshot

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
"""2027-01-15 08:00 UTC, the recording's first cycle; its last is T0 + 3600."""
UTC = ZoneInfo("UTC")
STALE_MAP = MappingProblemRecord(entry='interfaces."ge-0/0/7"', kind="none",
                                 text="no interface named ge-0/0/7", since=T0 + 600,
                                 cycles=11)  # fmt: skip
BRAS = DeviceRecord(name="bras", host="127.0.0.1", snmp_version="2c", last_poll=T0 + 3600,
                    last_answer=T0 + 3600, latency=0.012, counter_bits=64, interfaces=6,
                    mapping=(STALE_MAP,))  # fmt: skip
OLD_BRAS = DeviceRecord(name="old-bras", host="127.0.0.2", snmp_version="1",
                        last_poll=T0 + 3600, last_answer=T0 + 1200, latency=2.0,
                        error="No SNMP response received before timeout", failures=3,
                        counter_bits=32, interfaces=0)  # fmt: skip
EVENTS = [
    EventRecord(time=T0 + 900, kind=EventKind.LIMIT_APPLIED, subscriber="alice",
                text="alice limited to 8kbit: over cap"),
    EventRecord(time=T0 + 1500, kind=EventKind.LIMIT_APPLIED, subscriber="carol",
                text="carol limited to 64kbit: over cap 1h"),
    EventRecord(time=T0 + 1800, kind=EventKind.OVERRIDE, subscriber="carol",
                text="topup carol 1.0 MB on cap 1d: bought more (by noc-anna)"),
    EventRecord(time=T0 + 2400, kind=EventKind.DEVICE_DOWN, device="old-bras",
                text="old-bras stopped answering"),
    EventRecord(time=T0 + 3000, kind=EventKind.SESSION_UP, subscriber="carol",
                device="bras", text="session up: carol on <pppoe-carol> at bras"),
    EventRecord(time=T0 + 3300, kind=EventKind.REPAIR, driver="shaper",
                text="limit on bob [10.0.0.2] was missing: reinstalled"),
]  # fmt: skip


def data_dir(tmp_path: Path) -> Path:
    """The recorded data directory, with devices, events and carol's session added."""
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    with Ledger.open_writer(tmp_path / "ledger") as ledger, ledger.batch():
        ledger.records.set_devices([BRAS, OLD_BRAS])
        ledger.records.add_events(EVENTS)
        ledger.records.set_sessions([SessionRecord(
            subscriber="carol", online=True, access_server="bras", interface="<pppoe-carol>",
            addresses=("100.64.0.9",), since=T0 + 3000)])  # fmt: skip
        health = ledger.records.health()
        assert health is not None
        ledger.records.set_health(replace(
            health, causes={"old-bras": "timeout"}, cpu=0.25, queued=2, capacity=1200,
            devices_skipped=("edge-3",)))  # fmt: skip
    return tmp_path


def reader_of(data: Path) -> Reader:
    return Reader.open(data / "ledger", load_config(data / "nmsquota.toml"))


def snapshot_of(data: Path) -> Snapshot:
    return reader_of(data).snapshot()


class Host(App[None]):
    """Pushes one screen and shows it a snapshot, as the console's app does."""

    def __init__(self, screen: Screen[None], snapshot: Snapshot) -> None:
        super().__init__()
        self.shown = screen
        self.first = snapshot

    def on_mount(self) -> None:
        self.push_screen(self.shown)
        self.shown.show(self.first)  # type: ignore[attr-defined]


Steps = Callable[[Host], Awaitable[None]]
