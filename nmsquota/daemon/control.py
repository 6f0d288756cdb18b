"""The daemon's side of the control socket (nmsquota.control): session events from
ip-up/ip-down and the operator's commands, each decided and enforced at once.

Requests arrive validated and typed (nmsquota.control.protocol): what is checked here is
only what the daemon knows, the roster. An override for a subscriber nobody knows, and a
session of a login nobody knows (unless `default_plan` gives the unlisted a plan), are
refused and change nothing; so is a session's end for a login that is neither a subscriber
nor has a session the daemon knows. The end of a subscriber's session the daemon does not
know (it restarted since the ip-up) is ok and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nmsquota.control.peer import Peer
from nmsquota.control.protocol import (
    Exempt,
    Limit,
    OverrideRemove,
    Ping,
    Release,
    Request,
    Session,
    SubscriberAdd,
    SubscriberRemove,
    SubscriberSet,
    Topup,
)
from nmsquota.errors import UsageError
from nmsquota.ledger.records import EventRecord
from nmsquota.overrides import apply_override, remove_override

from .roster import provision

if TYPE_CHECKING:
    from .core import Daemon


def dispatch(daemon: Daemon, request: Request, peer: Peer | None,
             events: list[EventRecord]) -> dict[str, Any]:  # fmt: skip
    """One control-socket request: its reply, and what it tells the event log in `events`
    (the caller holds a batch and adds them). A request the daemon refuses raises
    NmsquotaError (UsageError), which the control server sends back as {"ok": false,
    "error": ...}."""
    match request:
        case Ping():
            return daemon.ping()
        case Session(event="up", login=login) if not daemon.roster().may_log_in(login):
            raise UsageError(f"no subscriber named {login!r} (not in the configuration, not "
                             "provisioned, and no default_plan for others)")  # fmt: skip
        case Session(event="down", login=login) if not daemon.sessions.knows(login):
            return _nothing_to_end(daemon, login)
        case Session():
            daemon.session_event(request.event, request.interface, request.login,
                                 request.address, events)  # fmt: skip
            # A session that starts over the cap is limited now, not at the next cycle.
            return daemon.enforce_now(events)
        case SubscriberAdd() | SubscriberSet() | SubscriberRemove():
            message = provision(daemon.ledger, daemon.config, request)
            return {**daemon.enforce_now(events), "message": message}
        case Limit() | Exempt() | Topup() | Release():
            # The author as the kernel names the client's user: what the read API shows.
            author = peer.user if peer is not None else None
            message = apply_override(daemon.ledger, request, int(daemon.clock.now()),
                                     daemon.roster(), events, author=author)  # fmt: skip
            return {**daemon.enforce_now(events), "message": message}
        case OverrideRemove():
            message, subscriber = remove_override(
                daemon.ledger, request, int(daemon.clock.now()), events,
                author=peer.user if peer is not None else None,
            )  # fmt: skip
            # Re-decided and enforced at once, as after any other override request.
            return {**daemon.enforce_now(events), "message": message, "subscriber": subscriber}
        case _:  # a caller's bug (a list of words, say), not a client's: it is validated
            raise TypeError(f"not a control request: {request!r}")


def _nothing_to_end(daemon: Daemon, login: str) -> dict[str, Any]:
    """A down for a session the daemon does not know. A subscriber's is harmless (the daemon
    restarted since the ip-up, say): ok, and nothing recorded of a session nobody saw. Any
    other login's is refused: the name would otherwise enter the sessions, and with
    `default_plan` the roster."""
    if login not in daemon.roster().plans:
        raise UsageError(f"no subscriber named {login!r} (not in the configuration, not "
                         "provisioned, not seen on the network): no session to end")  # fmt: skip
    return {"ok": True, "message": f"no session of {login} known: nothing changed"}
