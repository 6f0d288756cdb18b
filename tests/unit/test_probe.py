"""`nmsquota probe`'s judgement of one walk (nmsquota.snmp.probe.probe_table): each warning
an operator needs before trusting a new device's charges (issue 26)."""

from __future__ import annotations

from typing import Any

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.names import printable
from nmsquota.snmp import tables as p
from nmsquota.snmp.probe import probe_table

GBIT = 10**9


def walked(rows: dict[int, dict[str, Any]], hc: bool = True) -> dict[str, Any]:
    """ifIndex -> {name, descr, alias, speed, in, out, status} as walked columns."""
    table: dict[str, Any] = {}

    def put(column: str, index: int, value: Any) -> None:
        table.setdefault(column, {})[(index,)] = value

    for index, row in rows.items():
        put(p.IF_NAME, index, row.get("name", ""))
        put(p.IF_DESCR, index, row.get("descr", row.get("name", "")))
        put(p.IF_ALIAS, index, row.get("alias", ""))
        put(p.IF_SPEED, index, row.get("speed", 100_000_000))
        put(p.IF_OPER_STATUS, index, row.get("status", 1))
        put(p.IF_IN_OCTETS, index, row.get("in", 0) % 2**32)
        put(p.IF_OUT_OCTETS, index, row.get("out", 0) % 2**32)
        if hc:
            put(p.IF_HC_IN_OCTETS, index, row.get("in", 0))
            put(p.IF_HC_OUT_OCTETS, index, row.get("out", 0))
    return table


def judged(rows: dict[int, dict[str, Any]], static: dict[str, str] | None = None,
           hc: bool = True, **options: Any) -> Any:  # fmt: skip
    mapping = InterfaceMap(static=static or {})
    return probe_table("bras", walked(rows, hc), mapping, interval=300, **options)


def test_every_interface_is_shown_with_whom_it_maps_to_and_by_which_rule() -> None:
    found = judged({1: {"name": "ether1", "alias": "CIRCUIT-42", "status": 2}, 2: {"name": "lo"}},
                   {"alias:CIRCUIT-42": "bob"})  # fmt: skip
    one, two = found.ports
    assert (one.interface.name, one.interface.alias, one.speed_bps, one.width, one.status) == (
        "ether1", "CIRCUIT-42", 100_000_000, 64, "down")  # fmt: skip
    assert (one.subscriber, one.rule) == ("bob", 'interfaces."alias:CIRCUIT-42"')
    assert (two.subscriber, two.rule) == (None, None)
    assert found.warnings == []


def test_names_several_interfaces_share_are_a_warning() -> None:
    found = judged({101: {"descr": "ADSL port"}, 102: {"descr": "ADSL port"}})
    assert found.warnings == [
        "'ADSL port' is the ifName or ifDescr of 2 interfaces (ifIndex 101, 102): an entry by "
        "that name charges nobody; map them by ifindex: or alias:"
    ]


def test_a_mapped_shared_name_says_it_charges_nobody() -> None:
    found = judged({101: {"descr": "ADSL port"}, 102: {"descr": "ADSL port"}},
                   {"ADSL port": "alice"})  # fmt: skip
    assert any("share that name: charged to nobody" in w for w in found.warnings)


def test_an_interface_with_traffic_that_maps_to_nobody_is_a_warning() -> None:
    found = judged({1: {"name": "ether1", "out": 5_000}, 2: {"name": "ether2"}})
    assert found.warnings == ["ifIndex 1 ('ether1') has counted traffic but maps to no subscriber"]


def test_a_32_bit_counter_that_wraps_more_than_once_per_interval_is_a_warning() -> None:
    found = judged({1: {"name": "ge0", "speed": GBIT}, 2: {"name": "fe0"}},
                   {"ge0": "alice", "fe0": "bob"}, hc=False)  # fmt: skip
    (warning,) = found.warnings
    assert warning == (
        "ifIndex 1 ('ge0'): a 32-bit counter at 1 Gbit/s wraps every 34 s, more than once per "
        "300 s interval: its charge is unknowable; the agent has no 64-bit counters for it: "
        "set interval below 34 s"
    )


def test_on_snmpv1_the_fix_for_a_wrapping_counter_is_v2c() -> None:
    found = judged({1: {"name": "ge0", "speed": GBIT}}, {"ge0": "alice"}, hc=False, version="1")
    (warning,) = found.warnings
    assert warning.endswith('set version = "2c" (SNMPv1 cannot carry 64-bit counters)')


def test_64_bit_counters_at_the_same_speed_are_fine() -> None:
    assert judged({1: {"name": "ge0", "speed": GBIT}}, {"ge0": "alice"}).warnings == []


def test_speed_0_on_a_mapped_interface_is_a_warning_unless_overridden() -> None:
    found = judged({1: {"name": "wlan1", "speed": 0}}, {"wlan1": "alice"})
    assert found.warnings == ["ifIndex 1 ('wlan1'): speed 0 (unknown): the spike guard falls "
                              "back to its ceiling (100 Gbit/s); set speed_override to bound "
                              "it"]  # fmt: skip
    overridden = judged({1: {"name": "wlan1", "speed": 0}}, {"wlan1": "alice"},
                        speed_override_bps=GBIT)  # fmt: skip
    assert overridden.warnings == []


def test_a_pattern_that_matches_no_interface_is_a_warning() -> None:
    mapping = InterfaceMap(rules=[Rule.compile("ifName", "<pppoe-(?P<user>.+)>")])
    found = probe_table("bras", walked({1: {"name": "ether1"}}), mapping, interval=300)
    assert found.warnings == ["match.0 (ifName '<pppoe-(?P<user>.+)>') matches no interface"]


def test_names_are_printed_without_control_characters() -> None:
    assert printable("MS TCP Loopback interface\x00") == "MS TCP Loopback interface\\x00"
    assert printable("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\x0ac"
    assert printable("Gi0/1 ünïcode") == "Gi0/1 ünïcode"
