"""The control protocol's framing, light enough for any client: a request line out, the
daemon's reply line back, over the UNIX socket. The requests themselves (what may be sent,
validated) are nmsquota.control.protocol's; this module knows only lines and replies.

Split from it because a reply is plain JSON while the requests' models cost an import of
pydantic (~0.15 s): the check plugin's ping, asked every few minutes by a monitoring core,
needs only this.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nmsquota.errors import NmsquotaError

MAX_REPLY = 16 * 1024 * 1024
"""A reply names every limited subscriber: megabytes for a large ISP, not more."""

PING_LINE = b'{"op":"ping"}\n'
"""The ping request as encode_request writes it (a test holds the two the same): the one
request with no values, sent where the protocol's models would cost more than the answer."""


class ControlError(NmsquotaError):
    """The control socket could not be used: permissions, a daemon that does not answer."""


def shown(value: Any, limit: int = 40) -> str:
    """A value as an error message quotes it: repr (so a newline shows as \\n) and short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def exchange(path: Path, line: bytes, timeout: float = 30.0) -> Response | None:
    """Send one encoded request line to the daemon listening on `path` and return its
    reply; None when no daemon listens there. ControlError when the socket cannot be used or
    the daemon does not answer within `timeout` s."""
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


@dataclass(frozen=True)
class Response:
    """The daemon's reply: `ok`, the `error` when not, and whatever else it said."""

    ok: bool
    error: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return str(self.fields.get("message", ""))

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def encode_response(reply: Mapping[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":"), default=str).encode("ascii") + b"\n"


def refusal(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def decode_response(line: bytes) -> Response:
    """The daemon's reply line, or ControlError when it is not one."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        raise ControlError(f"the daemon's reply is not JSON: {shown(line)}") from None
    if not isinstance(value, dict) or not isinstance(value.get("ok"), bool):
        raise ControlError(f"the daemon's reply has no ok: {shown(line)}")
    error = "" if value["ok"] else str(value.get("error") or "no reason given")
    return Response(value["ok"], error, value)
