"""Talking to the daemon: one request, one reply, for the CLI, the console and scripts.

Requests are typed values (nmsquota.control.protocol), or dicts checked into them here,
before anything is sent: a bad value is the caller's RequestError, never the daemon's
problem. A caller never builds a request line by hand.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nmsquota.control.protocol import (
    ControlError,
    Request,
    Response,
    decode_response,
    encode_request,
    parse_request,
)

MAX_REPLY = 16 * 1024 * 1024
"""A reply names every limited subscriber: megabytes for a large ISP, not more."""


def request(path: Path, message: Request | Mapping[str, Any], timeout: float = 30.0
            ) -> Response | None:  # fmt: skip
    """Send one request to the daemon listening on `path` and return its reply; None when
    no daemon listens there. RequestError for a request that is not valid, ControlError
    when the socket cannot be used or the daemon does not answer within `timeout` s."""
    checked = parse_request(message) if isinstance(message, Mapping) else message
    line = encode_request(checked)
    deadline = time.monotonic() + timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(str(path))
            except (FileNotFoundError, ConnectionRefusedError):
                return None
            sock.sendall(line)
            return decode_response(_read_line(sock, deadline))
    except PermissionError:
        raise ControlError(_no_permission(path)) from None
    except TimeoutError:
        raise ControlError(f"the daemon on {path} did not answer within {timeout:g}s") from None
    except OSError as error:
        raise ControlError(f"cannot talk to the daemon on {path}: {error.strerror or error}"
                           ) from None  # fmt: skip


def _no_permission(path: Path) -> str:
    # A directory this user may not enter hides whether a daemon listens at all: name the
    # directory, not the socket's group, which would send the operator the wrong way.
    if not os.access(path.parent, os.X_OK):
        return (f"cannot reach the control socket {path}: no permission to enter "
                f"{path.parent} (Permission denied; nmsquota runs as uid {os.geteuid()}: "
                "check the owner and mode of the ledger directory)")  # fmt: skip
    return (f"no permission to use {path}: it is for the daemon's user and the group in "
            "[control] group")  # fmt: skip


def _read_line(sock: socket.socket, deadline: float) -> bytes:
    data = bytearray()
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise ControlError("the daemon closed the connection without a reply")
        data += chunk
        if len(data) > MAX_REPLY:
            raise ControlError(f"the daemon's reply is over {MAX_REPLY} bytes")
    return bytes(data)
