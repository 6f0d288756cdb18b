"""What the daemon tells the event log of the sessions it finds: a session a poll finds
coming or going is an event, once, and many at once on one access server are one event."""

from __future__ import annotations

import logging

from nmsquota.attribution import SessionKey, attribute
from nmsquota.counters import Reading
from nmsquota.daemon.observed import (
    LOGGED,
    NAMED,
    counter_events,
    counter_log_line,
    counter_log_lines,
    new_counter_events,
    session_events,
)
from nmsquota.ledger.records import EventKind, EventRecord, SessionRecord
from nmsquota.snmp.cycle import DeviceResult
from nmsquota.snmp.tables import Poll

T0 = 1_800_000_000


def online(name: str, interface: str = "", server: str = "bras") -> SessionRecord:
    return SessionRecord(subscriber=name, online=True, access_server=server,
                         interface=interface or f"<pppoe-{name}>", addresses=("10.0.0.7",),
                         since=T0)  # fmt: skip


def offline(name: str, server: str = "bras") -> SessionRecord:
    return SessionRecord(subscriber=name, online=False, access_server=server,
                         interface=f"<pppoe-{name}>", seen=T0)  # fmt: skip


def test_a_session_a_poll_finds_is_a_session_up_naming_where() -> None:
    (event,) = session_events({}, [online("alice")], T0)
    text = "session up: alice on <pppoe-alice> at bras (10.0.0.7)"
    assert event == EventRecord(time=T0, kind=EventKind.SESSION_UP, subscriber="alice",
                                device="bras", text=text)  # fmt: skip


def test_a_session_gone_is_a_session_down() -> None:
    (event,) = session_events({"bob": online("bob")}, [offline("bob")], T0 + 300)
    assert (event.kind, event.subscriber, event.time) == (EventKind.SESSION_DOWN, "bob", T0 + 300)
    assert event.text == "session down: bob on <pppoe-bob> at bras"


def test_a_session_that_stays_up_or_down_is_no_event() -> None:
    kept = {"alice": online("alice"), "bob": offline("bob")}
    moved = online("alice", interface="<pppoe-alice-2>")  # another interface: still up
    assert session_events(kept, [moved, offline("bob")], T0) == []


def test_a_change_an_ip_up_or_down_already_told_is_not_told_again() -> None:
    kept = {"bob": online("bob")}
    records = [online("alice"), offline("bob")]
    assert session_events(kept, records, T0, told="bob") == [
        session_events({}, [online("alice")], T0)[0]
    ]


def test_many_sessions_at_once_on_one_access_server_are_one_event_naming_a_few() -> None:
    names = [f"sub{n:02}" for n in range(12)]
    events = session_events({}, [online(name) for name in names] + [online("zed", server="nas2")],
                            T0)  # fmt: skip
    assert [(e.kind, e.device, e.subscriber) for e in events] == [
        (EventKind.SESSION_UP, "bras", None),
        (EventKind.SESSION_UP, "nas2", "zed"),
    ]
    shown = ", ".join(names[:NAMED])
    assert events[0].text == f"bras: 12 sessions up: {shown}, ..."


# -- counter events: told once, with both clocks -----------------------------------------------

ALICE = SessionKey("bras", 7, "<pppoe-alice>", "alice")
BOB = SessionKey("bras", 8, "<pppoe-bob>", "bob")


def polled(t: float, uptime: int | None, *sessions: tuple[SessionKey, int]) -> Poll:
    return Poll(readings=[(key, Reading(t, 0, octets, uptime=uptime, speed_bps=10**9))
                          for key, octets in sessions])  # fmt: skip


def cycle(before: dict[SessionKey, Reading], poll: Poll, device: str = "bras") -> DeviceResult:
    return DeviceResult(device, poll, attribute(before, poll.readings, 0))


def test_a_baseline_is_a_log_line_with_where_and_both_clocks() -> None:
    news, _ = new_counter_events([cycle({}, polled(T0, 100_000, (ALICE, 5)))], {})
    assert [counter_log_line(event) for event in news] == [(
        logging.INFO,
        "counters baselined, nothing charged: alice on bras <pppoe-alice> (ifIndex 7): first "
        "reading; poller 2027-01-15 08:00:00 UTC, agent sysUpTime 1000.00s",
    )]  # fmt: skip


def test_a_refused_spike_is_a_warning() -> None:
    before = {ALICE: Reading(T0, 0, 0, uptime=100_000, speed_bps=10**9)}
    news, _ = new_counter_events([cycle(before, polled(T0 + 11, 160_000, (ALICE, 10**12)))], {})
    level, line = counter_log_line(news[0])
    assert level == logging.WARNING and line.startswith("more than the line carries, refused: ")
    assert "1000000000000 bytes in 11s" in line and "agent sysUpTime 1600.00s" in line


def test_the_same_event_again_without_a_charge_between_is_told_once() -> None:
    first = polled(T0, 100_000, (ALICE, 5))
    news, told = new_counter_events([cycle({}, first)], {})
    again, told = new_counter_events([cycle({}, polled(T0 + 300, 130_000, (ALICE, 9)))], told)
    assert len(news) == 1 and again == []  # the baseline did not stick: not news
    charged, told = new_counter_events(
        [cycle(dict(first.readings), polled(T0 + 300, 130_000, (ALICE, 9)))], told)  # fmt: skip
    assert charged == [] and told == {}
    news, _ = new_counter_events([cycle({}, polled(T0 + 600, 160_000, (ALICE, 9)))], told)
    assert len(news) == 1  # a new baseline after charges is news again


def test_sessions_gone_are_forgotten_and_an_access_server_that_did_not_answer_keeps_its_own() -> (
    None
):
    _, told = new_counter_events([cycle({}, polled(T0, 100_000, (ALICE, 5), (BOB, 5)))], {})
    _, kept = new_counter_events([DeviceResult("bras", error="timeout")], told)
    assert kept == told
    _, told = new_counter_events([cycle({}, polled(T0 + 300, 130_000))], told)
    assert told == {}


def test_many_counter_events_are_one_event_log_record_per_kind_and_access_server() -> None:
    sessions = [(SessionKey("bras", n, f"<pppoe-s{n}>", f"s{n}"), 1) for n in range(7)]
    news, _ = new_counter_events([cycle({}, polled(T0, 100, *sessions))], {})
    (record,) = counter_events(news, T0)
    assert record.kind is EventKind.BASELINE and record.device == "bras"
    assert record.text.startswith("bras: 7 sessions, counters baselined, nothing charged")


def test_a_name_an_agent_sent_with_control_characters_is_logged_escaped() -> None:
    # A key made by hand: the poller's own names are escaped already (nmsquota/names.py).
    forged = SessionKey("bras", 9, "eth9\nINFO nmsquota.daemon: cycle 1", "\x1b[2Jeve")
    news, _ = new_counter_events([cycle({}, polled(T0, 100_000, (forged, 5)))], {})
    _, line = counter_log_line(news[0])
    assert "\n" not in line and "\x1b" not in line
    assert "\\x1b[2Jeve on bras eth9\\x0aINFO nmsquota.daemon: cycle 1 (ifIndex 9)" in line


def test_a_first_cycle_of_many_sessions_logs_a_few_lines_and_counts_the_rest() -> None:
    many = [(SessionKey("bras", n, f"<pppoe-s{n}>", f"s{n}"), 1) for n in range(LOGGED + 30)]
    news, _ = new_counter_events([cycle({}, polled(T0, 100, *many))], {})
    lines = counter_log_lines(news)
    assert len(lines) == LOGGED + 1 and all(level == logging.INFO for level, _ in lines)
    assert lines[0] == counter_log_line(news[0])
    assert lines[-1][1] == (
        "counters baselined, nothing charged: 30 more sessions on bras (the event log counts "
        "them all)"
    )
    assert len(counter_log_lines(news[:LOGGED])) == LOGGED  # no count line when none are left
