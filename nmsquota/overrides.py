"""The operator's overrides (limit, exempt, topup, release, and removal by id) as ledger
records: written by the daemon, or, when no daemon runs, by whoever holds the writer lock for
the operator (nmsquota.actions: the CLI and the console); the policy reads them every
decision. Outside the daemon package so that those writers need not import the daemon."""

from __future__ import annotations

from nmsquota import units
from nmsquota.control.protocol import Exempt, Limit, Override, OverrideRemove, Release, Topup
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventKind, EventRecord, OverrideKind, OverrideRecord
from nmsquota.plans import Roster

KINDS: dict[type[Override], OverrideKind] = {Limit: "force", Exempt: "exempt", Topup: "topup"}
"""The ledger's name for each kind of override."""


def apply_override(ledger: Ledger, request: Override | Release, now: int, roster: Roster,
                   events: list[EventRecord], author: str | None = None) -> str:  # fmt: skip
    """Record an operator's override in the ledger, or drop the subscriber's force
    overrides for a Release, and put what the event log is to say in `events`: the caller
    holds the writer and a batch, and adds the events in it. The request's values are valid
    already (nmsquota.control.protocol); the subscriber and the cap are checked against
    `roster`. `author`: who asked, when known."""
    subscriber = request.subscriber
    # Expired overrides are history: dropped whenever the list changes.
    records = [r for r in ledger.records.overrides() if r.until is None or r.until > now]
    if isinstance(request, Release):
        # A subscriber since removed from the configuration can still be released.
        if not any(r.subscriber == subscriber for r in records):
            roster.plan_of(subscriber)
        kept = [r for r in records if not (r.subscriber == subscriber and r.kind == "force")]
        message = f"{len(records) - len(kept)} force override(s) of {subscriber} removed"
        message += f": {request.reason}" if request.reason is not None else ""
        ledger.records.set_overrides(kept)
        events.append(_event(now, subscriber, message, author))
        return message
    caps = roster.caps(subscriber)  # an unknown subscriber stops here
    if request.cap is not None and request.cap not in caps:
        names = ", ".join(caps) or "none: a one-cap plan"
        raise UsageError(f"{subscriber}'s plan has no cap {request.cap!r} (its caps: {names})")
    until = now + request.duration if request.duration is not None else None
    kind = KINDS[type(request)]
    size = request.size if isinstance(request, Topup) else 0
    record = OverrideRecord(subscriber=subscriber, kind=kind, reason=request.reason, since=now,
                            until=until, bytes=size, cap=request.cap, author=author)  # fmt: skip
    ends = "until removed" if until is None else f"for {units.format_duration(until - now)}"
    on = f" on cap {request.cap}" if request.cap is not None else ""
    message = f"{kind} {subscriber}{on} {ends}: {request.reason}"
    ledger.records.set_overrides([*records, record])
    events.append(_event(now, subscriber, message, author))
    return message


class UnknownOverride(NmsquotaError):
    """No override kept has the id asked for (exit status 1: a fact of the ledger, not a
    malformed request)."""


def remove_override(ledger: Ledger, request: OverrideRemove, now: int, events: list[EventRecord],
                    author: str | None = None) -> tuple[str, str]:  # fmt: skip
    """Drop the override whose id `request` names, with what the event log is to say in
    `events` (the caller holds the writer and a batch). Returns the message and whose
    override it was; UnknownOverride, changing nothing, if no override kept has that id."""
    records = ledger.records.overrides()
    gone = [r for r in records if r.id == request.id]
    if not gone:
        raise UnknownOverride(f"no override with id {request.id} (`nmsquota overrides list` "
                              "shows those in force): nothing removed")  # fmt: skip
    # Expired overrides are history: dropped whenever the list changes, as apply_override.
    kept = [r for r in records if r.id != request.id and (r.until is None or r.until > now)]
    first = gone[0]
    what = describe(first, now)
    several = f"{len(gone)} overrides alike, " if len(gone) > 1 else ""
    message = f"removed {several}{request.id} ({what}): {request.reason}"
    ledger.records.set_overrides(kept)
    events.append(_event(now, first.subscriber, message, author))
    return message, first.subscriber


def describe(record: OverrideRecord, now: int) -> str:
    """An override in a few words: "topup 5.0 GB carol on cap 1d until removed"."""
    size = f" {units.format_bytes(record.bytes)}" if record.kind == "topup" else ""
    on = f" on cap {record.cap}" if record.cap is not None else ""
    if record.until is None:
        ends = "until removed"
    elif record.until > now:
        ends = f"for {units.format_duration(record.until - now)} more"
    else:
        ends = "expired"
    return f"{record.kind}{size} {record.subscriber}{on} {ends}"


def _event(now: int, subscriber: str, message: str, author: str | None) -> EventRecord:
    text = message if author is None else f"{message} (by {author})"
    return EventRecord(time=now, kind=EventKind.OVERRIDE, subscriber=subscriber, text=text)
