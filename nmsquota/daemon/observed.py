"""What the daemon sees, kept in the ledger for the readers (nmsquota.standings): each access
server's last poll, where each subscriber is online, and the event log.

Pure: the cycle's results, the sessions and the last kept records in; records, events and
the lines for the daemon's log out. The daemon writes them in the cycle's commit (or, for
what happens between cycles, in one of their own).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from nmsquota.attribution import SessionKey
from nmsquota.counters import Charge, Reading, Verdict
from nmsquota.enforcement.reconcile import Outcome
from nmsquota.ledger.records import (
    DeviceRecord,
    EventKind,
    EventRecord,
    MappingProblemRecord,
    PinRecord,
    SessionRecord,
)
from nmsquota.names import printable
from nmsquota.policy import Evaluation
from nmsquota.snmp.cycle import Device, DeviceResult

from .sessions import Sessions

COUNTER_EVENTS = {
    Verdict.BASELINE: (EventKind.BASELINE, "counters baselined, nothing charged"),
    Verdict.RESTART: (EventKind.AGENT_RESTART, "agent restarted, nothing charged"),
    Verdict.DISCONTINUITY: (EventKind.DISCONTINUITY, "counter discontinuity, nothing charged"),
    Verdict.SPIKE: (EventKind.SPIKE_REFUSED, "more than the line carries, refused"),
}
"""The counter verdicts the event log tells of (a failed read or an idle line it does not)."""
NAMED = 5
"""An event about many sessions names this many of their subscribers."""
LOGGED = 20
"""Counter events of one kind on one access server logged a line each in a cycle; the rest
are one line. A daemon's first cycle baselines every session: at 20,000 sessions that was
20,000 lines (and ~1.3 s), which buried whatever else it logged."""


def device_records(kept: Mapping[str, DeviceRecord], devices: Sequence[Device],
                   results: Sequence[DeviceResult], now: float) -> list[DeviceRecord]:  # fmt: skip
    """Each configured access server after a cycle: answered or not, how fast, with which
    counters. What a failed poll cannot tell is carried from the last record."""
    by_name = {result.device: result for result in results}
    found = []
    for device in devices:
        result = by_name.get(device.name)
        before = kept.get(device.name)
        if result is None:  # not polled this cycle (none is skipped today)
            if before is not None:
                found.append(before)
            continue
        answered = result.error is None and result.poll is not None
        widths = [reading.width for _, reading in result.poll.readings] if result.poll else []
        found.append(DeviceRecord(
            name=device.name, host=f"{device.agent.host}:{device.agent.port}",
            snmp_version=device.agent.version, last_poll=now,
            last_answer=now if answered else (before.last_answer if before else None),
            latency=round(result.seconds, 6), error=result.error,
            failures=0 if answered else (before.failures if before else 0) + 1,
            counter_bits=min(widths) if widths else (before.counter_bits if before else None),
            interfaces=len(widths) if answered else (before.interfaces if before else 0),
            mapping=_mapping(before, result, now) if answered else _kept_mapping(before),
            pins=_pins(result) if answered else (before.pins if before else ()),
        ))  # fmt: skip
    return found


def _mapping(before: DeviceRecord | None, result: DeviceResult,
             now: float) -> tuple[MappingProblemRecord, ...]:  # fmt: skip
    """The map's problems this answer found, each counted on from the last record's (since
    when, how many cycles in a row), or started."""
    kept = {(p.entry, p.kind): p for p in (before.mapping if before else ())}
    problems = result.poll.assignment.problems if result.poll else []
    found = []
    for problem in problems:
        last = kept.get((problem.entry, problem.kind))
        found.append(MappingProblemRecord(
            entry=problem.entry, kind=problem.kind, text=problem.text,
            since=last.since if last else now, cycles=last.cycles + 1 if last else 1,
        ))  # fmt: skip
    return tuple(found)


def _kept_mapping(before: DeviceRecord | None) -> tuple[MappingProblemRecord, ...]:
    # A device that did not answer shows nothing new of its map: its problems stand, uncounted.
    return before.mapping if before else ()


def _pins(result: DeviceResult) -> tuple[PinRecord, ...]:
    pins = result.poll.assignment.pins if result.poll else {}
    return tuple(PinRecord(index=index, name=name) for index, name in sorted(pins.items()))


def mapping_events(kept: Mapping[str, DeviceRecord], records: Sequence[DeviceRecord],
                   now: float) -> tuple[list[EventRecord], list[tuple[int, str]]]:  # fmt: skip
    """Interface map entries that began to charge nobody this cycle, and those that ended:
    an event each, and a line for the daemon's log with its level. While one lasts it is
    counted in the device's record, not told again."""
    events: list[EventRecord] = []
    lines: list[tuple[int, str]] = []
    for record in records:
        before = kept.get(record.name)
        old = {(p.entry, p.kind): p for p in (before.mapping if before else ())}
        new = {(p.entry, p.kind): p for p in record.mapping}
        for key, problem in new.items():
            if key not in old:
                text = f"{record.name}: {problem.text}"
                events.append(EventRecord(time=now, kind=EventKind.MAPPING_PROBLEM,
                                          device=record.name, text=text))  # fmt: skip
                lines.append((logging.WARNING, f"interface map: {text}"))
        for key, problem in old.items():
            if key not in new:
                text = (f"{record.name}: {problem.entry} ({problem.kind}) put right after "
                        f"{problem.cycles} cycle(s)")  # fmt: skip
                events.append(EventRecord(time=now, kind=EventKind.MAPPING_RESOLVED,
                                          device=record.name, text=text))  # fmt: skip
                lines.append((logging.INFO, f"interface map: {text}"))
    return events, lines


def device_events(kept: Mapping[str, DeviceRecord], results: Sequence[DeviceResult],
                  now: float) -> list[EventRecord]:  # fmt: skip
    """An access server that stopped answering, or answers again: once, when it changes."""
    events = []
    for result in results:
        before = kept.get(result.device)
        answered_before = before is None or before.error is None
        if result.error is not None and answered_before:
            events.append(EventRecord(time=now, kind=EventKind.DEVICE_DOWN,
                                      device=result.device, text=result.error))  # fmt: skip
        elif result.error is None and not answered_before:
            text = f"{result.device} answers again"
            events.append(EventRecord(time=now, kind=EventKind.DEVICE_UP, device=result.device,
                                      text=text))  # fmt: skip
    return events


@dataclass(frozen=True)
class CounterEvent:
    """A session's counters baselined, its agent restarted, a discontinuity or a refused
    spike: what happened (`charged`), and the reading it happened at (both clocks)."""

    device: str
    key: SessionKey
    charged: Charge
    reading: Reading | None


Told = dict[SessionKey, tuple[Verdict, str]]
"""Per session, the counter event last told of and not yet followed by a charge."""


def new_counter_events(results: Sequence[DeviceResult],
                       told: Mapping[SessionKey, tuple[Verdict, str]], *,
                       whole: bool = True) -> tuple[list[CounterEvent], Told]:  # fmt: skip
    """This cycle's counter events that are news, and what has been told after them. The
    same event again for a session, with no charge in between (a baseline that did not
    stick, say), is not news: each is told once. A session gone from an access server that
    answered is forgotten; one on an access server that did not answer is kept, and so is
    every session when the poll was not `whole` (a look reads one subscriber's rows)."""
    events = []
    kept = dict(told)
    # Each device's sessions told of, found once: looking through every session told of for
    # each device made a cycle cost devices x sessions (a first cycle tells of them all).
    told_on: dict[str, list[SessionKey]] = {}
    for key in told:
        told_on.setdefault(key.access_server, []).append(key)
    for result in results:
        if result.attribution is None:
            continue
        readings = dict(result.poll.readings) if result.poll else {}
        seen = set()
        for key, charged in result.attribution.charges:
            seen.add(key)
            if charged.verdict is Verdict.CHARGED:
                kept.pop(key, None)
                continue
            told_now = (charged.verdict, charged.note)
            if charged.verdict in COUNTER_EVENTS and kept.get(key) != told_now:
                events.append(CounterEvent(result.device, key, charged, readings.get(key)))
                kept[key] = told_now
        gone = [k for k in told_on.get(result.device, ()) if k in kept and k not in seen]
        for key in gone if whole else []:
            del kept[key]
    return events, kept


def counter_log_line(event: CounterEvent) -> tuple[int, str]:
    """A counter event as one line of the daemon's log, with its level: where (access
    server, interface, subscriber) and when by both clocks, the poller's and the agent's."""
    _, what = COUNTER_EVENTS[event.charged.verdict]
    key, reading = event.key, event.reading
    session = f", session {key.session}" if key.session else ""
    where = f"{key.subscriber} on {event.device} {key.interface} (ifIndex {key.index}{session})"
    if reading is None:
        clocks = "clocks unknown"
    else:
        poller = datetime.fromtimestamp(reading.time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        agent = "unknown" if reading.uptime is None else f"{reading.uptime / 100:.2f}s"
        clocks = f"poller {poller}, agent sysUpTime {agent}"
    level = _level(event.charged.verdict)
    # Names come from agents: one with a newline or ESC must not forge or garble log lines.
    return level, printable(f"{what}: {where}: {event.charged.note}; {clocks}")


def counter_log_lines(news: Sequence[CounterEvent]) -> list[tuple[int, str]]:
    """The cycle's counter events as log lines with their levels: a line each
    (counter_log_line), but for no more than LOGGED of one kind on one access server, whose
    rest are counted in one line at the same level (the event log has them all)."""
    lines: list[tuple[int, str]] = []
    left: dict[tuple[str, Verdict], int] = {}
    for event in news:
        seen = (event.device, event.charged.verdict)
        left[seen] = left.get(seen, 0) + 1
        if left[seen] <= LOGGED:
            lines.append(counter_log_line(event))
    for (device, verdict), count in left.items():
        if count > LOGGED:
            _, what = COUNTER_EVENTS[verdict]
            more = f"{count - LOGGED} more sessions on {device}"
            line = printable(f"{what}: {more} (the event log counts them all)")
            lines.append((_level(verdict), line))
    return lines


def _level(verdict: Verdict) -> int:
    """A counter event's log level: a baseline is news, the others are warnings."""
    return logging.INFO if verdict is Verdict.BASELINE else logging.WARNING


def counter_events(news: Sequence[CounterEvent], now: float) -> list[EventRecord]:
    """Baselines, agent restarts, discontinuities and refused spikes (new_counter_events):
    one event per access server and kind a cycle (a restart touches every session at once),
    naming the subscriber when there is one."""
    events = []
    by_device: dict[str, dict[Verdict, list[tuple[str, str]]]] = {}
    for event in news:
        by_verdict = by_device.setdefault(event.device, {})
        hit = (event.key.subscriber, event.charged.note)
        by_verdict.setdefault(event.charged.verdict, []).append(hit)
    for device, by_verdict in by_device.items():
        for verdict, hits in by_verdict.items():
            kind, what = COUNTER_EVENTS[verdict]
            if len(hits) == 1:
                subscriber, note = hits[0]
                text = f"{subscriber} on {device}: {note}"
                events.append(EventRecord(time=now, kind=kind, device=device,
                                          subscriber=subscriber, text=text))  # fmt: skip
                continue
            names = sorted({name for name, _ in hits})
            shown = ", ".join(names[:NAMED]) + (", ..." if len(names) > NAMED else "")
            text = f"{device}: {len(hits)} sessions, {what} ({hits[0][1]}): {shown}"
            events.append(EventRecord(time=now, kind=kind, device=device, text=text))
    return events


def decision_events(evaluation: Evaluation, now: float) -> list[EventRecord]:
    """Limits applied (or changed: another step, another cap) and lifted."""
    events = []
    for decision in evaluation.changes:
        if decision.limited:
            text = f"{decision.event} {decision.subscriber}: {decision.reason}"
            events.append(EventRecord(time=now, kind=EventKind.LIMIT_APPLIED, text=text,
                                      subscriber=decision.subscriber,
                                      reason=decision.why))  # fmt: skip
        else:
            text = f"released {decision.subscriber} ({decision.percent:.0f}% of cap)"
            events.append(EventRecord(time=now, kind=EventKind.LIMIT_LIFTED, text=text,
                                      subscriber=decision.subscriber))  # fmt: skip
    return events


def driver_events(outcomes: Iterable[Outcome], now: float) -> list[EventRecord]:
    """What reconciliation repaired (differences nmsquota did not make) and driver errors."""
    events = []
    for outcome in outcomes:
        for line in outcome.drift:
            events.append(EventRecord(time=now, kind=EventKind.REPAIR, driver=outcome.driver,
                                      text=f"{outcome.driver}: {line}"))  # fmt: skip
        for error in outcome.errors:
            events.append(EventRecord(time=now, kind=EventKind.DRIVER_ERROR,
                                      driver=outcome.driver, text=error))  # fmt: skip
    return events


def session_records(kept: Mapping[str, SessionRecord], sessions: Sessions,
                    now: float) -> list[SessionRecord] | None:  # fmt: skip
    """Everyone seen on an access server or told of by ip-up/ip-down, online or not now (a
    subscriber seen before but not now stays, offline). None when nothing changed since
    `kept`: a record changes only when its subscriber comes, goes or moves, so the usual
    cycle writes none of them."""
    online = sessions.online()
    found: dict[str, SessionRecord] = {}
    changed = False
    for name, before in kept.items():
        if name not in sessions.seen:
            found[name] = before if not before.online else replace(before, online=False, seen=now)
            changed |= found[name] is not before
    for name, seen in sessions.seen.items():
        before = kept.get(name)
        up = name in online
        where = (seen.access_server, seen.interface, seen.session, seen.addresses)
        if (
            before is not None
            and before.online == up
            and where == (before.access_server, before.interface, before.session, before.addresses)
        ):
            found[name] = before
            continue
        changed = True
        was_up = before is not None and before.online
        found[name] = SessionRecord(
            subscriber=name, online=up, access_server=seen.access_server,
            interface=seen.interface, session=seen.session, addresses=seen.addresses,
            since=(before.since if was_up and before else now) if up else None,
            seen=None if up else (now if was_up else (before.seen if before else None)),
        )  # fmt: skip
    return [found[name] for name in sorted(found)] if changed else None


def session_events(kept: Mapping[str, SessionRecord], records: Iterable[SessionRecord],
                   now: float, told: str | None = None) -> list[EventRecord]:  # fmt: skip
    """Sessions found coming or going: each record that is online and was not (or is new),
    or was online and is not; what a poll finds, so that a site without ip-up hooks has its
    sessions in the log too. `told`: the login whose change the caller logged already, in
    ip-up's or ip-down's own words. More than NAMED at once on one access server (the
    daemon's first poll, an access server's restart) are one event naming NAMED of them,
    so that they do not push everything else out of the bounded log."""
    came: dict[str, list[SessionRecord]] = {}
    went: dict[str, list[SessionRecord]] = {}
    for record in records:
        before = kept.get(record.subscriber)
        if record.online == (before is not None and before.online):
            continue
        if record.subscriber != told:
            (came if record.online else went).setdefault(record.access_server, []).append(record)
    events = []
    for kind, what, found in ((EventKind.SESSION_UP, "up", came),
                              (EventKind.SESSION_DOWN, "down", went)):  # fmt: skip
        for server, changed in sorted(found.items()):
            if len(changed) > NAMED:
                names = [record.subscriber for record in changed]
                text = f"{server}: {len(names)} sessions {what}: {', '.join(names[:NAMED])}, ..."
                events.append(EventRecord(time=now, kind=kind, device=server or None,
                                          text=text))  # fmt: skip
                continue
            events += [EventRecord(time=now, kind=kind, subscriber=record.subscriber,
                                   device=server or None, text=_session_text(what, record))
                       for record in changed]  # fmt: skip
    return events


def _session_text(what: str, record: SessionRecord) -> str:
    where = f"{record.interface} at {record.access_server}" if record.access_server else (
        record.interface or "an unknown interface")  # fmt: skip
    addresses = f" ({', '.join(record.addresses)})" if record.online and record.addresses else ""
    return f"session {what}: {record.subscriber} on {where}{addresses}"


def session_event(event: str, interface: str, login: str, address: str,
                  now: float) -> EventRecord:  # fmt: skip
    kind = EventKind.SESSION_UP if event == "up" else EventKind.SESSION_DOWN
    return EventRecord(time=now, kind=kind, subscriber=login,
                       text=f"session {event}: {login} on {interface} ({address})")  # fmt: skip
