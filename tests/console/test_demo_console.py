"""`nmsquota demo` on a terminal: the console opens on the demo's ledger while the demo runs
in the background, and quitting it stops the demo and prints the summary; with --headless,
or without a terminal, the printed summary as before (tests/integration/test_demo.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nmsquota import cli
from nmsquota.commands import demo
from nmsquota.console.app import ConsoleApp
from nmsquota.console.subscribers import SubscribersScreen
from nmsquota.sim.demo import START


def seen_on_screen(app: ConsoleApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, SubscribersScreen)
    table = screen.table
    return sorted(table.cells(key)[0] for key in table.keys)


def test_on_a_terminal_the_console_shows_the_demo_and_q_stops_it_with_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "on_terminal", lambda: True)
    opened: list[ConsoleApp] = []
    shown: list[list[str]] = []

    def under_pilot(app: ConsoleApp) -> None:
        async def operator() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                deadline = time.monotonic() + 30
                while not (app.snapshot and app.snapshot.cycle) and time.monotonic() < deadline:
                    await pilot.pause(0.1)
                await app.workers.wait_for_complete()
                await pilot.pause()
                shown.append(seen_on_screen(app))
                await pilot.press("q")

        opened.append(app)
        asyncio.run(operator())

    monkeypatch.setattr(demo, "run_console", under_pilot)
    keep = tmp_path / "demo"
    began = time.monotonic()
    # A week at an hour a second would take three minutes: q ends it long before.
    code = cli.main(["demo", "--for", "7d", "--speed", "3600", "--keep", str(keep)])
    took = time.monotonic() - began
    out = capsys.readouterr().out

    assert code == 0
    (app,) = opened
    assert app.directory == keep / "ledger" and app.config is not None
    # On the demo's clock, in its time zone: ages are simulated time's.
    assert app.clock.now() >= START and str(app.zone) == "Australia/Adelaide"
    # The demo's twelve subscribers, after its first cycle.
    assert len(shown[0]) == 12 and "biguser" in shown[0]
    assert took < 60
    assert "cycles polled over SNMP" in out and "DAY" in out
    assert "Mon 13 Aug 00:00  biguser limited to 3kbit, cap 7d" in out
    assert "Tue 14 Aug" not in out  # stopped on the first day, not at the week's end
    assert f"The ledger and configuration stay in {keep}" in out
    assert (keep / "ledger").is_dir()


def never(app: ConsoleApp) -> None:
    raise AssertionError("the console opened")


def test_headless_on_a_terminal_prints_the_summary_without_a_console(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "on_terminal", lambda: True)
    monkeypatch.setattr(demo, "run_console", never)
    assert cli.main(["demo", "--headless", "--for", "2h"]) == 0
    out = capsys.readouterr().out
    assert "cycles polled over SNMP" in out and "biguser limited to 3kbit" in out


def test_without_a_terminal_the_live_lines_and_the_summary_as_before(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "on_terminal", lambda: False)
    monkeypatch.setattr(demo, "run_console", never)
    assert cli.main(["demo", "--for", "2h", "--speed", "36000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2h of simulated time at 36000x (Ctrl-C stops)")
    assert "cycles polled over SNMP" in out
