"""The commands that talk to the daemon (exempt, limit, topup, release, session, subscribers),
end to end: against a fake daemon behind the real control socket, and without a daemon."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig
from fixtures.control_server import Recorder, served

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.control import socket_path
from nmsquota.control.protocol import (
    Exempt,
    Release,
    Session,
    SubscriberAdd,
    SubscriberSet,
    Topup,
)
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import OverrideRecord

NOW = 1_000_000_000
PLANS = {"home": {"caps": [{"cap": "1GB", "window": "1d"}, {"cap": "20GB", "window": "30d"}]}}
SUBSCRIBERS = {"bob": {"plan": "home"}, "alice": {"plan": "home"}}


@pytest.fixture
def config(tmp_path: Path, config_file: WriteConfig) -> Path:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    return config_file(data_dir=data, plans=PLANS, subscribers=SUBSCRIBERS)


@pytest.fixture
def daemon(config: Path) -> Recorder:
    """A fake daemon listening where the configuration says, for the test's duration."""
    recorder = Recorder({"ok": True, "message": "done", "limited": ["alice"]})
    with served(socket_path(config.parent / "data"), recorder):
        yield recorder


def nmsquota(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["-c", str(config), *argv], clock=ManualClock(NOW))
    out, err = capsys.readouterr()
    return status, out, err


def overrides(config: Path) -> list[OverrideRecord]:
    return Ledger.open_reader(config.parent / "data").records.overrides()


def test_an_override_reaches_the_daemon_as_typed_values_with_the_reason_whole(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = 'the mayor\'s "office", ticket #17 \u2013 M\u00fcller'
    status, out, _ = nmsquota(config, capsys, "exempt", "bob", "--for", "2h", "--cap", "1d",
                              "--reason", reason)  # fmt: skip
    assert status == 0
    assert daemon.requests == [Exempt(subscriber="bob", reason=reason, duration=7200, cap="1d")]
    assert out == "done (applied now: bob is not limited)\n"


def test_the_injection_is_refused_before_anything_is_sent(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = nmsquota(config, capsys, "exempt", "bob\nlimit carol", "--reason", "x")
    assert status == 2 and out == ""
    assert err.startswith("nmsquota: subscriber: expected a subscriber name")
    assert err.count("\n") == 1
    assert daemon.requests == []


def test_a_reason_with_a_newline_is_refused_before_anything_is_sent(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = nmsquota(config, capsys, "limit", "bob", "--reason",
                              "abuse\nINFO nmsquota.daemon: released bob")  # fmt: skip
    assert status == 2
    assert err.startswith("nmsquota: reason: a newline or other control character (U+000A)")
    assert daemon.requests == []


def test_a_duration_the_units_do_not_know_is_refused_before_anything_is_sent(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = nmsquota(config, capsys, "exempt", "bob", "--for", "7days", "--reason", "x")
    assert status == 2 and err.startswith("nmsquota: for: expected a duration such as 300s")
    assert daemon.requests == []


def test_topup_and_release_reach_the_daemon(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "topup", "alice", "5GB", "--reason", "paid")[0] == 0
    status, out, _ = nmsquota(config, capsys, "release", "alice")
    assert status == 0 and out == "done (applied now: alice is limited)\n"
    assert daemon.requests == [Topup(subscriber="alice", size=5 * 10**9, reason="paid"),
                               Release(subscriber="alice")]  # fmt: skip


def test_a_session_event_reaches_the_daemon_and_a_bad_address_does_not(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "session", "up", "ppp0", "bob", "10.0.0.7")[0] == 0
    status, _, err = nmsquota(config, capsys, "session", "up", "ppp1", "bob", "10.0.0.300")
    assert status == 2 and err == "nmsquota: address: expected an IP address, got '10.0.0.300'\n"
    assert daemon.requests == [Session(event="up", interface="ppp0", login="bob",
                                       address="10.0.0.7")]  # fmt: skip


def test_provisioning_reaches_the_daemon_as_typed_values(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "subscribers", "add", "carol", "--plan", "home",
                    "--addresses", "10.0.0.3,2001:db8::/64")[0] == 0  # fmt: skip
    assert nmsquota(config, capsys, "subscribers", "set", "carol", "--addresses", "")[0] == 0
    assert daemon.requests == [
        SubscriberAdd(name="carol", plan="home", addresses=("10.0.0.3", "2001:db8::/64")),
        SubscriberSet(name="carol", addresses=()),
    ]


def test_the_daemon_refusing_is_one_line_and_exit_status_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refusing = Recorder({"ok": False, "error": "no subscriber named 'bobby'"})
    with served(socket_path(config.parent / "data"), refusing):
        status, out, err = nmsquota(config, capsys, "release", "bobby")
    assert (status, out) == (1, "")
    assert err == "nmsquota: the daemon refused: no subscriber named 'bobby'\n"


def test_without_a_daemon_the_override_goes_into_the_ledger_as_given(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "for=1h" in a reason was once read as the override's duration; now a reason is a reason.
    status, out, _ = nmsquota(config, capsys, "limit", "bob", "--reason", "for=1h then  review")
    assert status == 0
    assert out == ("force bob until removed: for=1h then  review (no daemon running: applied "
                   "at its next start)\n")  # fmt: skip
    assert overrides(config) == [OverrideRecord(subscriber="bob", kind="force", until=None,
                                                bytes=0, reason="for=1h then  review",
                                                since=NOW, author=getpass.getuser())]  # fmt: skip


def test_without_a_daemon_an_unknown_subscriber_is_refused_and_nothing_written(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "exempt", "bob", "--reason", "first")[0] == 0
    status, _, err = nmsquota(config, capsys, "exempt", "bobby", "--reason", "typo")
    assert status == 2 and err.startswith("nmsquota: no subscriber named 'bobby'")
    assert [r.subscriber for r in overrides(config)] == ["bob"]


def test_without_a_daemon_a_cap_the_plan_does_not_have_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = nmsquota(config, capsys, "topup", "bob", "1GB", "--cap", "1w",
                              "--reason", "paid")  # fmt: skip
    assert status == 2
    assert err == "nmsquota: bob's plan has no cap '1w' (its caps: 1d, 30d)\n"


def test_without_a_daemon_a_session_event_has_nowhere_to_go(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = nmsquota(config, capsys, "session", "down", "ppp0", "bob", "10.0.0.7")
    assert status == 1
    assert err == f"nmsquota: no daemon listening on {socket_path(config.parent / 'data')}\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["limit", "bob", "--for", "0", "--reason", "x"], "for: expected more than 0"),
        (["exempt", "bob", "--for", "0s", "--reason", "x"], "for: expected more than 0"),
        (["topup", "bob", "1GB", "--for", "0", "--reason", "x"], "for: expected more than 0"),
        (["limit", "bob", "--reason", ""], "reason: expected a reason, got ''"),
        (["exempt", "bob", "--reason", "   "], "reason: expected a reason, got '   '"),
        (["topup", "bob", "1GB", "--reason", " "], "reason: expected a reason, got ' '"),
        (["topup", "bob", "0", "--reason", "paid"], "size: expected more than 0"),
        (["topup", "bob", "0GB", "--reason", "paid"], "size: expected more than 0"),
        (["release", "bob", "--reason", " "], "reason: expected a reason, got ' '"),
    ],
)
def test_an_override_that_expires_at_once_adds_nothing_or_says_nothing_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    # With a daemon, nothing is sent; without one, nothing is written.
    recorder = Recorder({"ok": True, "message": "done", "limited": []})
    with served(socket_path(config.parent / "data"), recorder):
        status, out, err = nmsquota(config, capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"nmsquota: {expected}") and err.count("\n") == 1
    assert recorder.requests == []
    status, _, err = nmsquota(config, capsys, *argv)
    assert status == 2 and err.startswith(f"nmsquota: {expected}")
    assert not (config.parent / "data" / "state.json").exists()  # no ledger was even made


def test_release_with_a_reason_reaches_the_daemon_with_it(
    config: Path, daemon: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "release", "alice", "--reason", "paid up")[0] == 0
    assert daemon.requests == [Release(subscriber="alice", reason="paid up")]


def test_release_without_a_daemon_records_its_reason_in_the_event_log(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nmsquota(config, capsys, "limit", "bob", "--reason", "abuse")[0] == 0
    status, out, _ = nmsquota(config, capsys, "release", "bob", "--reason", "ticket #9 closed")
    assert status == 0
    assert out.startswith("1 force override(s) of bob removed: ticket #9 closed")
    events = Ledger.open_reader(config.parent / "data").records.events()
    assert events[-1].text == f"1 force override(s) of bob removed: ticket #9 closed (by " \
        f"{getpass.getuser()})"  # fmt: skip
    assert overrides(config) == []
