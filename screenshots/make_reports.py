"""Regenerates the report screenshots in this directory from a demo's ledger, through the
commands themselves:

    .venv/bin/python screenshots/make_reports.py [DEMO_DIR]

DEMO_DIR is a directory `nmsquota demo --keep DIR` wrote; without it, a week's headless demo
(seed 2001) is run into a temporary directory first (under a minute). It writes
report-subscriber.svg (the demo's biggest user, limited at both caps of the plan) and
report-operator-*.svg (the four operator graphs), and PNGs of the static site as headless
Chromium shows it (tests/fixtures/browser.py, no network): report-page.png (the biggest
user's page) and report-index.png (the operator's index).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from nmsquota.cli import main
from nmsquota.config import load_config
from nmsquota.report.site import write_site
from nmsquota.standings import Reader

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
SUBSCRIBER = "biguser"
SECRET = "screenshots-only-secret-0123456789"


def shoot(demo: Path) -> None:
    config = str(demo / "nmsquota.toml")
    out = HERE / "report-subscriber.svg"
    if main(["-c", config, "report", "subscriber", SUBSCRIBER, "-o", str(out)]):
        raise SystemExit("report subscriber failed")
    with tempfile.TemporaryDirectory() as scratch:
        if main(["-c", config, "report", "operator", "-o", scratch]):
            raise SystemExit("report operator failed")
        for svg in sorted(Path(scratch).glob("*.svg")):
            shutil.copy(svg, HERE / f"report-operator-{svg.name}")
    shoot_site(demo)


def shoot_site(demo: Path) -> None:
    from fixtures.browser import render

    reader = Reader.open(demo / "ledger", load_config(demo / "nmsquota.toml", check_drivers=False))
    with tempfile.TemporaryDirectory() as scratch:
        written = write_site(Path(scratch) / "site", reader, SECRET, ZoneInfo("UTC"))
        for page, name in ((written.pages[SUBSCRIBER], "report-page.png"),
                           (written.index, "report-index.png")):  # fmt: skip
            shot = render(page, width=900, height=900, full_page=True)
            (HERE / name).write_bytes(shot.screenshot)


def run() -> None:
    if len(sys.argv) > 1:
        shoot(Path(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        demo = Path(scratch) / "demo"
        command = [sys.executable, "-m", "nmsquota", "demo", "--headless", "--keep", str(demo)]
        subprocess.run([*command, "--seed", "2001"], check=True, stdout=subprocess.DEVNULL)
        shoot(demo)


if __name__ == "__main__":
    run()
