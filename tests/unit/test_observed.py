"""What the daemon tells the event log of the sessions it finds: a session a poll finds
coming or going is an event, once, and many at once on one access server are one event."""

from __future__ import annotations

from nmsquota.daemon.observed import NAMED, session_events
from nmsquota.ledger.records import EventKind, EventRecord, SessionRecord

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
