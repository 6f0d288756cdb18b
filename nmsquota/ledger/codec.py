"""What the ledger's typed records are, apart from where they are kept: each kind's name and
record type, and the documents they are stored as, read back migrated and validated.

Shared by every store of records (the TinyDB state.json of store.py today; a database's
rows later, issue 24), so that a record reads the same, and a bad one is refused with the
same words, whatever keeps it. Knows no storage: documents in, records out, and back.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from nmsquota import gcpause
from nmsquota.ledger.errors import LedgerRecordError
from nmsquota.ledger.migration import MIGRATIONS, MigrationError
from nmsquota.ledger.records import (
    RECORD_VERSION,
    DeviceRecord,
    EventRecord,
    HealthRecord,
    Limit,
    OverrideRecord,
    PlanRecord,
    SessionRecord,
    StandingRecord,
    SubscriberRecord,
)

R = TypeVar("R")

EVENTS_KEPT = 1000
"""The event log keeps this many, the latest."""


@dataclass(frozen=True, eq=False)
class Kind(Generic[R]):
    """A kind of record: the name of its table (in state.json, for the TinyDB store) and
    its type."""

    table: str
    record: type[R]
    per_pop: bool = False
    """Kept per point of presence (issue 24): each POP's daemon writes its own (its access
    servers, its sessions, its last cycle) and readers see every POP's. The other kinds are
    the ledger's, shared by every POP."""

    @functools.cached_property
    def adapter(self) -> TypeAdapter[list[R]]:
        # Built on first use: a reader that never looks at a kind does not pay for it.
        return TypeAdapter(list[self.record])  # type: ignore[name-defined]


SUBSCRIBERS = Kind("subscribers", SubscriberRecord)
PROVISIONED = Kind("provisioned", SubscriberRecord)
PLANS = Kind("plans", PlanRecord)
OVERRIDES = Kind("overrides", OverrideRecord)
STANDINGS = Kind("standings", StandingRecord)
LIMITS = Kind("limits", Limit)
HEALTH = Kind("daemon", HealthRecord, per_pop=True)
DEVICES = Kind("devices", DeviceRecord, per_pop=True)
SESSIONS = Kind("sessions", SessionRecord, per_pop=True)
EVENTS = Kind("events", EventRecord)
KINDS: tuple[Kind[Any], ...] = (SUBSCRIBERS, PROVISIONED, PLANS, OVERRIDES, STANDINGS, LIMITS,
                                HEALTH, DEVICES, SESSIONS, EVENTS)  # fmt: skip


def documents(kind: Kind[R], records: Sequence[R]) -> list[dict[str, Any]]:
    """The records as the documents they are stored as (JSON values)."""
    dumped: list[dict[str, Any]] = kind.adapter.dump_python(list(records), mode="json")
    return dumped


def parse(kind: Kind[R], docs: Sequence[Any], path: Path | str) -> list[R]:
    """Stored documents of `kind` as records: each migrated from an older version where it
    has one, then all validated; LedgerRecordError naming `path`, the kind and the first
    record that does not fit, never a record dropped."""
    with gcpause.paused():
        if _all_current(docs):
            current = list(docs)
        else:
            current = []
            for number, doc in enumerate(docs, start=1):
                try:
                    current.append(_current(kind.table, doc))
                except MigrationError as error:
                    raise LedgerRecordError(path, kind.table, f"record {number}: {error}") from None
        try:
            return kind.adapter.validate_python(current)
        except ValidationError as error:
            raise LedgerRecordError(path, kind.table, _first(error, docs)) from None


def _all_current(docs: Sequence[Any]) -> bool:
    """Whether every document is an object of the current version (an int, not a bool),
    which `_current` would hand on as it is: checked at C speed, the usual case."""
    try:
        versions = list(map(dict.get, docs, repeat("version")))
    except TypeError:  # a document that is not an object
        return False
    return set(map(type, versions)) <= {int} and set(versions) <= {RECORD_VERSION}


def _current(table: str, doc: Any) -> dict[str, Any]:
    """The document as the current version has it: an unversioned one migrated."""
    if not isinstance(doc, dict):
        raise MigrationError(f"it is not a record: {doc!r:.40}")
    version = doc.get("version")
    if version is None:
        migration = MIGRATIONS.get(table)
        if migration is None:
            raise MigrationError("it has no version")
        return migration(doc)
    if type(version) is not int or version < 1:
        raise MigrationError(f"its version is {version!r:.20}")
    if version > RECORD_VERSION:
        raise MigrationError(
            f"it is version {version}, written by a newer nmsquota (this one reads up to "
            f"{RECORD_VERSION}): run that one"
        )
    return doc


def _first(error: ValidationError, docs: Sequence[Any]) -> str:
    """The first problem, as "record 3 (alice): caps.0.used: Input should be ..."."""
    problem = error.errors()[0]
    index, *where = problem["loc"] if problem["loc"] else (0,)
    number = index + 1 if isinstance(index, int) else 1
    doc = docs[number - 1] if isinstance(index, int) and index < len(docs) else {}
    name = doc.get("subscriber") or doc.get("name")
    label = f"record {number}" + (f" ({name})" if isinstance(name, str) else "")
    field = ".".join(str(part) for part in where) or "the record"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{label}: {field}: {problem['msg']}{more}"
