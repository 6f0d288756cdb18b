"""Regenerates the report screenshots in this directory from a demo's ledger, through the
commands themselves:

    .venv/bin/python screenshots/make_reports.py [DEMO_DIR]

DEMO_DIR is a directory `nmsquota demo --keep DIR` wrote; without it, a week's headless demo
(seed 2001) is run into a temporary directory first (under a minute). It writes
report-subscriber.svg (the demo's biggest user, limited at both caps of the plan) and
report-operator-*.svg (the four operator graphs).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nmsquota.cli import main

HERE = Path(__file__).resolve().parent
SUBSCRIBER = "biguser"


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
