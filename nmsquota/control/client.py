"""Talking to the daemon: one request, one reply, for the CLI, the console and scripts.

Requests are typed values (nmsquota.control.protocol), or dicts checked into them here,
before anything is sent: a bad value is the caller's RequestError, never the daemon's
problem. A caller never builds a request line by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nmsquota.control.protocol import Request, encode_request, parse_request
from nmsquota.control.wire import MAX_REPLY, ControlError, Response, exchange

__all__ = ["MAX_REPLY", "ControlError", "Response", "request"]


def request(path: Path, message: Request | Mapping[str, Any], timeout: float = 30.0
            ) -> Response | None:  # fmt: skip
    """Send one request to the daemon listening on `path` and return its reply; None when
    no daemon listens there. RequestError for a request that is not valid, ControlError
    when the socket cannot be used or the daemon does not answer within `timeout` s."""
    checked = parse_request(message) if isinstance(message, Mapping) else message
    return exchange(path, encode_request(checked), timeout)
