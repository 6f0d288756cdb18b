"""What the subscribers screen looks like on the fixed ledger, at 100x30 and at 80x24, in
the dark and the light theme (pytest-textual-snapshot; `--snapshot-update` rewrites the SVGs
in __snapshots__/ after a change that is meant)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.conftest import NOW, STALE_AT, console_app, settled
from nmsquota.console.app import ConsoleApp

Compare = Callable[..., bool]


def read_first(theme: str | None = None) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        if theme is not None:
            app.theme = theme
        await settled(app, pilot)

    return run_before


def test_the_subscribers_screen_at_100x30(console_data: Path, snap_compare: Compare) -> None:
    app = console_app(console_data, now=NOW)
    assert snap_compare(app, terminal_size=(100, 30), run_before=read_first())


def test_the_subscribers_screen_at_80x24(console_data: Path, snap_compare: Compare) -> None:
    app = console_app(console_data, now=NOW)
    assert snap_compare(app, terminal_size=(80, 24), run_before=read_first())


def test_the_subscribers_screen_in_the_light_theme_with_the_stale_banner(
    console_data: Path, snap_compare: Compare
) -> None:
    app = console_app(console_data, now=STALE_AT)
    assert snap_compare(app, terminal_size=(100, 30), run_before=read_first("textual-light"))


@pytest.mark.parametrize("keys", [["f"], ["slash", "b", "r", "a", "s", "-"]])
def test_the_subscribers_screen_filtered(
    console_data: Path, snap_compare: Compare, keys: list[str]
) -> None:
    app = console_app(console_data, now=NOW)
    assert snap_compare(app, terminal_size=(100, 30), press=keys, run_before=read_first())


@pytest.mark.parametrize(
    "keys",
    [["2"], ["3"], ["4"], ["down", "enter"], ["down", "enter", "o"], ["down", "T"]],
    ids=["access-servers", "drivers", "events", "detail", "detail-overrides", "top-up-dialog"],
)
def test_every_other_screen_at_100x30(
    console_data: Path, snap_compare: Compare, keys: list[str]
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        await settled(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settled(app, pilot)  # the detail reads its samples in a worker
        # A focused input's cursor blinks every half second: on a loaded machine the picture
        # was taken with it off as often as on. Steady, it is drawn.
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    app = console_app(console_data, now=NOW)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
