"""The socat form shown in the ip-up hook's comment: a request line the daemon accepts."""

from __future__ import annotations

import subprocess

import pytest
from conftest import REPO

from nmsquota.control.protocol import RequestError, Session, decode_request

IP_UP = REPO / "nmsquota" / "data" / "ip-up"


def printf_of_the_comment() -> str:
    """The comment's `printf ... "$1" "$PEERNAME" "$5"`, without the socat after it."""
    lines = [line.removeprefix("#").strip() for line in IP_UP.read_text().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("printf "))
    command = lines[start].removesuffix("\\") + " " + lines[start + 1]
    return command.split(" | socat ")[0]


def line_for(interface: str, login: str, address: str) -> bytes:
    script = printf_of_the_comment()
    return subprocess.run(["sh", "-c", script, "ip-up", interface, "/dev/ttyS1", "115200",
                           "192.0.2.1", address], env={"PEERNAME": login}, capture_output=True,
                          check=True).stdout  # fmt: skip


def test_the_comment_shows_a_session_line_the_daemon_accepts() -> None:
    assert "UNIX-CONNECT:/var/lib/nmsquota/control.sock" in IP_UP.read_text()
    line = line_for("ppp3", "davidn", "203.0.113.7")
    assert decode_request(line) == Session(event="up", interface="ppp3", login="davidn",
                                           address="203.0.113.7")  # fmt: skip


@pytest.mark.parametrize("login", ['carol","login":"bob', 'x","event":"down', "bob\\"])
def test_a_login_that_tries_to_rewrite_the_line_is_refused(login: str) -> None:
    with pytest.raises(RequestError):
        decode_request(line_for("ppp3", login, "203.0.113.7"))
