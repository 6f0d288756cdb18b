"""Regenerates the SVG screenshots of the console's access-server, driver, event and
subscriber-detail screens (80x24) against a demo ledger:

    .venv/bin/python screenshots/screens.py [DEMO_DIR]

DEMO_DIR holds a `nmsquota demo --keep` run; without it one is made (three simulated days,
headless, about a minute). The subscriber shown in detail is the demo's most limited one.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from textual.app import App
from textual.screen import Screen

from nmsquota.config import load_config
from nmsquota.console.detail import SubscriberDetail
from nmsquota.console.devices import DevicesScreen
from nmsquota.console.drivers import DriversScreen
from nmsquota.console.events import EventsScreen
from nmsquota.standings import Reader, Snapshot

HERE = Path(__file__).resolve().parent
SIZE = (80, 24)


class Host(App[None]):
    def __init__(self, screen: Screen[None], snapshot: Snapshot, theme: str) -> None:
        super().__init__()
        self.shown, self.first, self.chosen = screen, snapshot, theme

    def on_mount(self) -> None:
        self.theme = self.chosen
        self.push_screen(self.shown)
        self.shown.show(self.first)  # type: ignore[attr-defined]


async def save(screen: Screen[None], snapshot: Snapshot, name: str, theme: str) -> None:
    app = Host(screen, snapshot, theme)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
    print(f"screenshots/{name}.svg")


def demo_dir(argv: list[str]) -> Path:
    if argv:
        return Path(argv[0])
    target = Path(tempfile.mkdtemp(prefix="nmsquota-demo-"))
    command = [sys.executable, "-m", "nmsquota", "demo", "--headless", "--for", "3d",
               "--keep", str(target)]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return target


async def main(argv: list[str]) -> None:
    data = demo_dir(argv)
    config = load_config(data / "nmsquota.toml")
    reader = Reader.open(data / "ledger", config)
    snapshot = reader.snapshot()
    zone = ZoneInfo(config.settings.timezone)
    limited = snapshot.limited or snapshot.subscribers
    who = limited[0].name
    await save(DevicesScreen(zone=zone), snapshot, "devices", "textual-dark")
    await save(DriversScreen(zone=zone), snapshot, "drivers", "textual-dark")
    await save(EventsScreen(zone=zone), snapshot, "events", "textual-dark")
    await save(SubscriberDetail(who, lambda: reader, zone=zone), snapshot, "detail",
               "textual-dark")  # fmt: skip
    await save(SubscriberDetail(who, lambda: reader, zone=zone), snapshot, "detail-light",
               "textual-light")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
