"""`nmsquota overrides list|remove`: every override in force by its id, and an override
removed by it, through a (fake) daemon behind the real control socket, or in the ledger when
no daemon runs; the request checked as the daemon checks it."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig
from fixtures.control_server import Recorder, served

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.control import socket_path
from nmsquota.control.protocol import OverrideRemove
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventKind, OverrideRecord

NOW = 1_800_000_000
"""2027-01-15 08:00 UTC."""
PLANS = {"home": {"caps": [{"cap": "1GB", "window": "1d"}, {"cap": "20GB", "window": "30d"}]}}
SUBSCRIBERS = {"bob": {"plan": "home"}, "alice": {"plan": "home"}}
EXEMPT = OverrideRecord(subscriber="bob", kind="exempt", reason="the mayor", since=NOW - 600,
                        author="noc")  # fmt: skip
TOPUP = OverrideRecord(subscriber="alice", kind="topup", reason="bought", since=NOW - 300,
                       until=NOW + 86400, bytes=5 * 10**9, cap="1d")  # fmt: skip
EXPIRED = OverrideRecord(subscriber="alice", kind="force", reason="old", since=NOW - 900,
                         until=NOW - 60)  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, config_file: WriteConfig) -> Path:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    path = config_file(data_dir=data, plans=PLANS, subscribers=SUBSCRIBERS, timezone="UTC")
    with Ledger.open_writer(data) as ledger, ledger.batch():
        ledger.records.set_overrides([EXEMPT, TOPUP, EXPIRED])
    return path


def nmsquota(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["-c", str(config), *argv], clock=ManualClock(NOW))
    out, err = capsys.readouterr()
    return status, out, err


def kept(config: Path) -> list[OverrideRecord]:
    return Ledger.open_reader(config.parent / "data").records.overrides()


def test_list_gives_each_override_in_force_with_its_id(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = nmsquota(config, capsys, "overrides", "list")
    assert status == 0
    assert out.splitlines() == [
        "ID        SUBSCRIBER  KIND    CAP  AMOUNT  REASON     AUTHOR  SINCE             EXPIRES",
        f"{EXEMPT.id}  bob         exempt  -         -  the mayor  noc     2027-01-15 07:50  "
        "until removed",
        f"{TOPUP.id}  alice       topup   1d   5.0 GB  bought     -       2027-01-15 07:55  "
        "2027-01-16 08:00",
    ]  # the expired force is not in force: not listed


def test_list_of_one_subscriber_as_json_has_every_field(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = nmsquota(config, capsys, "overrides", "list", "alice", "--json")
    assert status == 0
    assert json.loads(out) == [
        {"id": TOPUP.id, "subscriber": "alice", "kind": "topup", "cap": "1d", "bytes": 5 * 10**9,
         "reason": "bought", "author": None, "since": NOW - 300, "until": NOW + 86400}
    ]  # fmt: skip
    assert nmsquota(config, capsys, "overrides", "list", "carol")[1] == (
        "no overrides of carol in force\n")  # fmt: skip


def test_remove_reaches_the_daemon_as_a_checked_request(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon = Recorder({"ok": True, "message": "removed", "limited": ["bob"], "subscriber": "bob"})
    with served(socket_path(config.parent / "data"), daemon):
        status, out, _ = nmsquota(config, capsys, "overrides", "remove", EXEMPT.id.upper(),
                                  "--reason", "term ended")  # fmt: skip
    assert status == 0 and out == "removed (applied now: bob is limited)\n"
    assert daemon.requests == [OverrideRemove(id=EXEMPT.id, reason="term ended")]
    assert kept(config) == [EXEMPT, TOPUP, EXPIRED]  # the daemon's to change, not the CLI's


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["1234567", "--reason", "x"], "id: expected an override's id (8 hex digits"),
        (["1234567g", "--reason", "x"], "id: expected an override's id (8 hex digits"),
        ([EXEMPT.id, "--reason", " "], "reason: expected a reason"),
        ([EXEMPT.id, "--reason", "a\nb"], "reason: a newline or other control character"),
    ],
)  # fmt: skip
def test_a_malformed_removal_is_refused_before_anything_is_sent_or_written(
    config: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    daemon = Recorder({"ok": True, "message": "removed"})
    with served(socket_path(config.parent / "data"), daemon):
        status, out, err = nmsquota(config, capsys, "overrides", "remove", *argv)
    assert (status, out) == (2, "") and err.startswith(f"nmsquota: {expected}")
    assert err.count("\n") == 1 and daemon.requests == []
    assert kept(config) == [EXEMPT, TOPUP, EXPIRED]


def test_without_a_daemon_remove_takes_it_out_of_the_ledger_and_logs_who_and_why(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = nmsquota(config, capsys, "overrides", "remove", EXEMPT.id, "--reason",
                              "term ended")  # fmt: skip
    message = f"removed {EXEMPT.id} (exempt bob until removed): term ended"
    assert status == 0 and out == f"{message} (no daemon running: applied at its next start)\n"
    assert kept(config) == [TOPUP]  # and the expired one dropped with it, as any change does
    (event,) = Ledger.open_reader(config.parent / "data").records.events()
    assert (event.kind, event.subscriber) == (EventKind.OVERRIDE, "bob")
    assert event.text == f"{message} (by {getpass.getuser()})"


def test_an_id_no_override_has_is_refused_in_one_line_changing_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = config.parent / "data" / "state.json"
    before = state.read_bytes()
    unknown = "0" * 8 if EXEMPT.id != "0" * 8 else "f" * 8
    status, out, err = nmsquota(config, capsys, "overrides", "remove", unknown, "--reason", "x")
    assert (status, out) == (1, "")
    assert err == (f"nmsquota: no override with id {unknown} (`nmsquota overrides list` shows "
                   "those in force): nothing removed\n")  # fmt: skip
    assert state.read_bytes() == before


def test_two_overrides_alike_in_every_field_share_an_id_and_go_together(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same command twice in one second: nothing tells the two apart.
    with Ledger.open_writer(config.parent / "data") as ledger, ledger.batch():
        ledger.records.set_overrides([EXEMPT, TOPUP, TOPUP])
    status, out, _ = nmsquota(config, capsys, "overrides", "remove", TOPUP.id, "--reason", "x")
    assert status == 0
    assert out.startswith(f"removed 2 overrides alike, {TOPUP.id} (topup 5.0 GB alice on cap "
                          "1d for 1d more): x")  # fmt: skip
    assert kept(config) == [EXEMPT]
