"""The daemon's side of the control socket (nmsquota.control): session events from
ip-up/ip-down and the operator's commands, each decided and enforced at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nmsquota.errors import NmsquotaError

from .overrides import apply_override
from .roster import provision

if TYPE_CHECKING:
    from .core import Daemon


async def dispatch(daemon: Daemon, words: list[str]) -> dict[str, Any]:
    """One control-socket request."""
    command, args = words[0].lower(), words[1:]
    if command == "ping":
        return {"ok": True, "cycles": daemon.cycles}
    if command in ("up", "down"):
        if len(args) < 3:
            return {"ok": False, "error": f"usage: {command} IFACE LOGIN ADDRESS"}
        daemon.sessions.event(command, *args[:3])
        # A session that starts over the cap is limited now, not at the next cycle.
        return daemon.enforce_now()
    if command == "subscriber":
        try:
            message = provision(daemon.ledger, daemon.config, args)
        except NmsquotaError as error:
            return {"ok": False, "error": str(error)}
        return {**daemon.enforce_now(), "message": message}
    if command in ("limit", "exempt", "topup", "release"):
        if not args:
            return {"ok": False, "error": f"usage: {command} SUBSCRIBER ..."}
        try:
            message = apply_override(daemon.ledger, command, args, int(daemon.clock.now()),
                                     daemon.cap_names)  # fmt: skip
        except NmsquotaError as error:
            return {"ok": False, "error": str(error)}
        return {**daemon.enforce_now(), "message": message}
    return {"ok": False, "error": f"unknown request {command!r}"}
