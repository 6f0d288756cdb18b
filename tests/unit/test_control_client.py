"""The client every caller uses: a reply, None when no daemon listens, a clear error else."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from fixtures.control_server import Recorder, served

from nmsquota.control.client import request
from nmsquota.control.protocol import ControlError, Ping, Release, RequestError


def test_a_reply_comes_back_as_a_response(tmp_path: Path) -> None:
    daemon = Recorder({"ok": True, "message": "0 force override(s) of bob removed"})
    with served(tmp_path / "control.sock", daemon) as sock:
        reply = request(sock, Release(subscriber="bob"))
    assert reply is not None and reply.ok and reply.error == ""
    assert reply.message == "0 force override(s) of bob removed"


def test_no_socket_means_no_daemon(tmp_path: Path) -> None:
    assert request(tmp_path / "control.sock", Ping()) is None


def test_a_socket_nobody_listens_on_means_no_daemon(tmp_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "control.sock"))
    stale.close()
    assert request(tmp_path / "control.sock", Ping()) is None


def test_a_dict_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    daemon = Recorder()
    refused = pytest.raises(RequestError, match=r"^subscriber: expected a subscriber name")
    with served(tmp_path / "control.sock", daemon) as sock, refused:
        request(sock, {"op": "release", "subscriber": "bob\nlimit carol"})
    assert daemon.requests == []


def test_a_daemon_that_does_not_answer_is_an_error_after_the_timeout(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as mute:
        mute.bind(str(tmp_path / "control.sock"))
        mute.listen()
        with pytest.raises(ControlError, match=r"did not answer within 0.3s$"):
            request(tmp_path / "control.sock", Ping(), timeout=0.3)


def test_a_daemon_that_hangs_up_without_a_reply_is_an_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as rude:
        rude.bind(str(tmp_path / "control.sock"))
        rude.listen()

        def hang_up() -> None:
            connection, _ = rude.accept()
            connection.recv(100)
            connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        with pytest.raises(ControlError, match="closed the connection without a reply"):
            request(tmp_path / "control.sock", Ping(), timeout=5)


def test_a_reply_that_is_not_one_is_an_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as odd:
        odd.bind(str(tmp_path / "control.sock"))
        odd.listen()

        def answer() -> None:
            connection, _ = odd.accept()
            connection.recv(100)
            connection.sendall(b"PONG\n")
            connection.close()

        threading.Thread(target=answer, daemon=True).start()
        with pytest.raises(ControlError, match="the daemon's reply is not JSON: b'PONG\\\\n'"):
            request(tmp_path / "control.sock", Ping(), timeout=5)
