"""Regenerates screenshots/action.svg: the console's action dialog at 80x24, at the
confirmation of a top-up (nothing is performed). Run: .venv/bin/python screenshots/action.py"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from textual.app import App

from nmsquota.actions import Performer
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.actions import ActionScreen

HERE = Path(__file__).resolve().parent
CONFIG = """
data_dir = "{data}"

[plans.home]
caps = [{{ cap = "1GB", window = "1d" }}, {{ cap = "20GB", window = "30d" }}]

[subscribers.carol]
plan = "home"
"""


class Host(App[None]):
    """The dialog over an empty screen, as the console pushes it."""

    TITLE = "nmsquota console"

    def __init__(self, performer: Performer) -> None:
        super().__init__()
        self.performer = performer

    def on_mount(self) -> None:
        self.push_screen(ActionScreen("topup", "carol"))


async def shoot(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="nq-shot-") as directory:
        path = Path(directory) / "nmsquota.toml"
        path.write_text(CONFIG.format(data=Path(directory) / "ledger"))
        config = load_config(path)
        app = Host(Performer(config, config.data_dir, ManualClock(1_800_000_000)))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for keys in ("5GB", "tab", "bought", "tab", "7d", "enter"):
                await pilot.press(*([keys] if keys in ("tab", "enter") else list(keys)))
            await pilot.pause()
            app.save_screenshot(filename=out.name, path=str(out.parent))


if __name__ == "__main__":
    asyncio.run(shoot(HERE / "action.svg"))
