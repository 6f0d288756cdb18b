"""Regenerates every SVG screenshot of the console in this directory from a demo's ledger,
through the whole application (header, banner, footer and all), reached by its own keys:

    .venv/bin/python screenshots/make.py [DEMO_DIR]

DEMO_DIR is a directory `nmsquota demo --keep DIR` wrote; without it, a 3-day headless demo
(seed 2001) is run into a temporary directory first (about a minute). The demo's clock is
used, so the ages shown are those at the demo's end.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.app import ConsoleApp
from nmsquota.standings import Reader

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    theme: str = "textual-dark"


SHOTS = (
    Shot("subscribers.svg", (100, 30)),
    Shot("subscribers-80x24.svg", (80, 24)),
    Shot("devices.svg", (100, 30), ("2",)),
    Shot("drivers.svg", (100, 30), ("3",)),
    Shot("events.svg", (100, 30), ("4",)),
    # The first row: the screen opens sorted by state, the limited first.
    Shot("detail.svg", (100, 30), ("enter",)),
    Shot("detail-light.svg", (100, 30), ("enter",), "textual-light"),
    Shot("action.svg", (100, 30), ("T",)),
)


async def shoot(demo: Path, shot: Shot) -> None:
    config = load_config(demo / "nmsquota.toml")
    as_of = Reader.open(demo / "ledger", config).as_of or 0
    app = ConsoleApp(
        config,
        demo / "ledger",
        ManualClock(float(as_of)),
        zone=ZoneInfo(config.settings.timezone),
        refresh=3600,
    )
    async with app.run_test(size=shot.size) as pilot:
        app.theme = shot.theme
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in shot.keys:
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot(filename=shot.name, path=str(HERE))


def main(argv: list[str]) -> None:
    if argv:
        demo = Path(argv[0])
    else:
        demo = Path(tempfile.mkdtemp(prefix="nmsquota-shots-")) / "demo"
        subprocess.run([sys.executable, "-m", "nmsquota", "demo", "--headless", "--for", "3d",
                        "--keep", str(demo)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    for shot in SHOTS:
        asyncio.run(shoot(demo, shot))
        print(HERE / shot.name)


if __name__ == "__main__":
    main(sys.argv[1:])
