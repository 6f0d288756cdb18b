"""The console's action dialog (nmsquota.console.actions.ActionScreen), driven as an operator
drives it: each action asks its fields, confirms, and acts through a real Performer, on a
ledger no daemon serves or through a running daemon's control socket; cancelling or a bad
value changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from fixtures.config_file import WriteConfig
from integration.test_control_daemon import running
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static

from nmsquota.actions import Performer, action_request
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.console.actions import ActionScreen
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import OverrideRecord

NOW = 1_800_000_000
ROSTER = {
    "plans": {"home": {"caps": [{"cap": "1GB", "window": "1d"}, {"cap": "20GB", "window": "30d"}]}},
    "subscribers": {"carol": {"plan": "home"}, "bob": {"plan": "home"}},
}


class Host(App[None]):
    """The least of the console the dialog needs: `performer`, and a screen to return to."""

    def __init__(self, performer: Performer, screen: ActionScreen) -> None:
        super().__init__()
        self.performer = performer
        self.dialog = screen
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


Steps = Callable[[Pilot[None], ActionScreen], Awaitable[None]]


def drive(performer: Performer, screen: ActionScreen, steps: Steps,
          size: tuple[int, int] = (100, 30)) -> list[str | None]:  # fmt: skip
    """Runs the dialog on a host app through `steps`; what it was dismissed with."""
    host = Host(performer, screen)

    async def run() -> None:
        async with host.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(pilot, screen)

    asyncio.run(run())
    return host.results


async def fill(pilot: Pilot[None], screen: ActionScreen, **values: str) -> None:
    """Types each value into its field (by id), as keys, then presses enter."""
    for field, text in values.items():
        screen.query_one(f"#{field}", Input).focus()
        await pilot.press(*["space" if char == " " else char for char in text])
    await pilot.press("enter")
    await pilot.pause()


async def confirm(pilot: Pilot[None]) -> None:
    await pilot.press("y")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown(screen: ActionScreen, line: str) -> str:
    """What the line (#question, #answer, #error, #title) shows, "" when it is hidden."""
    widget = screen.query_one(f"#{line}", Static)
    return str(widget.render()) if widget.display else ""


@pytest.fixture
def performer(config_file: WriteConfig) -> Performer:
    """A performer on a ledger no daemon serves (and not made yet: anything written shows)."""
    config = load_config(config_file(**ROSTER))
    return Performer(config, config.data_dir, ManualClock(NOW), author="ops")


def overrides(performer: Performer) -> list[OverrideRecord]:
    return Ledger.open_reader(performer.directory).records.overrides()


@pytest.mark.parametrize(
    ("kind", "values", "question", "record"),
    [
        ("limit", {"reason": "abuse, ticket 17", "duration": "2h"},
         "Limit carol for 2h: abuse, ticket 17? [y/n]",
         OverrideRecord(subscriber="carol", kind="force", reason="abuse, ticket 17", since=NOW,
                        until=NOW + 7200, bytes=0, author="ops")),
        ("exempt", {"reason": "the mayor", "cap": "1d"},
         "Exempt carol on cap 1d until removed: the mayor? [y/n]",
         OverrideRecord(subscriber="carol", kind="exempt", reason="the mayor", since=NOW,
                        until=None, bytes=0, cap="1d", author="ops")),
        ("topup", {"amount": "5GB", "reason": "bought", "duration": "7d"},
         "Top up carol by 5.0 GB for 7d: bought? [y/n]",
         OverrideRecord(subscriber="carol", kind="topup", reason="bought", since=NOW,
                        until=NOW + 7 * 86400, bytes=5_000_000_000, author="ops")),
    ],
)  # fmt: skip
def test_an_override_is_confirmed_then_written_and_the_answer_shown(
    performer: Performer, kind: str, values: dict[str, str], question: str,
    record: OverrideRecord,
) -> None:  # fmt: skip
    seen: dict[str, object] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, **values)
        seen["question"] = shown(screen, "question")
        seen["written before yes"] = performer.directory.exists()
        await confirm(pilot)
        seen["answer"] = shown(screen, "answer")
        await pilot.press("enter")

    results = drive(performer, ActionScreen(kind, "carol"), steps)  # type: ignore[arg-type]
    assert seen["question"] == question
    assert seen["written before yes"] is False
    (message,) = results
    assert message is not None and message == seen["answer"]
    assert message.endswith(": applied at its next start)")
    assert overrides(performer) == [record]


def test_a_release_needs_no_reason_and_drops_the_force_overrides(performer: Performer) -> None:
    performer.perform(action_request("limit", "carol", reason="set up"))
    seen: dict[str, str] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen)
        seen["question"] = shown(screen, "question")
        await confirm(pilot)
        await pilot.press("escape")  # after it was done, escape closes: not a cancel

    results = drive(performer, ActionScreen("release", "carol"), steps)
    assert seen["question"] == "Release carol (drop their force overrides)? [y/n]"
    assert results == ["1 force override(s) of carol removed (no daemon running: applied at "
                       "its next start)"]  # fmt: skip
    assert overrides(performer) == []


def test_an_override_is_removed_by_its_id(performer: Performer) -> None:
    performer.perform(action_request("exempt", "carol", reason="set up"))
    (exempt,) = overrides(performer)
    seen: dict[str, str] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        seen["title"] = shown(screen, "title")
        await fill(pilot, screen, reason="term ended")
        seen["question"] = shown(screen, "question")
        await confirm(pilot)
        await pilot.press("enter")

    results = drive(performer, ActionScreen("remove", "carol", exempt.id), steps)
    assert seen["title"] == f"Remove override {exempt.id} of carol"
    assert seen["question"] == f"Remove override {exempt.id}: term ended? [y/n]"
    assert results == [f"removed {exempt.id} (exempt carol until removed): term ended (no "
                       "daemon running: applied at its next start)"]  # fmt: skip
    assert overrides(performer) == []


@pytest.mark.parametrize(
    "keys",
    [["escape"], ["enter", "escape"], ["enter", "n", "escape"]],
    ids=["in the form", "at the confirmation", "after going back to the form"],
)
def test_cancelling_changes_nothing(performer: Performer, keys: list[str]) -> None:
    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        screen.query_one("#reason", Input).value = "abuse"
        await pilot.press(*keys)
        await pilot.pause()

    assert drive(performer, ActionScreen("limit", "carol"), steps) == [None]
    assert not performer.directory.exists()


@pytest.mark.parametrize(
    ("kind", "values", "error", "field"),
    [
        ("limit", {"reason": "abuse", "duration": "2 fortnights"},
         "for: expected a duration such as", "duration"),
        ("limit", {"reason": "abuse", "duration": "0s"}, "for: expected more than 0", "duration"),
        ("topup", {"amount": "lots", "reason": "bought"}, "size: ", "amount"),
        ("topup", {"reason": "bought"}, "size: ", "amount"),
        ("exempt", {"reason": "   "}, "reason: expected a reason", "reason"),
        ("limit", {}, "reason: expected a reason", "reason"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_on_the_field_and_changes_nothing(
    performer: Performer, kind: str, values: dict[str, str], error: str, field: str
) -> None:
    seen: dict[str, object] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, **values)
        seen["error"] = shown(screen, "error")
        seen["question"] = shown(screen, "question")
        seen["focused"] = screen.focused.id if screen.focused is not None else None
        await pilot.press("y", "escape")  # "y" is typed into the field: nothing to confirm

    assert drive(performer, ActionScreen(kind, "carol"), steps) == [None]  # type: ignore[arg-type]
    assert str(seen["error"]).startswith(error) and "\n" not in str(seen["error"])
    assert (seen["question"], seen["focused"]) == ("", field)
    assert not performer.directory.exists()


@pytest.mark.parametrize(
    ("name", "title"),
    [("bob\nlimit carol", "Limit bob\\x0alimit carol"), ("carol smith", "Limit carol smith"),
     ("[b]carol[/b]", "Limit [b]carol[/b]")],
)  # fmt: skip
def test_a_subscriber_name_is_data_shown_as_typed_and_refused_as_no_name(
    performer: Performer, name: str, title: str
) -> None:
    seen: dict[str, str] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        seen["title"] = shown(screen, "title")
        await fill(pilot, screen, reason="abuse")
        seen["error"] = shown(screen, "error")
        seen["question"] = shown(screen, "question")
        await pilot.press("escape")

    assert drive(performer, ActionScreen("limit", name), steps) == [None]
    assert seen["title"] == title
    assert seen["error"].startswith("subscriber: expected a subscriber name")
    assert seen["question"] == ""
    assert not performer.directory.exists()


def test_a_refusal_is_shown_in_one_line_and_the_form_comes_back(performer: Performer) -> None:
    performer.perform(action_request("limit", "carol", reason="set up"))
    state = performer.directory / "state.json"
    before = state.read_bytes()
    seen: dict[str, object] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, reason="typo")
        await confirm(pilot)
        seen["error"] = shown(screen, "error")
        seen["answer"] = shown(screen, "answer")
        await pilot.press("enter")  # back to the form, to fix it
        seen["editable"] = not screen.query_one("#reason", Input).disabled
        await pilot.press("escape")

    assert drive(performer, ActionScreen("exempt", "dave"), steps) == [None]
    assert str(seen["error"]).startswith("no subscriber named 'dave'")
    assert (seen["answer"], seen["editable"]) == ("", True)
    assert state.read_bytes() == before


def test_the_largest_dialog_fits_80x24(performer: Performer) -> None:
    seen: dict[str, int] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, amount="5GB", reason="bought")
        seen["bottom"] = screen.query_one("#hint", Static).region.bottom
        seen["question"] = screen.query_one("#question", Static).region.height
        await pilot.press("escape")

    drive(performer, ActionScreen("topup", "carol"), steps, size=(80, 24))
    assert seen["question"] == 1 and seen["bottom"] <= 24


# Through a running daemon, which applies an action at once.


@pytest.fixture
def daemon(config_file: WriteConfig) -> Iterator[tuple[Performer, Ledger]]:
    path = config_file(**ROSTER)
    with running(path) as (_, ledger, _daemon):
        config = load_config(path)
        yield Performer(config, config.data_dir, ManualClock(NOW)), ledger


def test_through_the_daemon_the_answer_says_it_is_applied_now(
    daemon: tuple[Performer, Ledger],
) -> None:
    performer, ledger = daemon

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, reason="abuse")
        await confirm(pilot)
        await pilot.press("enter")

    results = drive(performer, ActionScreen("limit", "carol"), steps)
    assert results == ["force carol until removed: abuse (applied now: carol is limited)"]
    assert [limit.subscriber for limit in ledger.limits()] == ["carol"]


def test_through_the_daemon_a_refusal_is_shown_and_changes_nothing(
    daemon: tuple[Performer, Ledger],
) -> None:
    performer, ledger = daemon
    seen: dict[str, str] = {}

    async def steps(pilot: Pilot[None], screen: ActionScreen) -> None:
        await fill(pilot, screen, reason="typo")
        await confirm(pilot)
        seen["error"] = shown(screen, "error")
        await pilot.press("escape")

    assert drive(performer, ActionScreen("exempt", "dave"), steps) == [None]
    assert seen["error"].startswith("the daemon refused: no subscriber named 'dave'")
    assert ledger.records.overrides() == [] and ledger.limits() == []
