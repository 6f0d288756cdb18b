"""Whose bytes are these: interface readings of one access server in, charges per subscriber out.

Pure, like counters.py, which it applies per interface. Two rules keep one subscriber's bytes
off another's bill:

- Counters are kept per session identity (access server, ifIndex, interface name, subscriber,
  session id), never per bare ifIndex: when an ifIndex or a PPP unit changes hands, the new
  owner's first reading is a baseline.
- Only interfaces seen in the last poll keep a baseline. accel-ppp's unit-cache hands an
  ended session's interface, counters still running, to the next session; if subscriber A
  comes back to it later, whatever B did in between must not be charged to A.

A failed read of a present interface keeps its baseline (counters.py); a whole access server
that did not answer is not polled at all and keeps every baseline (the caller's job).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from nmsquota.counters import Charge, Reading, Verdict, charge
from nmsquota.usage import Sample

Direction = Literal["out", "in"]
Field = Literal["ifName", "ifDescr", "ifAlias"]


@dataclass(frozen=True, slots=True)
class Interface:
    """An IF-MIB ifTable/ifXTable row's identity."""

    index: int
    name: str = ""
    descr: str = ""
    alias: str = ""

    def field(self, which: Field) -> str:
        return {"ifName": self.name, "ifDescr": self.descr, "ifAlias": self.alias}[which]


@dataclass(frozen=True, slots=True, order=True)
class SessionKey:
    access_server: str
    index: int
    interface: str
    subscriber: str
    session: str = ""

    def encode(self) -> str:
        # Tab-separated: no field of an SNMP interface name or login contains a tab in practice,
        # and a stored key must round-trip exactly.
        return "\t".join(
            (self.access_server, str(self.index), self.interface, self.subscriber, self.session)
        )

    @classmethod
    def decode(cls, text: str) -> SessionKey:
        server, index, interface, subscriber, session = text.split("\t")
        return cls(server, int(index), interface, subscriber, session)


@dataclass(frozen=True)
class Rule:
    """A pattern on one interface field whose named group `user` is the subscriber."""

    field: Field
    pattern: re.Pattern[str]

    @classmethod
    def compile(cls, field: Field, pattern: str) -> Rule:
        compiled = re.compile(pattern)
        if "user" not in compiled.groupindex:
            raise ValueError(f"pattern {pattern!r} has no (?P<user>...) group")
        return cls(field, compiled)


@dataclass(frozen=True)
class InterfaceMap:
    """Which subscriber is on an interface: the static table first, then session events
    (interface name -> login, from ip-up), then the patterns in order."""

    rules: Sequence[Rule] = ()
    static: Mapping[str, str] = field(default_factory=dict)
    sessions: Mapping[str, str] = field(default_factory=dict)

    def subscriber(self, interface: Interface) -> str | None:
        for name in (interface.name, interface.descr):
            if name and name in self.static:
                return self.static[name]
        for name in (interface.name, interface.descr):
            if name and name in self.sessions:
                return self.sessions[name]
        for rule in self.rules:
            match = rule.pattern.fullmatch(interface.field(rule.field))
            if match and match.group("user"):
                return match.group("user")
        return None


@dataclass
class Attribution:
    """One access server's cycle: what each subscriber is charged, and what to keep."""

    samples: list[Sample]
    baselines: dict[SessionKey, Reading]
    charges: list[tuple[SessionKey, Charge]]
    """What every interface was charged, and why."""
    spans: dict[str, float] = field(default_factory=dict)
    """Per subscriber charged, how long their charged intervals were on the agent's clock
    (Charge.seconds): the longest, where they have several sessions. Their samples over
    this are their rate."""

    @property
    def events(self) -> list[tuple[SessionKey, Charge]]:
        """Every interval that was not simply charged (baselines, restarts, spikes, ...)."""
        return [(key, c) for key, c in self.charges if c.verdict is not Verdict.CHARGED]


def attribute(
    previous: Mapping[SessionKey, Reading],
    current: Iterable[tuple[SessionKey, Reading]],
    now: int,
    *,
    download: Direction = "out",
    speed_override_bps: int | None = None,
    origins: Mapping[SessionKey, Reading] | None = None,
) -> Attribution:
    """Charges for one poll of one access server.

    `download` says which counter of the subscriber-facing interface is the subscriber's
    download: octets out of it (the default: the access server sends towards the subscriber)
    or in. `origins` are known starting points for sessions seen for the first time: a
    per-session counter that starts at zero when the session does (accel-ppp) is charged
    from its start, where an interface counter can only start a baseline.
    """
    origins = origins or {}
    per_subscriber: dict[str, list[int]] = {}
    baselines: dict[SessionKey, Reading] = {}
    charges: list[tuple[SessionKey, Charge]] = []
    spans: dict[str, float] = {}
    for key, reading in current:
        before = previous.get(key) or origins.get(key)
        result, baseline = charge(before, reading, speed_override_bps=speed_override_bps)
        if baseline is not None:
            baselines[key] = baseline
        charges.append((key, result))
        if result.bytes_in or result.bytes_out:
            totals = per_subscriber.setdefault(key.subscriber, [0, 0])
            down, up = (
                (result.bytes_out, result.bytes_in)
                if download == "out"
                else (result.bytes_in, result.bytes_out)
            )
            totals[0] += down
            totals[1] += up
            if result.seconds is not None:
                spans[key.subscriber] = max(spans.get(key.subscriber, 0.0), result.seconds)
    samples = [Sample(name, now, down, up) for name, (down, up) in sorted(per_subscriber.items())]
    return Attribution(samples, baselines, charges, spans)


def baselines_to_state(baselines: Mapping[SessionKey, Reading]) -> dict[str, Any]:
    """What the ledger stores as this access server's counter state."""
    # Reading holds scalars only: reading the fields beats asdict()'s deep copy tenfold,
    # and this runs for every session of every access server, every cycle.
    names = [f.name for f in fields(Reading)]
    return {
        key.encode(): {name: getattr(reading, name) for name in names}
        for key, reading in sorted(baselines.items())
    }


def baselines_from_state(state: Mapping[str, Any]) -> dict[SessionKey, Reading]:
    return {SessionKey.decode(key): Reading(**fields) for key, fields in state.items()}
