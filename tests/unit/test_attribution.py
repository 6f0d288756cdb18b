"""Attribution: interface readings to subscriber charges, never charging one for another."""

from __future__ import annotations

import pytest

from nmsquota.attribution import (
    Interface,
    InterfaceMap,
    Rule,
    SessionKey,
    attribute,
    baselines_from_state,
    baselines_to_state,
)
from nmsquota.counters import Reading, Verdict
from nmsquota.ledger import Sample

GIG = 10**9
MIKROTIK = Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")
CISCO_ALIAS = Rule.compile("ifAlias", r"(?P<user>[a-z0-9._@-]+)")


def key(index: int, interface: str, subscriber: str) -> SessionKey:
    return SessionKey("bras1", index, interface, subscriber)


def read(t: float, octets_in: int, octets_out: int) -> Reading:
    return Reading(t, octets_in, octets_out, speed_bps=GIG)


def test_patterns_static_entries_and_sessions_name_the_subscriber() -> None:
    mapping = InterfaceMap(
        rules=[MIKROTIK, CISCO_ALIAS],
        static={"ether5": "office"},
        sessions={"ppp3": "davidn"},
    )
    assert mapping.subscriber(Interface(1, "<pppoe-crowther>")) == "crowther"
    assert mapping.subscriber(Interface(2, "Vi2.1", alias="susannes")) == "susannes"
    assert mapping.subscriber(Interface(3, "ether5", alias="uplink")) == "office"
    assert mapping.subscriber(Interface(4, "ppp3")) == "davidn"
    assert mapping.subscriber(Interface(5, "lo", alias="")) is None


def test_a_pattern_without_a_user_group_is_refused() -> None:
    with pytest.raises(ValueError, match="no \\(\\?P<user>"):
        Rule.compile("ifName", r"<pppoe-(.+)>")


def test_download_is_octets_out_of_the_subscriber_facing_interface_by_default() -> None:
    k = key(7, "ppp0", "davidn")
    result = attribute({k: read(0, 100, 1000)}, [(k, read(300, 150, 9000))], 300)
    assert result.samples == [Sample("davidn", 300, 8000, 50)]
    flipped = attribute({k: read(0, 100, 1000)}, [(k, read(300, 150, 9000))], 300, download="in")
    assert flipped.samples == [Sample("davidn", 300, 50, 8000)]


def test_an_index_taken_over_by_another_subscriber_starts_from_a_baseline() -> None:
    first = {key(7, "ppp0", "alice"): read(0, 0, 5_000)}
    # ppp0, ifIndex 7, is bob's now; its counters kept running from alice's session.
    result = attribute(first, [(key(7, "ppp0", "bob"), read(300, 0, 9_000))], 300)
    assert result.samples == []
    assert [(k.subscriber, c.verdict) for k, c in result.events] == [("bob", Verdict.BASELINE)]


def test_a_subscriber_returning_to_an_interface_is_not_charged_for_the_one_in_between() -> None:
    alice, bob = key(7, "ppp0", "alice"), key(7, "ppp0", "bob")
    cycle1 = attribute({}, [(alice, read(0, 0, 1_000))], 0)
    cycle2 = attribute(cycle1.baselines, [(bob, read(300, 0, 50_000))], 300)
    cycle3 = attribute(cycle2.baselines, [(alice, read(600, 0, 60_000))], 600)
    assert cycle3.samples == []  # bob's 49,000 bytes are not alice's
    cycle4 = attribute(cycle3.baselines, [(alice, read(900, 0, 61_000))], 900)
    assert cycle4.samples == [Sample("alice", 900, 1_000, 0)]


def test_several_interfaces_of_one_subscriber_add_up() -> None:
    a, b = key(1, "ppp0", "office"), key(2, "ppp1", "office")
    before = {a: read(0, 0, 0), b: read(0, 0, 0)}
    result = attribute(before, [(a, read(300, 1, 10)), (b, read(300, 2, 20))], 300)
    assert result.samples == [Sample("office", 300, 30, 3)]


def test_a_failed_read_keeps_the_baseline_for_the_next_poll() -> None:
    k = key(7, "ppp0", "davidn")
    before = {k: read(0, 0, 1_000)}
    failed = attribute(before, [(k, Reading(300, None, None))], 300)
    assert failed.samples == [] and failed.baselines == before
    later = attribute(failed.baselines, [(k, read(600, 0, 4_000))], 600)
    assert later.samples == [Sample("davidn", 600, 3_000, 0)]


def test_baselines_survive_the_ledger_as_counter_state() -> None:
    baselines = {
        key(7, "<pppoe-a b>", "a b"): Reading(1.5, 1, 2, 32, 100, 3, 0, GIG, 1),
        SessionKey("bras2", 2**31 + 5, "ppp9", "z", "8f00aa"): Reading(2.0, None, None),
    }
    assert baselines_from_state(baselines_to_state(baselines)) == baselines


def test_baselines_survive_a_restart_through_the_ledger(tmp_path) -> None:
    from nmsquota.ledger import Ledger

    k = key(7, "ppp0", "davidn")
    with Ledger.open_writer(tmp_path / "ledger") as ledger:
        ledger.set_counter_state("bras1", baselines_to_state({k: read(0, 0, 1_000)}))
    with Ledger.open_writer(tmp_path / "ledger") as ledger:
        previous = baselines_from_state(ledger.counter_state("bras1"))
    result = attribute(previous, [(k, read(300, 0, 3_500))], 300)
    assert result.samples == [Sample("davidn", 300, 2_500, 0)]


def test_a_rate_is_measured_on_the_clock_the_counters_were_sampled_on() -> None:
    # The poller's cycles began 10 s apart; the agent's sysUpTime moved 11.58 s between the
    # two samples of the counters. The charge covers the agent's 11.58 s.
    alice, bob = key(7, "<pppoe-alice>", "alice"), key(8, "<pppoe-bob>", "bob")
    before = {alice: Reading(0, 0, 0, uptime=100_000, speed_bps=GIG),
              bob: Reading(0, 0, 0, speed_bps=GIG)}  # fmt: skip
    now = [(alice, Reading(10, 0, 17_370_000, uptime=101_158, speed_bps=GIG)),
           (bob, Reading(10, 0, 5_000, speed_bps=GIG))]  # fmt: skip
    result = attribute(before, now, 10)
    assert [c.seconds for _, c in result.charges] == [11.58, 10.0]  # bob: no sysUpTime
    assert result.spans == {"alice": 11.58, "bob": 10.0}


def test_a_subscriber_on_two_sessions_is_measured_over_the_longer_interval() -> None:
    one, two = key(7, "<pppoe-alice>", "alice"), key(9, "<pppoe-alice>#2", "alice")
    before = {one: Reading(0, 0, 0, uptime=100_000), two: Reading(0, 0, 0, uptime=100_500)}
    now = [(one, Reading(300, 0, 1_000, uptime=130_000)),
           (two, Reading(300, 0, 2_000, uptime=129_500))]  # fmt: skip
    assert attribute(before, now, 300).spans == {"alice": 300.0}


def test_nothing_charged_is_no_span() -> None:
    alice = key(7, "<pppoe-alice>", "alice")
    result = attribute({}, [(alice, Reading(0, 5, 5, uptime=100))], 0)
    assert result.spans == {}
