"""Regenerates pops.svg: the console on a ledger two POPs' daemons share (issue 24), with
a line per POP under the counts and the banner naming the POP whose daemon stopped:

    .venv/bin/python screenshots/make_pops.py

The ledger is tests/fixtures/pops_ledger.py's (Adelaide deciding and cycling, Darwin's
daemon stopped 16 minutes ago with two sessions on its access server, running another
plan), written into a throwaway PostgreSQL server (tests/fixtures/postgres.py: Debian's
PostgreSQL, a Unix socket in a temporary directory, no TCP), as the console tests do.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.app import ConsoleApp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

NAME = "pops.svg"
SIZE = (100, 30)


async def shoot(url: str, data: Path) -> None:
    from fixtures.pops_ledger import NOW, PopCycle, configured, write_pops

    write_pops(url, [
        PopCycle("adelaide", deciding=True, online=("alice",)),
        PopCycle("darwin", age=3 * 300 + 60, online=("bob", "carol"), other_plans=True),
    ])  # fmt: skip
    config = load_config(configured(data, url))
    app = ConsoleApp(config, data / "local", ManualClock(NOW + 30), zone=ZoneInfo("UTC"),
                     refresh=3600, location=url)  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=NAME, path=str(HERE))


def main() -> None:
    from fixtures import postgres

    with (
        postgres.running_server() as server,
        postgres.fresh_ledger_database(server) as url,
        tempfile.TemporaryDirectory() as data,
    ):
        asyncio.run(shoot(url, Path(data)))
    print(HERE / NAME)


if __name__ == "__main__":
    main()
