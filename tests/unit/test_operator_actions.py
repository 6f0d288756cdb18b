"""nmsquota.actions, the operator's actions the CLI and the console share: through the real
daemon behind its control socket, which applies them at once, and with no daemon running,
into the ledger for the next daemon to apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig
from integration.test_control_daemon import ROSTER, T0, running

from nmsquota.actions import Outcome, Performer, action_request
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.control.protocol import (
    Exempt,
    Limit,
    OverrideRemove,
    Release,
    RequestError,
    Topup,
)
from nmsquota.daemon.core import Daemon
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventKind, OverrideRecord
from nmsquota.usage import Sample


@pytest.fixture
def offline(config_file: WriteConfig) -> Performer:
    """A performer on a configuration whose ledger no daemon serves."""
    config = load_config(config_file(**ROSTER))
    return Performer(config, config.data_dir, ManualClock(T0), author="ops")


@pytest.fixture
def online(config_file: WriteConfig) -> Iterator[tuple[Performer, Ledger, Daemon]]:
    """A performer on the ledger of a running daemon, which serves its control socket."""
    path = config_file(**ROSTER)
    with running(path) as (_, ledger, daemon):
        config = load_config(path)
        yield Performer(config, config.data_dir, ManualClock(T0)), ledger, daemon


def overrides(performer: Performer) -> list[OverrideRecord]:
    return Ledger.open_reader(performer.directory).records.overrides()


# With no daemon running.


def test_without_a_daemon_an_override_is_written_into_the_ledger_with_its_author(
    offline: Performer,
) -> None:
    outcome = offline.perform(Limit(subscriber="carol", reason="abuse", duration=7200))
    assert outcome == Outcome("force carol for 2h: abuse", "carol", applied_now=False,
                              limited=False)  # fmt: skip
    assert str(outcome) == ("force carol for 2h: abuse (no daemon running: applied at its next "
                            "start)")  # fmt: skip
    assert overrides(offline) == [OverrideRecord(subscriber="carol", kind="force", since=T0,
                                                 until=T0 + 7200, bytes=0, reason="abuse",
                                                 author="ops")]  # fmt: skip
    (event,) = Ledger.open_reader(offline.directory).records.events()
    assert (event.kind, event.subscriber) == (EventKind.OVERRIDE, "carol")
    assert event.text == "force carol for 2h: abuse (by ops)"


def test_without_a_daemon_a_removal_by_id_says_whose_override_it_was(offline: Performer) -> None:
    offline.perform(Topup(subscriber="bob", size="5MB", reason="bought"))
    (topup,) = overrides(offline)
    outcome = offline.perform(OverrideRemove(id=topup.id, reason="refunded"))
    assert (outcome.subscriber, outcome.applied_now) == ("bob", False)
    assert outcome.message == f"removed {topup.id} (topup 5.0 MB bob until removed): refunded"
    assert overrides(offline) == []


def test_without_a_daemon_an_unknown_subscriber_is_refused_and_nothing_written(
    offline: Performer,
) -> None:
    offline.perform(Exempt(subscriber="bob", reason="first"))
    with pytest.raises(UsageError, match=r"^no subscriber named 'bobby'"):
        offline.perform(Exempt(subscriber="bobby", reason="typo"))
    assert [r.subscriber for r in overrides(offline)] == ["bob"]


def test_without_a_daemon_a_removal_with_no_ledger_makes_none(offline: Performer) -> None:
    with pytest.raises(NmsquotaError, match=r"no override to remove$"):
        offline.perform(OverrideRemove(id="0123abcd", reason="x"))
    assert not offline.directory.exists()


def test_without_a_daemon_or_a_configuration_an_override_is_refused(tmp_path: Path) -> None:
    performer = Performer(None, tmp_path / "ledger", ManualClock(T0))
    with pytest.raises(UsageError, match="no configuration to check the subscriber against"):
        performer.perform(Limit(subscriber="bob", reason="x"))
    assert not (tmp_path / "ledger").exists()


# Through the running daemon.


def test_through_the_daemon_an_override_is_applied_at_once(
    online: tuple[Performer, Ledger, Daemon],
) -> None:
    performer, ledger, _ = online
    outcome = performer.perform(Limit(subscriber="carol", reason="abuse, ticket 17"))
    assert outcome == Outcome("force carol until removed: abuse, ticket 17", "carol",
                              applied_now=True, limited=True)  # fmt: skip
    assert str(outcome) == ("force carol until removed: abuse, ticket 17 (applied now: carol "
                            "is limited)")  # fmt: skip
    assert [limit.subscriber for limit in ledger.limits()] == ["carol"]


def test_through_the_daemon_a_release_lifts_the_limit(
    online: tuple[Performer, Ledger, Daemon],
) -> None:
    performer, ledger, _ = online
    performer.perform(Limit(subscriber="carol", reason="abuse"))
    outcome = performer.perform(Release(subscriber="carol"))
    assert str(outcome) == ("1 force override(s) of carol removed (applied now: carol is not "
                            "limited)")  # fmt: skip
    assert ledger.limits() == []


def test_through_the_daemon_a_removal_by_id_names_whose_it_was(
    online: tuple[Performer, Ledger, Daemon],
) -> None:
    performer, ledger, _ = online
    ledger.commit(T0, [Sample("bob", T0, 2_000_000, 0)])  # twice his 1 MB cap
    assert not performer.perform(Topup(subscriber="bob", size="5MB", reason="bought")).limited
    (topup,) = ledger.records.overrides()
    outcome = performer.perform(OverrideRemove(id=topup.id, reason="refunded"))
    assert (outcome.subscriber, outcome.applied_now, outcome.limited) == ("bob", True, True)


def test_the_daemon_refusing_is_one_line_and_changes_nothing(
    online: tuple[Performer, Ledger, Daemon],
) -> None:
    performer, ledger, _ = online
    with pytest.raises(NmsquotaError) as refused:
        performer.perform(Exempt(subscriber="bobby", reason="typo"))
    assert str(refused.value).startswith("the daemon refused: no subscriber named 'bobby'")
    assert "\n" not in str(refused.value)
    assert ledger.records.overrides() == [] and ledger.limits() == []


# The requests, from what the operator typed.


def test_an_action_request_is_checked_as_the_daemon_checks_it() -> None:
    assert action_request("topup", "bob", reason="bought", size="5MB", duration="7d") == Topup(
        subscriber="bob", reason="bought", size=5_000_000, duration=7 * 86400
    )
    assert action_request("release", "bob") == Release(subscriber="bob")
    assert action_request("remove", reason="done", override_id="0123ABCD") == OverrideRemove(
        id="0123abcd", reason="done"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "limit", "reason": "x", "duration": "2 fortnights"}, "for: "),
        ({"kind": "topup", "reason": "x", "size": "lots"}, "size: "),
        ({"kind": "exempt", "reason": ""}, "reason: expected a reason"),
        ({"kind": "limit", "reason": "   "}, "reason: expected a reason"),
        ({"kind": "limit"}, "reason: missing"),
        ({"kind": "remove", "reason": "x", "override_id": "nope"}, "id: expected an override"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_the_field(fields: dict[str, str], expected: str) -> None:
    kind = fields.pop("kind")
    with pytest.raises(RequestError) as refused:
        action_request(kind, "bob", **fields)  # type: ignore[arg-type]
    assert str(refused.value).startswith(expected) and "\n" not in str(refused.value)


@pytest.mark.parametrize("name", ["bob\nlimit carol", "carol smith", "[b]carol[/b]"])
def test_a_subscriber_name_that_is_not_one_is_refused_as_data(name: str) -> None:
    with pytest.raises(RequestError, match=r"^subscriber: expected a subscriber name"):
        action_request("limit", name, reason="x")
