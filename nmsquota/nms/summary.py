"""The NMS summary: what the monitoring faces report of one commit of the ledger, in one
small file the daemon writes beside it (`nms-summary.json`) after each commit.

Why a file of its own: a monitoring core starts `check_nmsquota` afresh every few minutes,
per service. Reading the ledger through the read API costs that process ~0.5 s at 5,000
subscribers (the record and settings schemas, the snapshot; bench/bench_check.py), three
times the 150 ms a check may take. The summary holds the read API's own judgements (each
cap's percent and state, each driver's health, who is limited and why), made by the daemon
from its snapshot (nmsquota.nms.summarise), so the check parses a little JSON and imports
nothing heavy.

A summary speaks only for the commit it was made from: it names the ledger's state.json by
inode, size and modification time (nmsquota.ledger.commits), and a reader uses it only
while that is still the file on disk (`current`). Anything else (no daemon writing one, a
commit since, a summary of another format) sends the reader to the ledger itself, where a
corrupt or missing ledger is found and named as before.

The file is JSON lines: the first holds the cycle, the counts and the limits; each next
line is one subscriber, `"NAME"<TAB>{facts}`, the name as JSON (so a newline in a name is
`\\n`, never a line of its own). A mode that reports no one subscriber parses only the
first line, and the subscriber mode parses only that subscriber's line: parsing (and, at
the process's exit, freeing) 5,000 subscribers' facts was a third of a check's time.

This module stays light: standard library and orjson only; named tuples, not dataclasses
(several times cheaper to define, which a process this short notices).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from nmsquota import cycles
from nmsquota.ledger.commits import Identity, identity

SUMMARY_NAME = "nms-summary.json"
FORMAT = 2
"""2: with `pops` (issue 24). A reader of another format reads the ledger instead."""


class CapFacts(NamedTuple):
    label: str
    used: int
    cap: int
    percent: float
    state: str
    step_at: float | None
    """The step in force (percent of the cap); None: the cap's own limit, or none."""


class LimitFacts(NamedTuple):
    rate_bps: int
    """0: the rate is not known."""
    reason: str


class SubscriberFacts(NamedTuple):
    name: str
    plan: str | None
    state: str
    caps: tuple[CapFacts, ...]
    limit: LimitFacts | None
    """The limit the drivers hold them at (None: not limited)."""
    measured_bps: float | None
    """What they were measured at when their limit was found not to bite (None: it bites,
    or it was not measured)."""


class DriverFacts(NamedTuple):
    name: str
    health: str
    errors: tuple[str, ...]
    unenforceable: tuple[str, ...]
    added: int
    removed: int
    problems: tuple[str, ...]


class CycleFacts(NamedTuple):
    number: int
    started: float
    interval: int
    seconds: float
    lateness: float
    simulated: bool
    devices_ok: tuple[str, ...]
    devices_failed: Mapping[str, str]
    devices_skipped: tuple[str, ...]
    causes: Mapping[str, str]
    not_effective: tuple[str, ...]
    """Limits not effective, as the cycle's verification and the standings say (sorted)."""
    drivers: tuple[DriverFacts, ...]

    def age(self, now: float) -> float:
        return now - self.started

    def stale(self, now: float) -> bool:
        return cycles.stale(self.age(now), self.interval, self.simulated)


class PopFacts(NamedTuple):
    """One POP's last cycle, where several POPs' daemons share the ledger (standings'
    PopView)."""

    name: str
    deciding: bool
    number: int
    started: float
    interval: int
    simulated: bool
    devices_ok: tuple[str, ...]
    devices_failed: Mapping[str, str]
    sessions: int
    """Online on its access servers: not counted while its daemon is down."""
    other_plans: bool
    """It runs other plans or subscribers than the deciding POP."""
    drivers: tuple[DriverFacts, ...] = ()
    """What its drivers did in its last cycle."""

    def age(self, now: float) -> float:
        return now - self.started

    def stale(self, now: float) -> bool:
        return cycles.stale(self.age(now), self.interval, self.simulated)


class Counts(NamedTuple):
    subscribers: int
    online: int
    limited: int
    """Held at a limited rate by the drivers (a step, a cap's own limit or a force)."""
    stepped: int
    """Of those, held at a graded step before the cap."""
    warned: int
    not_effective: int
    """Limits measured not to bite."""


class Summary(NamedTuple):
    as_of: int | None
    """The moment of the commit it describes (None: no commit yet)."""
    state: Identity
    """The state.json it was made from."""
    cycle: CycleFacts | None
    counts: Counts
    limits: tuple[tuple[str, str], ...]
    """(subscriber, reason) of every limit in force, in the order the daemon recorded them."""
    lines: bytes | None
    """The subscribers' lines, each begun by a newline (parsed only when asked for); None
    when the summary was read without them (`current(..., subscribers=False)`)."""
    pops: tuple[PopFacts, ...] = ()
    """Every POP's last cycle where named POPs' daemons share the ledger; none where one
    daemon writes it."""

    def subscriber(self, name: str) -> SubscriberFacts | None:
        if self.lines is None:
            raise ValueError("this summary was read without its subscribers' lines")
        key = b"\n" + orjson.dumps(name) + b"\t"
        start = self.lines.find(key)
        if start < 0:
            return None
        start += len(key)
        end = self.lines.find(b"\n", start)
        return _subscriber_from(name, orjson.loads(self.lines[start : None if end < 0 else end]))

    def encode(self) -> bytes:
        head = {
            "format": FORMAT,
            "state": list(self.state),
            "as_of": self.as_of,
            "cycle": None if self.cycle is None else _with_drivers_json(self.cycle),
            "counts": self.counts._asdict(),
            "limits": self.limits,
            "pops": [_with_drivers_json(pop) for pop in self.pops],
        }
        if self.lines is None:
            raise ValueError("this summary was read without its subscribers' lines")
        return orjson.dumps(head) + self.lines + b"\n"


def subscriber_lines(found: Iterable[SubscriberFacts]) -> bytes:
    """The subscribers' lines of a summary."""
    return b"".join(
        b"\n" + orjson.dumps(facts.name) + b"\t" + orjson.dumps(_subscriber_json(facts))
        for facts in found
    )


def path_in(directory: Path) -> Path:
    return directory / SUMMARY_NAME


def current(directory: Path, subscribers: bool = True) -> Summary | None:
    """The summary of the ledger in `directory` as it is on disk now, or None: there is
    none, it describes an earlier commit, or it cannot be read (the caller reads the ledger
    itself). `subscribers=False` reads the head line only (20 MB of lines at 100,000
    subscribers are not read for a count); its `subscriber` then refuses to answer."""
    now_state = identity(directory)
    if now_state is None:
        return None
    try:
        with path_in(directory).open("rb") as file:
            first = file.readline()
            # The rest from the same open file: a summary replaced meanwhile is another file.
            # (readline took the newline that begins the first subscriber's line.)
            rest = b"\n" + file.read().rstrip(b"\n") if subscribers else None
        head = orjson.loads(first)
        if head.get("format") != FORMAT or tuple(head["state"]) != now_state:
            return None
        return _summary_from(head, rest)
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        # Anything unexpected in a file nobody but the daemon writes: not trusted, and not
        # this reader's business to report (the ledger, read instead, is the authority).
        return None


def _summary_from(head: Mapping[str, Any], lines: bytes | None) -> Summary:
    state = head["state"]
    if len(state) != 3:
        raise ValueError("state")
    return Summary(
        as_of=head["as_of"],
        state=(state[0], state[1], state[2]),
        cycle=None if head["cycle"] is None else _cycle_from(head["cycle"]),
        counts=Counts(**head["counts"]),
        limits=tuple((str(who), str(why)) for who, why in head["limits"]),
        lines=lines,
        pops=tuple(_pop_from(pop) for pop in head["pops"]),
    )


def _pop_from(data: Mapping[str, Any]) -> PopFacts:
    fields = dict(data)
    fields["devices_ok"] = tuple(fields["devices_ok"])
    fields["drivers"] = tuple(_driver_from(driver) for driver in fields.get("drivers", ()))
    return PopFacts(**fields)


def _subscriber_json(facts: SubscriberFacts) -> dict[str, Any]:
    return {
        "plan": facts.plan,
        "state": facts.state,
        "caps": [cap._asdict() for cap in facts.caps],
        "limit": None if facts.limit is None else facts.limit._asdict(),
        "measured_bps": facts.measured_bps,
    }


def _subscriber_from(name: str, data: Mapping[str, Any]) -> SubscriberFacts:
    limit = data["limit"]
    return SubscriberFacts(
        name=name,
        plan=data["plan"],
        state=data["state"],
        caps=tuple(CapFacts(**cap) for cap in data["caps"]),
        limit=None if limit is None else LimitFacts(**limit),
        measured_bps=data["measured_bps"],
    )


def _with_drivers_json(facts: CycleFacts | PopFacts) -> dict[str, Any]:
    """A cycle's or a POP's facts as JSON, their drivers as objects (not arrays)."""
    found = facts._asdict()
    found["drivers"] = [driver._asdict() for driver in facts.drivers]
    return found


def _cycle_from(data: Mapping[str, Any]) -> CycleFacts:
    fields = dict(data)
    fields["drivers"] = tuple(_driver_from(driver) for driver in fields["drivers"])
    for name in ("devices_ok", "devices_skipped", "not_effective"):
        fields[name] = tuple(fields[name])
    return CycleFacts(**fields)


def _driver_from(data: Mapping[str, Any]) -> DriverFacts:
    return DriverFacts(
        name=data["name"],
        health=data["health"],
        errors=tuple(data["errors"]),
        unenforceable=tuple(data["unenforceable"]),
        added=data["added"],
        removed=data["removed"],
        problems=tuple(data["problems"]),
    )
