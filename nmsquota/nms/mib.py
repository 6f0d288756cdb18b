"""NMSQUOTA-MIB (mibs/NMSQUOTA-MIB.txt) as values: the OID tree one ledger snapshot serves.

The tables are built once per snapshot (a sorted list of OIDs, so that getnext is a binary
search); the health scalars are built per request, because the cycle's age and staleness
move with the clock while the ledger does not.

Subscriber and cap names are indexes as length-prefixed octet strings (not IMPLIED): the
cap table's index starts with the subscriber's name, and only the last index of a row may
be IMPLIED, so both tables encode a name the same way and a manager joins their rows on
the same sub-identifiers. The order this gives (shorter names first, then by octet) is
SNMP's lexicographic OID order, which tuple comparison in Python is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from nmsquota.standings import CapView, Snapshot, State, SubscriberView

Oid = tuple[int, ...]
WireType = Literal["integer", "gauge", "counter64", "string"]
"""The pass_persist type words this MIB needs (Unsigned32 travels as Gauge32, the same
ASN.1 type; CounterBasedGauge64 as Counter64)."""

ROOT: Oid = (1, 3, 6, 1, 4, 1, 8072, 9999, 6678)
"""nmsquotaMIB: netSnmpExperimental.6678, the OID snmpd's pass_persist line registers."""
NOTIFICATIONS: Oid = (*ROOT, 0)
LIMIT_APPLIED: Oid = (*NOTIFICATIONS, 1)
"""nqLimitApplied"""
LIMIT_LIFTED: Oid = (*NOTIFICATIONS, 2)
"""nqLimitLifted"""
HEALTH: Oid = (*ROOT, 1, 1)
SUBSCRIBER_ENTRY: Oid = (*ROOT, 1, 2, 1)
CAP_ENTRY: Oid = (*ROOT, 1, 3, 1)

MAX_NAME = 80
"""Octets of a subscriber's name that still leave room in 128 sub-identifiers for a cap's."""
MAX_CAP_NAME = 32
GAUGE_MAX = 2**32 - 1
COUNTER64_MAX = 2**64 - 1

STATE_NUMBER = {
    State.OK: 1,
    State.WARNED: 2,
    State.TOPPED_UP: 3,
    State.STEPPED: 4,
    State.LIMITED: 5,
    State.FORCED: 6,
    State.EXEMPT: 7,
}
"""NqState in the MIB."""
TRUE, FALSE = 1, 2
"""TruthValue (RFC 2579)."""


@dataclass(frozen=True, slots=True)
class Value:
    """One object instance's value, as pass_persist writes it."""

    type: WireType
    value: int | str

    def __post_init__(self) -> None:
        if isinstance(self.value, str):
            # A line break would end the answer early and make snmpd read the rest as
            # the next one.
            object.__setattr__(self, "value", " ".join(self.value.splitlines()))


Binding = tuple[Oid, Value]


def gauge(number: float) -> Value:
    """Gauge32 (and Unsigned32): latched at its maximum, never wrapped (RFC 2578 7.1.7)."""
    return Value("gauge", min(max(int(number), 0), GAUGE_MAX))


def counter64(number: int) -> Value:
    return Value("counter64", min(max(number, 0), COUNTER64_MAX))


def truth(flag: bool) -> Value:
    return Value("integer", TRUE if flag else FALSE)


def text(string: str | None) -> Value:
    return Value("string", string or "")


def tenths(percent: float) -> Value:
    """NqPercentTenths: 87.46% is 874, shown by the MIB's DISPLAY-HINT as 87.4."""
    return gauge(percent * 10)


def name_index(name: str, limit: int) -> Oid | None:
    """A name as a length-prefixed OCTET STRING index (None: empty or over `limit` octets,
    so no row)."""
    octets = name.encode("utf-8")
    if not 0 < len(octets) <= limit:
        return None
    return (len(octets), *octets)


class Tree:
    """Object instances in lexicographic OID order, for get and getnext."""

    def __init__(self, bindings: list[Binding]) -> None:
        bindings.sort(key=lambda binding: binding[0])
        self._oids = [oid for oid, _ in bindings]
        self._values = dict(bindings)

    def __len__(self) -> int:
        return len(self._oids)

    def get(self, oid: Oid) -> Value | None:
        return self._values.get(oid)

    def next(self, oid: Oid) -> Binding | None:
        """The first instance after `oid` (which need not exist), None past the last."""
        at = bisect_right(self._oids, oid)
        if at == len(self._oids):
            return None
        found = self._oids[at]
        return found, self._values[found]

    def __iter__(self) -> Iterator[Binding]:
        return ((oid, self._values[oid]) for oid in self._oids)


@dataclass(frozen=True, slots=True)
class MibView:
    """What one snapshot serves: its tables, and its health scalars at any moment."""

    snapshot: Snapshot
    tables: Tree
    rows: int
    """Subscribers with a row (a name of at most MAX_NAME octets)."""

    @classmethod
    def of(cls, snapshot: Snapshot) -> MibView:
        rows = sum(name_index(view.name, MAX_NAME) is not None for view in snapshot.subscribers)
        return cls(snapshot, Tree(list(table_bindings(snapshot))), rows)

    def tree(self, now: float) -> tuple[Tree, Tree]:
        """The scalars (all before the tables in OID order) and the tables, at `now`."""
        return Tree(health_bindings(self.snapshot, now, self.rows)), self.tables

    def get(self, oid: Oid, now: float) -> Value | None:
        for tree in self.tree(now):
            found = tree.get(oid)
            if found is not None:
                return found
        return None

    def next(self, oid: Oid, now: float) -> Binding | None:
        for tree in self.tree(now):
            found = tree.next(oid)
            if found is not None:
                return found
        return None


def health_bindings(snap: Snapshot, now: float, rows: int) -> list[Binding]:
    """nqHealth's scalars. Without a cycle only the counts, nqPollerCycle 0 and
    nqPollerStale true: the rest describe a cycle."""
    cycle = snap.cycle
    drivers = cycle.drivers if cycle is not None else ()
    found: dict[int, Value] = {
        1: gauge(snap.as_of or 0),
        2: gauge(cycle.number if cycle is not None else 0),
        12: truth(cycle is None or cycle.stale(now)),
        13: gauge(sum(driver.failing for driver in drivers)),
        14: gauge(sum(driver.health == "drifting" for driver in drivers)),
        15: gauge(sum(view.not_effective for view in snap.subscribers)),
        16: gauge(len(snap.limited)),
        17: gauge(rows),
    }
    if cycle is not None:
        found |= {
            3: gauge(cycle.started),
            4: gauge(cycle.age(now)),
            5: gauge(cycle.seconds * 1000),
            6: gauge(cycle.lateness * 1000),
            7: gauge(cycle.interval),
            8: gauge(len(cycle.devices_ok)),
            9: gauge(len(cycle.devices_failed)),
            10: gauge(len(cycle.devices_skipped)),
            11: truth(cycle.overran),
        }
    return [((*HEALTH, column, 0), value) for column, value in found.items()]


def table_bindings(snap: Snapshot) -> Iterator[Binding]:
    for view in snap.subscribers:
        index = name_index(view.name, MAX_NAME)
        if index is None:
            continue
        for column, value in subscriber_columns(view).items():
            yield (*SUBSCRIBER_ENTRY, column, *index), value
        for cap in view.caps:
            cap_index = name_index(cap.label, MAX_CAP_NAME)
            if cap_index is None:
                continue
            for column, value in cap_columns(cap).items():
                yield (*CAP_ENTRY, column, *index, *cap_index), value


def nearest_cap(view: SubscriberView) -> CapView | None:
    """The cap nearest to its limit: the highest share (the first of the plan's on a tie)."""
    return max(view.caps, key=lambda cap: cap.percent, default=None)


def subscriber_columns(view: SubscriberView) -> dict[int, Value]:
    cap = nearest_cap(view)
    limit = view.limit
    return {
        2: text(view.plan),
        3: Value("integer", STATE_NUMBER[view.state]),
        4: text(cap.label if cap is not None else ""),
        5: counter64(cap.used if cap is not None else 0),
        6: counter64(cap.cap if cap is not None else 0),
        7: tenths(cap.percent if cap is not None else 0.0),
        8: gauge(limit.since if limit is not None else 0),
        9: gauge((limit.rate_bps or 0) if limit is not None else 0),
        10: truth(view.not_effective),
        11: text(limit.reason if limit is not None else ""),
    }


def cap_columns(cap: CapView) -> dict[int, Value]:
    return {
        2: text(cap.tally.key),
        3: counter64(cap.used),
        4: counter64(cap.cap),
        5: tenths(cap.percent),
        6: Value("integer", STATE_NUMBER[cap.state]),
        7: gauge(cap.rate_bps),
        8: gauge(cap.lifts_at or 0),
    }


def limit_notification(subscriber: str, *, applied: bool, state: State, percent: float,
                       since: int | None, rate_bps: int, reason: str,
                       ) -> tuple[Oid, list[Binding]] | None:  # fmt: skip
    """nqLimitApplied (a limit began or changed: a step, a cap, a force) or nqLimitLifted,
    with the objects the MIB's OBJECTS clause names, in its order, indexed by the subscriber
    as their nqSubscriberTable row is. None for a name that has no row (over MAX_NAME)."""
    index = name_index(subscriber, MAX_NAME)
    if index is None:
        return None

    def column(number: int) -> Oid:
        return (*SUBSCRIBER_ENTRY, number, *index)

    state_value = Value("integer", STATE_NUMBER[state])
    if not applied:
        return LIMIT_LIFTED, [(column(3), state_value), (column(7), tenths(percent))]
    return LIMIT_APPLIED, [(column(3), state_value), (column(9), gauge(rate_bps)),
                           (column(8), gauge(since or 0)), (column(11), text(reason))]  # fmt: skip
