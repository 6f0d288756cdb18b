"""The operator's actions on overrides (limit, exempt, topup, release, and removal by id): one
path for the CLI and the console.

Through the running daemon's control socket, which applies an action at once; with no daemon
running, written into the ledger under the writer lock, for the next daemon to apply. The
daemon and the commands are not imported here: the console acts through this module and may
know neither (the import contracts in pyproject.toml).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nmsquota.clock import Clock
from nmsquota.config import Config
from nmsquota.control import socket_path
from nmsquota.control.client import request as send
from nmsquota.control.protocol import (
    Exempt,
    Limit,
    OverrideRemove,
    Release,
    Response,
    Topup,
    parse_request,
)
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger import Ledger, LedgerMissing
from nmsquota.ledger.records import EventRecord
from nmsquota.overrides import apply_override, remove_override
from nmsquota.plans import roster_of

Action = Limit | Exempt | Topup | Release | OverrideRemove
"""Every request an operator's action sends (nmsquota.control.protocol), validated."""

Kind = Literal["limit", "release", "exempt", "topup", "remove"]
"""An action as the operator names it; "remove" drops one override, by its id."""


def action_request(kind: Kind, subscriber: str = "", *, reason: str | None = None,
                   duration: str | None = None, size: str | None = None,
                   cap: str | None = None, override_id: str = "") -> Action:  # fmt: skip
    """The request for an action from the operator's text, checked as the daemon checks it:
    RequestError (a UsageError, one line naming the field) for a bad duration, size, id or
    name, or an empty reason. A reason given, even empty, is checked; None leaves it out,
    which only a release allows. `duration`, `cap`: None for until removed, the whole plan."""
    fields: dict[str, object]
    if kind == "remove":
        fields = {"op": "override", "action": "remove", "id": override_id}
    else:
        fields = {"op": kind, "subscriber": subscriber}
    if kind in ("limit", "exempt", "topup"):
        fields |= {"for": duration, "cap": cap}
    if reason is not None:
        fields["reason"] = reason
    if kind == "topup":
        fields["size"] = size
    request = parse_request(fields)
    assert isinstance(request, Action)  # what "op" (and "action") asked for
    return request


@dataclass(frozen=True)
class Outcome:
    """What became of an action."""

    message: str
    """What the daemon (or, with no daemon, the ledger's writer) said it did."""
    subscriber: str
    """Whose override it was (a removal names only an id: the answer says whose)."""
    applied_now: bool
    """True: the daemon applied it at once; False: written into the ledger, no daemon running,
    for the next daemon to apply at its start."""
    limited: bool
    """Whether the subscriber is limited now, as the daemon said (False with no daemon)."""

    def __str__(self) -> str:
        """The one line the CLI prints and the console shows."""
        if not self.applied_now:
            return f"{self.message} (no daemon running: applied at its next start)"
        state = "limited" if self.limited else "not limited"
        return f"{self.message} (applied now: {self.subscriber} is {state})"


@dataclass(frozen=True)
class Performer:
    """Performs operator actions on the ledger in `directory` (or at `location`): through
    the daemon listening on `socket` (default: `directory`'s control socket), else into the
    ledger.
    `config` checks the subscriber and the cap when no daemon runs (a removal by id needs
    none); `author` is who asked, recorded when no daemon runs (default: this process's
    user; through the daemon, the kernel names the client's user)."""

    config: Config | None
    directory: Path
    clock: Clock
    socket: Path | None = None
    author: str | None = None
    timeout: float = 30.0
    """Seconds the daemon has to answer."""
    location: Path | str | None = None
    """The ledger, when it is not in `directory` (a database URL)."""

    @property
    def ledger(self) -> Path | str:
        return self.directory if self.location is None else self.location

    def perform(self, action: Action) -> Outcome:
        """Do `action`; NmsquotaError, one line, when it is refused (by the daemon, by the
        roster, for an id no override has), changing nothing."""
        reply = send(self.socket or socket_path(self.directory), action, timeout=self.timeout)
        if reply is not None:
            return _answered(action, reply)
        return self._record(action)

    def _record(self, action: Action) -> Outcome:
        if self.config is None and not isinstance(action, OverrideRemove):
            raise UsageError("no daemon running and no configuration to check the subscriber "
                             "against: give --config FILE")  # fmt: skip
        if isinstance(action, OverrideRemove):
            try:  # no ledger, no override: refused without making an empty ledger there
                Ledger.open_reader(self.ledger)
            except LedgerMissing as error:
                raise NmsquotaError(f"{error}: no override to remove") from None
        # Who asked: this process's user (through the daemon, the client's, by SO_PEERCRED).
        author = self.author if self.author is not None else getpass.getuser()
        with Ledger.open_writer(self.ledger) as ledger, ledger.batch():
            events: list[EventRecord] = []
            now = int(self.clock.now())
            if isinstance(action, OverrideRemove):
                message, subscriber = remove_override(ledger, action, now, events, author=author)
            else:
                assert self.config is not None
                # Without the daemon's view of who is online, those it last decided on stand
                # in.
                online = [r.subscriber for r in ledger.records.standings()]
                roster = roster_of(self.config, ledger.records.provisioned(), online)
                message = apply_override(ledger, action, now, roster, events, author=author)
                subscriber = action.subscriber
            ledger.records.add_events(events)
        return Outcome(message, subscriber, applied_now=False, limited=False)


def _answered(action: Action, reply: Response) -> Outcome:
    if not reply.ok:
        raise NmsquotaError(f"the daemon refused: {reply.error}")
    # A removal names an id: the daemon says whose override it was.
    subscriber = str(reply.get("subscriber") or getattr(action, "subscriber", ""))
    limited = subscriber in reply.get("limited", [])
    return Outcome(reply.message, subscriber, applied_now=True, limited=limited)
