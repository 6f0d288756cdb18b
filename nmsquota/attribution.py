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
        return cls(field, user_pattern(pattern))


class PatternError(ValueError):
    """A pattern that cannot name a subscriber; the message says why, in one line."""


def user_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression whose named group `user` is the subscriber: an interface map's
    match patterns, and a session profile's subscriber column (snmp/profiles.py)."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise PatternError(f"not a regular expression: {error}") from None
    if "user" not in compiled.groupindex:
        raise PatternError(f"{pattern!r} has no (?P<user>...) group naming the subscriber")
    return compiled


StaticKind = Literal["ifindex", "alias", "name"]
ProblemKind = Literal["none", "shared", "renamed"]
IFINDEX_PREFIX, ALIAS_PREFIX = "ifindex:", "alias:"


@dataclass(frozen=True, slots=True)
class StaticEntry:
    """One entry of an access server's static table, as its key was written:

    - ``ifindex:17``: the interface at ifIndex 17. The name it has when first mapped is
      remembered (a pin); if the index later carries another name (ifIndex renumbering
      after a reboot) nothing is charged through it until the operator confirms.
    - ``ifindex:17:Gi0/2``: the same, with the name it must have written in: the operator's
      confirmation, and no pin is kept.
    - ``alias:CIRCUIT-42``: the interface whose ifAlias is exactly that.
    - anything else: the interface whose ifName or ifDescr is exactly that.
    """

    key: str
    subscriber: str
    kind: StaticKind
    value: str
    """The ifAlias or ifName/ifDescr to match; for ifindex, the name it must have ("": the
    one remembered)."""
    index: int = 0

    @classmethod
    def parse(cls, key: str, subscriber: str) -> StaticEntry:
        """ValueError (saying what is wrong) for an ifindex: or alias: key that is not one."""
        lowered = key.lower()
        if lowered.startswith(IFINDEX_PREFIX):
            number, _, name = key[len(IFINDEX_PREFIX) :].partition(":")
            if not number.isdigit() or not 0 < int(number) < 2**31:
                raise ValueError(
                    f"{key!r}: expected ifindex:N (N an ifIndex, 1 to 2147483647) or "
                    "ifindex:N:NAME, got a bad ifIndex"
                )
            if key[len(IFINDEX_PREFIX) + len(number) :] == ":":
                raise ValueError(f"{key!r}: the name after ifindex:{number}: is empty")
            return cls(key, subscriber, "ifindex", name, int(number))
        if lowered.startswith(ALIAS_PREFIX):
            alias = key[len(ALIAS_PREFIX) :]
            if not alias:
                raise ValueError(f"{key!r}: expected alias:TEXT, the ifAlias is empty")
            return cls(key, subscriber, "alias", alias)
        if not key:
            raise ValueError("an empty interface name matches no interface")
        return cls(key, subscriber, "name", key)

    @property
    def label(self) -> str:
        """Where it is in the configuration, as problems name it."""
        return f"interfaces.{_quoted(self.key)}"


def _quoted(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def identity(interface: Interface) -> str:
    """The name an interface goes by (its SessionKey's): ifName, or ifDescr without one."""
    return interface.name or interface.descr


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """An entry of an interface map that charges nobody this poll, and why."""

    entry: str
    """Where it is in the configuration: interfaces."KEY" or match.N."""
    kind: ProblemKind
    """none: it matches no interface; shared: several interfaces have the name it matches
    (their bytes are nobody's: summing them would bill one subscriber for several ports);
    renamed: an ifindex entry whose interface no longer has the name it was mapped with."""
    text: str


@dataclass
class Assignment:
    """Whose each interface of one poll is, by which rule, and what could not be mapped."""

    subscribers: dict[int, tuple[str, str]] = field(default_factory=dict)
    """ifIndex -> (subscriber, the rule that mapped it: interfaces."KEY", session, match.N)."""
    problems: list[MappingProblem] = field(default_factory=list)
    pins: dict[int, str] = field(default_factory=dict)
    """ifIndex -> the name it was first mapped with, for ifindex entries without a name of
    their own: what the caller keeps and hands to the next poll."""
    refused: set[int] = field(default_factory=set)
    """Interfaces a problem entry was for: charged to nobody, not even by a pattern."""


@dataclass(frozen=True)
class InterfaceMap:
    """Which subscriber is on an interface: the static table first (ifindex entries, then
    alias, then ifName/ifDescr), then session events (interface name -> login, from ip-up),
    then the patterns in order. An entry that would take several interfaces, or an ifindex
    entry whose name changed, takes none of them (see MappingProblem)."""

    rules: Sequence[Rule] = ()
    static: Mapping[str, str] = field(default_factory=dict)
    sessions: Mapping[str, str] = field(default_factory=dict)

    def entries(self) -> list[StaticEntry]:
        """The static table in the order it is applied."""
        order: dict[StaticKind, int] = {"ifindex": 0, "alias": 1, "name": 2}
        parsed = [StaticEntry.parse(key, subscriber) for key, subscriber in self.static.items()]
        return sorted(parsed, key=lambda entry: order[entry.kind])

    def assign(
        self, interfaces: Sequence[Interface], pins: Mapping[int, str] | None = None
    ) -> Assignment:
        """Map one poll's interfaces. `pins` are the names ifindex entries were first mapped
        with (the last poll's Assignment.pins)."""
        found = Assignment()
        pins = pins or {}
        by_index = {interface.index: interface for interface in interfaces}
        by_alias: dict[str, list[Interface]] = {}
        by_name: dict[str, list[Interface]] = {}
        for interface in interfaces:
            if interface.alias:
                by_alias.setdefault(interface.alias, []).append(interface)
            for name in dict.fromkeys((interface.name, interface.descr)):
                if name:
                    by_name.setdefault(name, []).append(interface)
        for entry in self.entries():
            if entry.kind == "ifindex":
                one = by_index.get(entry.index)
                matched = [one] if one is not None else []
            else:
                matched = (by_alias if entry.kind == "alias" else by_name).get(entry.value, [])
            self._static(entry, matched, pins, found)
        self._patterns(interfaces, found)
        return found

    def _static(self, entry: StaticEntry, matched: list[Interface], pins: Mapping[int, str],
                found: Assignment) -> None:  # fmt: skip
        if not matched:
            what = f"ifIndex {entry.index}" if entry.kind == "ifindex" else (
                f"ifAlias {entry.value!r}" if entry.kind == "alias" else
                f"ifName or ifDescr {entry.value!r}")  # fmt: skip
            found.problems.append(MappingProblem(entry.label, "none",
                f"{entry.label} ({entry.subscriber}): no interface has {what}: "
                "charged to nobody"))  # fmt: skip
            if entry.kind == "ifindex" and not entry.value and entry.index in pins:
                found.pins[entry.index] = pins[entry.index]  # kept till the port is back
            return
        if len(matched) > 1:
            indexes = ", ".join(str(i.index) for i in matched)
            found.problems.append(MappingProblem(entry.label, "shared",
                f"{entry.label} ({entry.subscriber}): {len(matched)} interfaces (ifIndex "
                f"{indexes}) share that name: charged to nobody; map each by ifindex: or "
                "alias:"))  # fmt: skip
            found.refused |= {i.index for i in matched if i.index not in found.subscribers}
            return
        interface = matched[0]
        if entry.kind == "ifindex":
            now = identity(interface)
            expected = entry.value or pins.get(entry.index, now)
            if now != expected:
                found.problems.append(MappingProblem(entry.label, "renamed",
                    f"{entry.label} ({entry.subscriber}): ifIndex {entry.index} was "
                    f"{expected!r} when mapped, is {now!r} now (renumbered?): charged to "
                    f'nobody until confirmed: write "ifindex:{entry.index}:{now}" if it is '
                    "the same port, or the port's new ifIndex"))  # fmt: skip
                found.refused.add(entry.index)
                if not entry.value:
                    found.pins[entry.index] = expected
                return
            if not entry.value:
                found.pins[entry.index] = now
        if interface.index not in found.subscribers and interface.index not in found.refused:
            found.subscribers[interface.index] = (entry.subscriber, entry.label)

    def _patterns(self, interfaces: Sequence[Interface], found: Assignment) -> None:
        """Session events, then the patterns, for the interfaces the static table left. A
        pattern's name that several interfaces share maps none of them."""
        taken: dict[tuple[int, str], list[tuple[Interface, str]]] = {}
        for interface in interfaces:
            if interface.index in found.subscribers or interface.index in found.refused:
                continue
            login = next((self.sessions[n] for n in (interface.name, interface.descr)
                          if n and n in self.sessions), None)  # fmt: skip
            if login is not None:
                found.subscribers[interface.index] = (login, "session")
                continue
            for number, rule in enumerate(self.rules):
                text = interface.field(rule.field)
                match = rule.pattern.fullmatch(text)
                if match and match.group("user"):
                    taken.setdefault((number, text), []).append((interface, match["user"]))
                    break
        for (number, text), claimants in taken.items():
            if len(claimants) == 1:
                interface, user = claimants[0]
                found.subscribers[interface.index] = (user, f"match.{number}")
                continue
            indexes = ", ".join(str(i.index) for i, _ in claimants)
            found.problems.append(MappingProblem(f"match.{number}", "shared",
                f"match.{number} ({self.rules[number].field} {text!r}): {len(claimants)} "
                f"interfaces (ifIndex {indexes}) share that name: charged to nobody; map "
                "each by ifindex: or alias:"))  # fmt: skip
            found.refused |= {i.index for i, _ in claimants}

    def subscriber(self, interface: Interface) -> str | None:
        """Whose one interface is, seen alone (no other interface to share its name with)."""
        mapped = self.assign([interface]).subscribers.get(interface.index)
        return mapped[0] if mapped else None


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
