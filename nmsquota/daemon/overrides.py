"""The operator's overrides (limit, exempt, topup, release) as ledger records: written by the
daemon, or by the CLI when no daemon runs; the policy reads them every decision."""

from __future__ import annotations

from collections.abc import Callable

from nmsquota import units
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger


def apply_override(ledger: Ledger, command: str, args: list[str], now: int,
                   caps: Callable[[str], list[str] | None] | None = None) -> str:  # fmt: skip
    """Record an operator's override in the ledger (the caller holds the writer).

    limit|exempt SUBSCRIBER [for=DURATION] [cap=NAME] REASON...; topup SUBSCRIBER SIZE
    [for=...] [cap=NAME] REASON...; release SUBSCRIBER (drops its force overrides).
    `caps` names a subscriber's caps (None: not known), to check cap=NAME against."""
    subscriber, rest = args[0], list(args[1:])
    # Expired overrides are history: dropped whenever the list changes.
    records = [r for r in ledger.records("overrides") if r["until"] is None or r["until"] > now]
    if command == "release":
        kept = [r for r in records if not (r["subscriber"] == subscriber and r["kind"] == "force")]
        with ledger.batch():
            ledger.set_records("overrides", kept)
        return f"{len(records) - len(kept)} force override(s) of {subscriber} removed"
    size = 0
    try:
        if command == "topup":
            if not rest:
                raise UsageError("topup needs a size, e.g. 5GB")
            size = units.parse_size(rest.pop(0))
        until, cap = None, None
        while rest and rest[0].startswith(("for=", "cap=")):
            key, _, value = rest.pop(0).partition("=")
            if key == "for":
                until = now + units.parse_duration(value)
            else:
                cap = value
    except units.UnitError as error:
        raise UsageError(str(error)) from None
    known = caps(subscriber) if caps is not None and cap is not None else None
    if known is not None and cap not in known:
        names = ", ".join(known) or "none: a one-cap plan"
        raise UsageError(f"{subscriber}'s plan has no cap {cap!r} (its caps: {names})")
    kind = {"limit": "force", "exempt": "exempt", "topup": "topup"}[command]
    reason = " ".join(rest) or "operator"
    record = {"subscriber": subscriber, "kind": kind, "reason": reason, "since": now,
              "until": until, "bytes": size}  # fmt: skip
    if cap is not None:
        record["cap"] = cap
    with ledger.batch():
        ledger.set_records("overrides", [*records, record])
    ends = "until removed" if until is None else f"for {units.format_duration(until - now)}"
    on = f" on cap {cap}" if cap is not None else ""
    return f"{kind} {subscriber}{on} {ends}: {reason}"
