"""The control socket's server: what reaches the handler, what a client can do to the daemon
and to other clients, and where the socket may live."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import socket
import stat
import time
from pathlib import Path

import pytest
from fixtures.control_server import (
    NOBODY,
    Recorder,
    closed,
    connect,
    exchange,
    exchange_as,
    read_line,
    served,
    shared_directory,
)

from nmsquota.control.peer import Peer
from nmsquota.control.protocol import Exempt, Ping, Request
from nmsquota.control.server import ControlSocketError
from nmsquota.errors import UsageError

PING = b'{"op": "ping"}\n'


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "control.sock"


def refused(path: Path, **options: object) -> str:
    """Why serve(path, ...) would not start."""
    with pytest.raises(ControlSocketError) as error, served(path, Recorder(), **options):
        pass
    return str(error.value)


def reply(raw: bytes) -> dict[str, object]:
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1, raw
    return json.loads(raw)


def test_a_request_reaches_the_handler_as_a_typed_value_and_its_reply_comes_back(
    sock: Path,
) -> None:
    daemon = Recorder({"ok": True, "message": "exempt bob"})
    with served(sock, daemon), connect(sock) as client:
        answer = exchange(client, b'{"op": "exempt", "subscriber": "bob", "reason": "the '
                          b'mayor", "for": "1d"}\n')  # fmt: skip
    assert reply(answer) == {"ok": True, "message": "exempt bob"}
    assert daemon.requests == [Exempt(subscriber="bob", reason="the mayor", duration=86400)]


def test_the_injection_changes_nothing_and_is_refused(sock: Path) -> None:
    daemon = Recorder()
    request = json.dumps({"op": "exempt", "subscriber": "bob\nlimit carol", "reason": "x"})
    with served(sock, daemon), connect(sock) as client:
        answer = reply(exchange(client, request.encode() + b"\n"))
        # The old text form, newline and all, is two lines that are not JSON.
        old = [reply(exchange(client, b"exempt bob\nlimit carol x\n")), reply(read_line(client))]
    assert answer["ok"] is False
    assert str(answer["error"]).startswith("subscriber: expected a subscriber name")
    assert all(r["ok"] is False and str(r["error"]).startswith("not JSON") for r in old)
    assert daemon.requests == []


def test_the_handler_is_told_who_asked_as_the_kernel_says_not_as_the_client_claims() -> None:
    if os.geteuid() != 0:
        pytest.skip("a client of another user needs root to fork it")
    daemon = Recorder()
    with shared_directory() as directory:
        sock = directory / "control.sock"
        with served(sock, daemon, group="nogroup"):
            pid, answer = exchange_as(sock, NOBODY, NOBODY, PING)
    assert reply(answer)["ok"] is True
    assert daemon.peers == [Peer(pid=pid, uid=NOBODY, gid=NOBODY)]


def test_a_peer_is_named_by_its_user_or_by_its_uid_when_it_has_none() -> None:
    unnamed = next(uid for uid in range(54321, 60000) if uid not in {u.pw_uid for u in
                                                                   pwd.getpwall()})  # fmt: skip
    assert Peer(pid=1, uid=NOBODY, gid=NOBODY).user == "nobody"
    assert Peer(pid=1, uid=unnamed, gid=NOBODY).user == str(unnamed)


def test_each_line_gets_one_reply_in_order(sock: Path) -> None:
    daemon = Recorder()
    with served(sock, daemon), connect(sock) as client:
        client.sendall(PING + b"[]\n" + PING)
        replies = [reply(read_line(client)) for _ in range(3)]
    assert [r["ok"] for r in replies] == [True, False, True]
    assert daemon.requests == [Ping(), Ping()]


def test_a_1_MB_line_is_refused_and_closes_only_its_own_connection(sock: Path) -> None:
    daemon = Recorder()
    with served(sock, daemon), connect(sock) as big, connect(sock) as other:
        huge = b'{"op": "exempt", "subscriber": "bob", "reason": "' + b"x" * 1_000_000 + b'"}\n'
        # Closed on us mid-send, maybe: the reply is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            big.sendall(huge)
        answer = reply(read_line(big))
        assert closed(big)
        assert reply(exchange(other, PING))["ok"] is True
        with connect(sock) as later:
            assert reply(exchange(later, PING))["ok"] is True
    assert answer == {"ok": False, "error": "request line over 65536 bytes; closing the "
                      "connection"}  # fmt: skip
    assert daemon.requests == [Ping(), Ping()]


def test_a_line_of_exactly_64_KiB_is_served(sock: Path) -> None:
    with served(sock, Recorder()), connect(sock) as client:
        assert reply(exchange(client, PING[:-1].ljust(65536) + b"\n"))["ok"] is True


def test_garbage_bytes_are_refused_and_the_connection_goes_on(sock: Path) -> None:
    daemon = Recorder()
    with served(sock, daemon), connect(sock) as client:
        garbage = reply(exchange(client, b"\x00\x01\x02GET / HTTP/1.1\r\n"))
        assert reply(exchange(client, PING))["ok"] is True
    assert garbage["ok"] is False and str(garbage["error"]).startswith("not JSON")
    assert daemon.requests == [Ping()]


def test_invalid_utf8_is_refused(sock: Path) -> None:
    daemon = Recorder()
    with served(sock, daemon), connect(sock) as client:
        answer = reply(exchange(client, b'{"op": "release", "subscriber": "b\xc3\x28b"}\n'))
    assert answer == {"ok": False, "error": "not UTF-8 (byte 34): a request is a JSON object on "
                      "one line"}  # fmt: skip
    assert daemon.requests == []


def test_a_json_array_is_refused(sock: Path) -> None:
    daemon = Recorder()
    with served(sock, daemon), connect(sock) as client:
        answer = reply(exchange(client, b'[{"op": "ping"}]\n'))
    assert answer == {"ok": False, "error": "expected a JSON object, got a JSON array"}
    assert daemon.requests == []


def test_a_client_that_says_nothing_does_not_hold_up_another(sock: Path) -> None:
    with served(sock, Recorder()), connect(sock) as silent, connect(sock) as client:
        started = time.monotonic()
        assert reply(exchange(client, PING))["ok"] is True
        assert time.monotonic() - started < 1
        silent.settimeout(0.2)
        with pytest.raises(TimeoutError):
            silent.recv(1)  # still connected, still waited for


def test_a_silent_client_is_disconnected_after_the_idle_timeout(sock: Path) -> None:
    with served(sock, Recorder(), idle_timeout=0.3), connect(sock) as silent:
        started = time.monotonic()
        assert closed(silent)
        assert 0.2 < time.monotonic() - started < 3


def test_a_client_over_the_limit_is_told_busy_and_the_others_are_served(sock: Path) -> None:
    with served(sock, Recorder(), max_clients=2), connect(sock) as first, connect(sock) as second:
        with connect(sock) as third:
            busy = reply(read_line(third))
        assert reply(exchange(first, PING))["ok"] is True
        assert reply(exchange(second, PING))["ok"] is True
    assert busy == {"ok": False, "error": "busy: 2 clients are connected; try again"}


def test_a_handler_that_raises_gets_an_error_reply_and_the_daemon_goes_on(sock: Path) -> None:
    async def broken(request: Request, peer: Peer | None) -> dict[str, object]:
        if isinstance(request, Ping):
            return {"ok": True}
        raise KeyError("carol")

    with served(sock, broken), connect(sock) as client:
        failed = reply(exchange(client, b'{"op": "release", "subscriber": "carol"}\n'))
        assert reply(exchange(client, PING)) == {"ok": True}
    assert failed == {"ok": False, "error": "internal error, logged by the daemon: KeyError: "
                      "'carol'"}  # fmt: skip


def test_a_handler_refusing_a_request_tells_the_client_why(sock: Path) -> None:
    async def refuse(request: Request, peer: Peer | None) -> dict[str, object]:
        raise UsageError("no subscriber named 'carol'")

    with served(sock, refuse), connect(sock) as client:
        answer = reply(exchange(client, b'{"op": "release", "subscriber": "carol"}\n'))
    assert answer == {"ok": False, "error": "no subscriber named 'carol'"}


def test_the_socket_is_mode_0660_and_in_the_configured_group(sock: Path) -> None:
    group = grp.getgrgid(os.getgid() if os.geteuid() != 0 else 65534)
    with served(sock, Recorder(), group=group.gr_name):
        info = os.stat(sock)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o660
    assert info.st_gid == group.gr_gid


def test_the_socket_is_0660_whatever_the_umask(sock: Path) -> None:
    old = os.umask(0)
    try:
        with served(sock, Recorder()):
            mode = stat.S_IMODE(os.stat(sock).st_mode)
    finally:
        os.umask(old)
    assert mode == 0o660


def test_an_unknown_group_is_refused(sock: Path) -> None:
    assert refused(sock, group="no-such-group") == "[control] group: no group named 'no-such-group'"
    assert not sock.exists()


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o1777])
def test_a_directory_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    directory.chmod(mode)
    message = refused(directory / "control.sock")
    assert "is writable by group or others" in message
    assert message.endswith(f"(run: chmod go-w {directory})")
    assert list(directory.iterdir()) == []


def test_a_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    directory = tmp_path / "data"
    directory.mkdir(mode=0o755)
    os.chown(directory, 65534, -1)
    assert refused(directory / "control.sock").startswith(
        f"{directory} is owned by nobody, not by root who runs the daemon"
    )


def test_a_stale_socket_from_a_crashed_daemon_is_replaced(sock: Path) -> None:
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(str(sock))  # bound, never listening: what a kill -9 leaves behind
    crashed.close()
    with served(sock, Recorder()), connect(sock) as client:
        assert reply(exchange(client, PING))["ok"] is True


def test_a_socket_with_a_live_daemon_behind_it_is_not_taken(sock: Path) -> None:
    first = Recorder()
    with served(sock, first):
        assert refused(sock) == f"a daemon is already listening on {sock}"
        with connect(sock) as client:
            assert reply(exchange(client, PING))["ok"] is True
    assert first.requests == [Ping()]


def test_a_file_that_is_not_a_socket_is_left_alone(sock: Path) -> None:
    sock.write_text("precious")
    assert refused(sock).startswith(f"{sock} exists and is not a socket")
    assert sock.read_text() == "precious"
