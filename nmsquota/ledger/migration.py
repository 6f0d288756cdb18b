"""Records written before they had types (no `version` field) brought to version 1.

Until version 1 the ledger kept its records as plain dicts, a standing's state as a
`limited` flag and its reason as text. Each function here takes one such record and returns
it as version 1 has it, for the record types to validate; a record it cannot make sense of
raises MigrationError, which the ledger reports with the file and the kind (nothing is
dropped or guessed at). The reason texts are parsed here and nowhere else: they are the
exact forms the policy wrote (see nmsquota.verdict.Reason.text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from nmsquota.ledger.records import RECORD_VERSION
from nmsquota.verdict import ReasonKind, State

Doc = dict[str, Any]

_OVER = re.compile(
    r"over (?:(?P<at>[0-9.e+-]+)% of )?cap(?: (?P<name>[^:]+))?: "
    r"(?P<used>\d+) of (?P<cap>\d+) bytes"
)


class MigrationError(ValueError):
    pass


def _versioned(doc: Doc) -> Doc:
    return {**doc, "version": RECORD_VERSION}


def _plan(doc: Doc) -> Doc:
    # The old writer put the plan's name first and the cap's own `name` (usually null) over
    # it: the plan's name is gone, and `name` is the cap's.
    return {"plan": None, **doc, "version": RECORD_VERSION}


def _override(doc: Doc) -> Doc:
    return {**doc, "author": None, "version": RECORD_VERSION}


def reason_of(text: str, step_at: float | None = None) -> Doc | None:
    """A reason as version 1 stores it, from the text the policy wrote ("" for none).
    `step_at` (the standing's own, exact) is preferred to the text's rounded figure."""
    if text == "":
        return None
    for kind in (ReasonKind.FORCED, ReasonKind.EXEMPT):
        if text.startswith(f"{kind.value}: "):
            return {"kind": kind.value, "note": text[len(kind.value) + 2 :]}
    match = _OVER.fullmatch(text)
    if match is None:
        raise MigrationError(f"a reason nmsquota never wrote: {text!r:.80}")
    at = match["at"]
    return {"kind": ReasonKind.OVER.value, "cap_name": match["name"] or "",
            "step_at": step_at if step_at is not None or at is None else float(at),
            "used": int(match["used"]), "cap": int(match["cap"])}  # fmt: skip


def _state(limited: bool, reason: Doc | None, step: Any, warned: Any) -> State:
    kind = reason["kind"] if reason else None
    if limited:
        if kind == ReasonKind.FORCED:
            return State.FORCED
        return State.STEPPED if step is not None else State.LIMITED
    if kind == ReasonKind.EXEMPT:
        return State.EXEMPT
    return State.WARNED if warned else State.OK


def _cap_standing(doc: Doc) -> Doc:
    old = dict(doc)
    limited = old.pop("limited", None)
    if not isinstance(limited, bool):
        raise MigrationError(f"`limited` should be true or false, got {limited!r:.40}")
    text = old.pop("reason", "")
    if not isinstance(text, str):
        raise MigrationError(f"`reason` should be text, got {text!r:.40}")
    step_at = old.get("step_at")
    reason = reason_of(text, step_at if isinstance(step_at, float | int) else None)
    state = _state(limited, reason, old.get("step"), old.get("warned"))
    return {**old, "state": state.value, "reason": reason}


def _standing(doc: Doc) -> Doc:
    new = _cap_standing(doc)
    if "caps" in new:
        caps = new["caps"]
        if not isinstance(caps, list):
            raise MigrationError(f"`caps` should be a list, got {caps!r:.40}")
        new["caps"] = [_cap_standing(cap) if isinstance(cap, dict) else cap for cap in caps]
    return _versioned(new)


MIGRATIONS: dict[str, Callable[[Doc], Doc]] = {
    "subscribers": _versioned,
    "provisioned": _versioned,
    "plans": _plan,
    "overrides": _override,
    "standings": _standing,
    "daemon": _versioned,
    "limits": _versioned,
}
"""Kinds that existed before version 1, and how to bring each of their records to it.
(`devices`, `sessions` and `events` began at version 1.)"""
