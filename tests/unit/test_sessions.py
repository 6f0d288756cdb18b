"""Where the daemon last saw each subscriber (daemon/sessions.py): each device's answer
replaces what that device said before, and only that."""

from __future__ import annotations

from nmsquota.attribution import SessionKey
from nmsquota.counters import Reading
from nmsquota.daemon.sessions import Sessions
from nmsquota.snmp.cycle import DeviceResult
from nmsquota.snmp.tables import Poll


def answered(device: str, *subscribers: str) -> DeviceResult:
    readings = [(SessionKey(device, n + 1, f"ppp{n}", name), Reading(0.0, 0, 0))
                for n, name in enumerate(subscribers)]  # fmt: skip
    return DeviceResult(device, poll=Poll(readings=readings))


def test_a_devices_answer_replaces_its_own_sessions_and_leaves_the_others() -> None:
    sessions = Sessions()
    sessions.learn(answered("bras1", "alice", "bob"))
    sessions.learn(answered("bras2", "alice", "carol"))
    assert sessions.online() == {"alice", "bob", "carol"}

    sessions.learn(answered("bras1", "dave"))  # alice and bob logged off bras1

    assert sessions.online() == {"alice", "carol", "dave"}
    assert list(sessions.device_keys("alice")) == ["bras2"]
    assert sessions.device_keys("bob") == {}
    assert sessions.get("bob").access_server == "bras1"  # last seen there, still known
    sessions.learn(answered("bras2"))
    assert sessions.online() == {"dave"}


def test_a_subscriber_moving_between_devices_is_keyed_where_the_last_answers_found_them() -> None:
    sessions = Sessions()
    sessions.learn(answered("bras1", "alice"))
    sessions.learn(answered("bras2"))
    sessions.learn(answered("bras1"))
    sessions.learn(answered("bras2", "alice"))
    assert list(sessions.device_keys("alice")) == ["bras2"]
    assert sessions.get("alice").access_server == "bras2"
