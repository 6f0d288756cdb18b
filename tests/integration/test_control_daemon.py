"""The real daemon behind the real control socket: what a request may change, checked against
the roster (who is a subscriber) as well as the protocol. No access server is polled: the
requests act on the ledger and the drivers between cycles, as they do in production."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig
from fixtures.control_server import (
    NOBODY,
    connect,
    exchange,
    exchange_as,
    served,
    shared_directory,
)
from fixtures.writes import state_writes
from unit.test_reconcile import Memory

from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.control import socket_path
from nmsquota.control.client import request
from nmsquota.control.protocol import (
    Exempt,
    Limit,
    OverrideRemove,
    Release,
    Response,
    Session,
    Topup,
    encode_request,
)
from nmsquota.daemon.core import Daemon
from nmsquota.enforcement.driver import Driver, make_driver
from nmsquota.enforcement.driver import Limit as DriverLimit
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import OverrideRecord
from nmsquota.usage import Sample

T0 = 1_800_000_000
ROSTER = {
    "plans": {"home": {"cap": "1MB", "window": "1d"}},
    "subscribers": {
        "bob": {"plan": "home", "addresses": ["10.0.0.2"]},
        "carol": {"plan": "home", "addresses": ["10.0.0.3"]},
    },
}


@contextmanager
def running(path: Path, drivers: list[Driver] | None = None
            ) -> Iterator[tuple[Path, Ledger, Daemon]]:  # fmt: skip
    """The daemon on the configuration at `path`, serving its control socket, with the log
    driver (or the drivers given)."""
    config = load_config(path)
    with Ledger.open_writer(config.data_dir, config.tallies()) as ledger:
        drivers = drivers or [make_driver("log", "log", {})]
        daemon = Daemon(config, ManualClock(T0), ledger, drivers=drivers)
        group = config.settings.control.group
        with served(socket_path(ledger.directory), daemon.handle, group=group) as sock:
            yield sock, ledger, daemon


@pytest.fixture
def daemon(config_file: WriteConfig) -> Iterator[tuple[Path, Ledger, Daemon]]:
    with running(config_file(**ROSTER)) as serving:
        yield serving


@pytest.fixture
def open_daemon(config_file: WriteConfig) -> Iterator[tuple[Path, Ledger, Daemon]]:
    """The same with `default_plan`: anyone who logs in is a subscriber on it."""
    with running(config_file(default_plan="home", **ROSTER)) as serving:
        yield serving


def test_the_injection_limits_nobody_and_records_nothing(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, ledger, _ = daemon
    line = json.dumps({"op": "exempt", "subscriber": "bob\nlimit carol", "reason": "x"})
    with connect(sock) as client:
        reply = json.loads(exchange(client, line.encode() + b"\n"))
        # And the old text form of it: two lines, neither of them JSON.
        old = json.loads(exchange(client, b"exempt bob\nlimit carol x\n"))
    assert reply["ok"] is False and reply["error"].startswith("subscriber: expected a subscriber")
    assert old["ok"] is False and old["error"].startswith("not JSON")
    assert ledger.records.overrides() == [] and ledger.limits() == []


def test_an_override_is_recorded_and_applied_at_once(daemon: tuple[Path, Ledger, Daemon]) -> None:
    sock, ledger, _ = daemon
    reply = request(sock, Limit(subscriber="carol", reason="abuse, ticket 17"))
    assert reply is not None and reply.ok
    assert reply.message == "force carol until removed: abuse, ticket 17"
    assert reply.get("limited") == ["carol"]
    assert [limit.subscriber for limit in ledger.limits()] == ["carol"]


UNNAMED = next(uid for uid in range(54321, 60000) if uid not in {u.pw_uid for u in
                                                                 pwd.getpwall()})  # fmt: skip
"""A uid with no name in the password database (a container's, say)."""


@pytest.mark.parametrize(("uid", "author"), [(NOBODY, "nobody"), (UNNAMED, str(UNNAMED))])
def test_an_override_through_the_socket_names_who_asked(
    config_file: WriteConfig, uid: int, author: str
) -> None:
    if os.geteuid() != 0:
        pytest.skip("a client of another user needs root to fork it")
    line = encode_request(Limit(subscriber="carol", reason="abuse, ticket 17"))
    # The operator is in the socket's group, as [control] group is for.
    with shared_directory() as data, running(config_file(data_dir=data, control={
            "group": "nogroup"}, **ROSTER)) as (sock, ledger, _):  # fmt: skip
        _, answer = exchange_as(sock, uid, NOBODY, line)
        (override,) = ledger.records.overrides()
        (event, _limited) = ledger.records.events()
    assert json.loads(answer)["ok"] is True
    assert override.author == author
    assert event.text == f"force carol until removed: abuse, ticket 17 (by {author})"


def test_an_override_for_an_unknown_subscriber_is_refused_and_changes_nothing(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, ledger, _ = daemon
    reply = request(sock, Exempt(subscriber="bobby", reason="typo", duration=3600))
    assert reply is not None and not reply.ok
    assert reply.error == ("no subscriber named 'bobby' (not in the configuration, not "
                           "provisioned, not seen on the network)")  # fmt: skip
    assert ledger.records.overrides() == []


def test_a_cap_the_plan_does_not_have_is_refused(daemon: tuple[Path, Ledger, Daemon]) -> None:
    sock, ledger, _ = daemon
    reply = request(sock, {"op": "topup", "subscriber": "bob", "size": "1GB", "cap": "1d",
                           "reason": "paid"})  # fmt: skip
    assert reply is not None
    assert reply.error == "bob's plan has no cap '1d' (its caps: none: a one-cap plan)"
    assert ledger.records.overrides() == []


def test_a_session_of_a_login_nobody_knows_is_refused(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, _, state = daemon
    reply = request(sock, Session(event="up", interface="ppp7", login="mallory",
                                  address="10.0.0.66"))  # fmt: skip
    assert reply is not None and not reply.ok
    assert reply.error.startswith("no subscriber named 'mallory'")
    assert state.sessions.logins == {}


@pytest.mark.parametrize("serving", ["daemon", "open_daemon"])
def test_a_session_down_of_a_login_nobody_knows_is_refused_and_changes_nothing(
    serving: str, request: pytest.FixtureRequest
) -> None:
    # With a default_plan too: a down is no way in for a name nobody has seen.
    sock, ledger, state = request.getfixturevalue(serving)
    reply = request_down(sock, "mallory")
    assert reply is not None and not reply.ok
    assert reply.error.startswith("no subscriber named 'mallory'")
    assert (state.sessions.seen, state.sessions.logins) == ({}, {})
    assert ledger.records.sessions() == [] and ledger.records.events() == []
    assert "mallory" not in state.roster().plans


def test_a_session_down_of_a_subscriber_with_no_session_is_harmless(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    # An ip-down the daemon has no session for (it restarted since the ip-up, say): ok, so
    # the hook does not fail, and nothing is recorded of a session nobody saw.
    sock, ledger, state = daemon
    reply = request_down(sock, "bob")
    assert reply is not None and reply.ok
    assert reply.message == "no session of bob known: nothing changed"
    assert (state.sessions.seen, state.sessions.logins) == ({}, {})
    assert ledger.records.sessions() == [] and ledger.records.events() == []


def request_down(sock: Path, login: str) -> Response | None:
    return request(sock, Session(event="down", interface="ppp7", login=login,
                                 address="10.0.0.66"))  # fmt: skip


def test_with_a_default_plan_a_new_login_is_a_subscriber(
    open_daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, _, state = open_daemon
    up = request(sock, Session(event="up", interface="ppp7", login="dave", address="10.0.0.7"))
    assert up is not None and up.ok
    assert state.sessions.logins == {"ppp7": "dave"}
    limit = request(sock, Limit(subscriber="dave", reason="seen, so known"))
    assert limit is not None and limit.get("limited") == ["dave"]


def stray() -> Memory:
    """A driver holding a limit nmsquota did not make: its next reconciliation repairs it,
    and the event log says so."""
    shaper = Memory()
    shaper.table["10.9.9.9"] = DriverLimit("zoe", ("10.9.9.9",))
    return shaper


def test_a_session_up_writes_state_json_once_with_all_it_changed(
    config_file: WriteConfig,
) -> None:
    with running(config_file(**ROSTER), drivers=[stray()]) as (sock, ledger, _):
        with state_writes() as written:
            reply = request(sock, Session(event="up", interface="ppp7", login="bob",
                                          address="10.0.0.7"))  # fmt: skip
        assert reply is not None and reply.ok
        assert len(written) == 1
        (session,) = ledger.records.sessions()
        assert session.subscriber == "bob" and session.online
        events = [(e.kind.value, e.subscriber) for e in ledger.records.events()]
        assert events == [("session up", "bob"), ("repair", None)]


def test_an_override_writes_state_json_once_with_all_it_changed(
    config_file: WriteConfig,
) -> None:
    with running(config_file(**ROSTER), drivers=[stray()]) as (sock, ledger, _):
        with state_writes() as written:
            reply = request(sock, Limit(subscriber="carol", reason="abuse, ticket 17"))
        assert reply is not None and reply.get("limited") == ["carol"]
        assert len(written) == 1
        assert [r.subscriber for r in ledger.records.overrides()] == ["carol"]
        events = [(e.kind.value, e.subscriber) for e in ledger.records.events()]
        assert events == [("override", "carol"), ("limit applied", "carol"), ("repair", None)]


def test_a_release_of_someone_with_overrides_works_after_they_left_the_roster(
    config_file: WriteConfig,
) -> None:
    # Overrides written for a subscriber since removed from the configuration can still go.
    old = OverrideRecord(subscriber="zoe", kind="force", reason="old", since=T0 - 60)
    with running(config_file(**ROSTER)) as (sock, ledger, _):
        ledger.records.set_overrides([old])
        reply = request(sock, Release(subscriber="zoe"))
        assert reply is not None and reply.message == "1 force override(s) of zoe removed"
        assert ledger.records.overrides() == []
        unknown = request(sock, Release(subscriber="zoe"))
        assert unknown is not None and unknown.error.startswith("no subscriber named 'zoe'")


def test_a_release_with_a_reason_says_it_in_the_reply_and_the_event_log(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, ledger, _ = daemon
    assert request(sock, Limit(subscriber="carol", reason="abuse")) is not None
    reply = request(sock, Release(subscriber="carol", reason="ticket 17 closed"))
    assert reply is not None and reply.ok
    assert reply.message == "1 force override(s) of carol removed: ticket 17 closed"
    overrides = [e.text for e in ledger.records.events() if e.kind.value == "override"]
    assert overrides[-1].startswith("1 force override(s) of carol removed: ticket 17 closed")
    assert ledger.records.overrides() == []


def test_the_daemon_does_not_start_in_a_directory_others_can_write(
    tmp_path: Path, config_file: WriteConfig
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    path = config_file(data_dir=data, **ROSTER)
    run = subprocess.run([sys.executable, "-m", "nmsquota", "-c", str(path), "run", "--cycles",
                          "1"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == (
        f"nmsquota: {data} is writable by group or others (drwxrwxrwx): they could replace "
        f"its control socket (run: chmod go-w {data})"
    )
    assert not (data / "control.sock").exists()


def test_an_override_removed_by_its_id_is_enforced_at_once_and_logged(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, ledger, _ = daemon
    ledger.commit(T0, [Sample("bob", T0, 2_000_000, 0)])  # twice his 1 MB cap
    topped = request(sock, Topup(subscriber="bob", size="5MB", reason="bought"))
    assert topped is not None and topped.get("limited") == []
    (topup,) = ledger.records.overrides()
    reply = request(sock, OverrideRemove(id=topup.id, reason="refunded"))
    assert reply is not None and reply.ok
    message = f"removed {topup.id} (topup 5.0 MB bob until removed): refunded"
    assert (reply.message, reply.get("subscriber")) == (message, "bob")
    # Decided and enforced again at once: over his cap without it, he is limited now.
    assert reply.get("limited") == ["bob"]
    assert [limit.subscriber for limit in ledger.limits()] == ["bob"]
    assert ledger.records.overrides() == []
    author = pwd.getpwuid(os.geteuid()).pw_name  # as the kernel names the client's user
    texts = [e.text for e in ledger.records.events() if e.kind.value == "override"]
    assert texts[-1] == f"{message} (by {author})"


def test_an_id_no_override_has_is_refused_by_the_daemon_changing_nothing(
    daemon: tuple[Path, Ledger, Daemon],
) -> None:
    sock, ledger, _ = daemon
    assert request(sock, Exempt(subscriber="carol", reason="the mayor")) is not None
    kept, events = ledger.records.overrides(), ledger.records.events()
    unknown = "0" * 8 if kept[0].id != "0" * 8 else "f" * 8
    reply = request(sock, OverrideRemove(id=unknown, reason="typo"))
    assert reply is not None and not reply.ok
    assert reply.error == (f"no override with id {unknown} (`nmsquota overrides list` shows "
                           "those in force): nothing removed")  # fmt: skip
    assert ledger.records.overrides() == kept and ledger.records.events() == events
