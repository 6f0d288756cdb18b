"""Whether the daemon can write its ledger, as status and the console ask it (ping)."""

from __future__ import annotations

import socket
from pathlib import Path

from fixtures.control_server import Recorder, served

from nmsquota.control import socket_path
from nmsquota.control.writes import WriteFailure, write_failure

FAILING = {"failing_since": 1_800_000_600, "error": "No space left on device", "cycles": 3}


def test_a_daemon_whose_writes_fail_says_since_when_how_many_and_why(tmp_path: Path) -> None:
    daemon = Recorder({"ok": True, "cycles": 9, "ledger_write_failure": FAILING})
    with served(socket_path(tmp_path), daemon):
        failure = write_failure(tmp_path)
    assert failure == WriteFailure(1_800_000_600, 3, "No space left on device")
    assert failure is not None and failure.as_json() == FAILING
    assert failure.sentence("08:10") == ("ledger: writes failing since 08:10 (3 not recorded; "
                                         "the ledger shows the last good commit): No space "
                                         "left on device")  # fmt: skip


def test_a_daemon_whose_writes_succeed_has_no_failure(tmp_path: Path) -> None:
    with served(socket_path(tmp_path), Recorder({"ok": True, "cycles": 9})):
        assert write_failure(tmp_path) is None


def test_no_daemon_is_no_failure(tmp_path: Path) -> None:
    assert write_failure(tmp_path) is None


def test_a_daemon_that_does_not_answer_in_time_is_no_failure(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as mute:
        mute.bind(str(socket_path(tmp_path)))
        mute.listen()
        assert write_failure(tmp_path, timeout=0.2) is None


def test_a_reply_without_a_time_is_no_failure(tmp_path: Path) -> None:
    odd = {"ok": True, "ledger_write_failure": {"failing_since": "yesterday", "cycles": 1}}
    with served(socket_path(tmp_path), Recorder(odd)):
        assert write_failure(tmp_path) is None
