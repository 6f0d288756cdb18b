"""The interface map cannot go silently wrong: an entry that matches no interface, or
several, or an ifindex entry whose port was renamed, maps nothing and says so (issue 26)."""

from __future__ import annotations

import pytest

from nmsquota.attribution import Interface, InterfaceMap, Rule, StaticEntry

# A DSLAM without ifXTable: ports share one ifDescr, no ifName, no ifAlias.
DSLAM = [Interface(101, descr="ADSL port"), Interface(102, descr="ADSL port"),
         Interface(1, descr="uplink")]  # fmt: skip


def test_a_static_name_two_ports_share_maps_neither_and_is_reported() -> None:
    found = InterfaceMap(static={"ADSL port": "alice"}).assign(DSLAM)
    assert found.subscribers == {}
    assert found.refused == {101, 102}
    (problem,) = found.problems
    assert problem.kind == "shared"
    assert problem.entry == 'interfaces."ADSL port"'
    assert "ifIndex 101, 102" in problem.text


def test_ports_that_share_a_name_map_by_ifindex_each_to_their_own() -> None:
    found = InterfaceMap(static={"ifindex:101": "alice", "ifindex:102": "bob"}).assign(DSLAM)
    assert found.subscribers == {101: ("alice", 'interfaces."ifindex:101"'),
                                 102: ("bob", 'interfaces."ifindex:102"')}  # fmt: skip
    assert found.problems == []
    assert found.pins == {101: "ADSL port", 102: "ADSL port"}


def test_an_alias_entry_maps_the_port_with_that_ifalias() -> None:
    ports = [Interface(3, "ether3", alias="CIRCUIT-42"), Interface(4, "ether4", alias="")]
    found = InterfaceMap(static={"alias:CIRCUIT-42": "bob"}).assign(ports)
    assert found.subscribers == {3: ("bob", 'interfaces."alias:CIRCUIT-42"')}


def test_a_static_entry_that_matches_no_interface_is_reported() -> None:
    found = InterfaceMap(static={"ether9": "carol", "ifindex:7": "dan"}).assign(DSLAM)
    assert [(p.entry, p.kind) for p in found.problems] == [
        ('interfaces."ifindex:7"', "none"), ("interfaces.ether9", "none")]  # fmt: skip


def test_an_ifindex_whose_name_changed_is_not_trusted() -> None:
    mapping = InterfaceMap(static={"ifindex:5": "alice"})
    first = mapping.assign([Interface(5, "ether5")])
    assert first.pins == {5: "ether5"}
    after_reboot = mapping.assign([Interface(5, "ether6")], first.pins)
    assert after_reboot.subscribers == {}
    (problem,) = after_reboot.problems
    assert problem.kind == "renamed"
    assert "'ether5'" in problem.text and "'ether6'" in problem.text
    assert after_reboot.pins == {5: "ether5"}, "the first name stays until confirmed"


def test_naming_the_port_in_the_ifindex_entry_confirms_it() -> None:
    confirmed = InterfaceMap(static={"ifindex:5:ether6": "alice"})
    found = confirmed.assign([Interface(5, "ether6")], {5: "ether5"})
    assert found.subscribers == {5: ("alice", 'interfaces."ifindex:5:ether6"')}
    assert found.pins == {}


def test_a_pin_is_kept_while_its_port_is_gone() -> None:
    found = InterfaceMap(static={"ifindex:5": "alice"}).assign([], {5: "ether5"})
    assert found.pins == {5: "ether5"}


def test_a_shared_static_name_does_not_fall_through_to_a_pattern() -> None:
    mapping = InterfaceMap(rules=[Rule.compile("ifDescr", r"(?P<user>ADSL) port")],
                           static={"ADSL port": "alice"})  # fmt: skip
    assert mapping.assign(DSLAM).subscribers == {}


def test_a_pattern_name_two_ports_share_maps_neither() -> None:
    mapping = InterfaceMap(rules=[Rule.compile("ifDescr", r"(?P<user>ADSL) port")])
    found = mapping.assign(DSLAM)
    assert found.subscribers == {}
    assert [(p.entry, p.kind) for p in found.problems] == [("match.0", "shared")]


def test_a_pattern_still_maps_several_sessions_of_one_subscriber() -> None:
    # Two differently named interfaces, one login: two sessions, both theirs.
    mapping = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>[a-z]+)(-\d+)?>")])
    found = mapping.assign([Interface(1, "<pppoe-ann>"), Interface(2, "<pppoe-ann-1>")])
    assert found.subscribers == {1: ("ann", "match.0"), 2: ("ann", "match.0")}
    assert found.problems == []


def test_ifindex_entries_come_before_names() -> None:
    mapping = InterfaceMap(static={"ADSL port": "alice", "ifindex:102": "bob"})
    found = mapping.assign(DSLAM)
    assert found.subscribers == {102: ("bob", 'interfaces."ifindex:102"')}
    assert [p.kind for p in found.problems] == ["shared"]


@pytest.mark.parametrize(
    ("key", "says"),
    [("ifindex:abc", "bad ifIndex"), ("ifindex:0", "bad ifIndex"), ("ifIndex:-3", "bad ifIndex"),
     ("ifindex:7:", "empty"), ("alias:", "empty"), ("", "empty")],
)  # fmt: skip
def test_a_bad_static_key_is_refused(key: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        StaticEntry.parse(key, "alice")


def test_static_key_forms() -> None:
    assert StaticEntry.parse("IfIndex:17", "a").index == 17
    assert StaticEntry.parse("ifindex:17:Gi0/1:2", "a").value == "Gi0/1:2"
    assert StaticEntry.parse("Serial0/0:0", "a").kind == "name"
