"""Regenerates the console's SVG screenshots in this directory from a demo's ledger:

    .venv/bin/python screenshots/make.py [DEMO_DIR]

DEMO_DIR is a directory `nmsquota demo --keep DIR` wrote; without it, a 3-day headless demo
(seed 2001) is run into a temporary directory first (about a minute).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from nmsquota.clock import SystemClock
from nmsquota.config import load_config
from nmsquota.console.app import ConsoleApp

HERE = Path(__file__).resolve().parent
SHOTS = {"subscribers.svg": (100, 30), "subscribers-80x24.svg": (80, 24)}


async def shoot(demo: Path, name: str, size: tuple[int, int]) -> None:
    config = load_config(demo / "nmsquota.toml")
    app = ConsoleApp(config, demo / "ledger", SystemClock(), refresh=3600)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))


def main(argv: list[str]) -> None:
    if argv:
        demo = Path(argv[0])
    else:
        demo = Path(tempfile.mkdtemp(prefix="nmsquota-shots-")) / "demo"
        subprocess.run([sys.executable, "-m", "nmsquota", "demo", "--headless", "--for", "3d",
                        "--keep", str(demo)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    for name, size in SHOTS.items():
        asyncio.run(shoot(demo, name, size))
        print(HERE / name)


if __name__ == "__main__":
    main(sys.argv[1:])
