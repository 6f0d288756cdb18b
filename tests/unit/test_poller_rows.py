"""Turning walked IF-MIB columns into readings (no network)."""

from __future__ import annotations

import pytest

from nmsquota.attribution import InterfaceMap, Rule, attribute
from nmsquota.snmp import poller
from nmsquota.snmp import tables as p
from nmsquota.usage import Sample

MIKROTIK = InterfaceMap(rules=[Rule.compile("ifName", r"<pppoe-(?P<user>.+)>")])


def table(**columns: dict) -> dict:
    return {getattr(p, name): {(i,): v for i, v in rows.items()} for name, rows in columns.items()}


def test_hc_counters_are_preferred_and_speed_comes_from_if_high_speed() -> None:
    walked = table(
        IF_NAME={7: "<pppoe-davidn>", 8: "ether1"},
        IF_HC_IN_OCTETS={7: 2**40, 8: 1},
        IF_HC_OUT_OCTETS={7: 2**41, 8: 1},
        IF_IN_OCTETS={7: 5, 8: 1},
        IF_OUT_OCTETS={7: 6, 8: 1},
        IF_HIGH_SPEED={7: 100},
        IF_OPER_STATUS={7: 1},
    )
    result = p.readings_from("bras1", walked, MIKROTIK, 1000.0, 555)
    ((key, reading),) = result.readings
    assert (key.subscriber, key.index, key.interface) == ("davidn", 7, "<pppoe-davidn>")
    assert (reading.octets_in, reading.octets_out, reading.width) == (2**40, 2**41, 64)
    assert reading.speed_bps == 100 * 10**6 and reading.uptime == 555
    assert [i.name for i in result.unmapped] == ["ether1"]


@pytest.mark.parametrize(
    ("if_speed", "high_speed", "line_rate"),
    [
        (1_544_000, 2, 1_544_000),  # a T1: ifHighSpeed rounds, ifSpeed is exact
        (1_500_000, 1, 1_500_000),  # rounded down, ifHighSpeed would refuse honest traffic
        (2**32 - 1, 10_000, 10 * 10**9),  # ifSpeed saturated: ifHighSpeed says
        (None, 40_000, 40 * 10**9),  # an agent with only ifXTable's speed
        (0, 0, None),  # a radio or PPP port that does not know its speed
    ],
)
def test_the_line_rate_is_ifspeed_unless_it_is_saturated(
    if_speed: int | None, high_speed: int, line_rate: int | None
) -> None:
    speeds = {"IF_SPEED": {3: if_speed}} if if_speed is not None else {}
    walked = table(
        IF_NAME={3: "<pppoe-a>"},
        IF_IN_OCTETS={3: 10},
        IF_OUT_OCTETS={3: 20},
        IF_HIGH_SPEED={3: high_speed},
        **speeds,
    )
    ((_, reading),) = p.readings_from("b", walked, MIKROTIK, 0.0, None).readings
    assert reading.speed_bps == line_rate


def test_32_bit_counters_are_the_fallback() -> None:
    walked = table(
        IF_NAME={3: "<pppoe-a>"}, IF_IN_OCTETS={3: 10}, IF_OUT_OCTETS={3: 20}, IF_SPEED={3: 10**7}
    )
    ((_, reading),) = p.readings_from("b", walked, MIKROTIK, 0.0, None).readings
    assert (reading.octets_in, reading.octets_out, reading.width, reading.speed_bps) == (
        10,
        20,
        32,
        10**7,
    )


def test_a_missing_or_empty_counter_is_a_failed_read_not_zero() -> None:
    walked = table(
        IF_NAME={3: "<pppoe-a>", 4: "<pppoe-b>"},
        IF_HC_IN_OCTETS={3: 10, 4: ""},
        IF_HC_OUT_OCTETS={4: 5},
    )
    readings = dict(
        (k.subscriber, r) for k, r in p.readings_from("b", walked, MIKROTIK, 0.0, None).readings
    )
    assert not readings["a"].complete and not readings["b"].complete


def accel_index(sid: str) -> tuple[int, ...]:
    return (len(sid), *map(ord, sid))


def accel_table(rows: dict[str, dict]) -> dict:
    columns = {
        "sid": p.ACCEL_SID, "ifname": p.ACCEL_IFNAME, "user": p.ACCEL_USERNAME,
        "state": p.ACCEL_STATE, "uptime": p.ACCEL_UPTIME, "rx": p.ACCEL_RX_BYTES,
        "tx": p.ACCEL_TX_BYTES,
    }  # fmt: skip
    table: dict = {oid: {} for oid in columns.values()}
    for sid, row in rows.items():
        for name, value in {"sid": sid, **row}.items():
            table[columns[name]][accel_index(sid)] = value
    return table


def test_accel_ppp_sessions_are_charged_from_their_start() -> None:
    from nmsquota.attribution import attribute

    sid = "8f1e2a3b4c5d6e7f"
    walked = accel_table(
        {
            sid: {
                "ifname": "ppp3",
                "user": "davidn",
                "state": 2,
                "uptime": 120,
                "rx": 700,
                "tx": 9000,
            }
        }
    )
    seen = p.sessions_from_accel("bras1", walked, 1000.0, None)
    ((key, reading),) = seen.readings
    assert (key.subscriber, key.interface, key.session) == ("davidn", "ppp3", sid)
    assert (reading.octets_in, reading.octets_out) == (700, 9000)
    # A new session: its counters started at zero 120 s ago, so all of it is charged.
    result = attribute({}, seen.readings, 1000, origins=seen.origins)
    assert [(s.subscriber, s.bytes_in, s.bytes_out) for s in result.samples] == [
        ("davidn", 9000, 700)
    ]


def test_the_next_accel_session_on_the_same_unit_is_another_key() -> None:
    from nmsquota.attribution import attribute

    first = p.sessions_from_accel(
        "b",
        accel_table(
            {
                "aaaaaaaaaaaaaaaa": {
                    "ifname": "ppp3",
                    "user": "a",
                    "state": 2,
                    "uptime": 60,
                    "rx": 1,
                    "tx": 500,
                }
            }
        ),
        100.0,
        None,
    )
    before = attribute({}, first.readings, 100, origins=first.origins)
    # unit-cache: ppp3 goes to b's new session, whose counters start again at 0.
    second = p.sessions_from_accel(
        "b",
        accel_table(
            {
                "bbbbbbbbbbbbbbbb": {
                    "ifname": "ppp3",
                    "user": "b",
                    "state": 2,
                    "uptime": 30,
                    "rx": 2,
                    "tx": 40,
                }
            }
        ),
        400.0,
        None,
    )
    result = attribute(before.baselines, second.readings, 400, origins=second.origins)
    assert [(s.subscriber, s.bytes_in) for s in result.samples] == [("b", 40)]


def inet_route(address: str, length: int) -> tuple[int, ...]:
    """An inetCidrRouteTable index: type, dest, pfxLen, policy 0.0, nextHop type and 0s."""
    import ipaddress

    packed = ipaddress.ip_address(address).packed
    kind = 1 if len(packed) == 4 else 2
    return (kind, len(packed), *packed, length, 2, 0, 0, kind, len(packed), *[0] * len(packed))


def test_host_routes_to_a_session_interface_are_its_subscriber_s_addresses() -> None:
    walked = table(IF_NAME={7: "<pppoe-davidn>", 8: "<pppoe-sue>", 1: "eth0"})
    walked[p.INET_CIDR_ROUTE_IF_INDEX] = {
        inet_route("100.64.0.7", 32): 7,
        inet_route("2001:db8::7", 128): 7,
        inet_route("2001:db8:7700::", 56): 7,  # a delegated prefix
        inet_route("fe80::", 64): 7,  # link-local: not the subscriber's
        inet_route("100.64.0.0", 24): 1,  # a subnet, and not on a session
    }
    walked[p.IP_CIDR_ROUTE_IF_INDEX] = {
        (100, 64, 0, 8, 255, 255, 255, 255, 0, 0, 0, 0, 0): 8,
        (100, 64, 1, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0): 8,
    }
    result = p.readings_from("bras1", walked, MIKROTIK, 0.0, None)
    assert result.addresses == {
        "davidn": ["100.64.0.7", "2001:db8::7", "2001:db8:7700::/56"],
        "sue": ["100.64.0.8"],
    }


def test_csub_rows_name_the_subscriber_only_where_their_identity_bit_is_set() -> None:
    walked = table(IF_NAME={12: "Vi2.1", 13: "Vi2.2", 14: "<pppoe-x>"})
    walked[p.CSUB_IDENTITIES] = {(12,): b"\x00\x08", (13,): b"\x00\x00", (14,): b"\x00\x04"}
    walked[p.CSUB_USERNAME] = {(12,): "alice", (13,): "ghost", (14,): "ghost"}
    walked[p.CSUB_ACCT_SESSION_ID] = {(12,): 99, (14,): 7}
    result = p.readings_from("bng", walked, MIKROTIK, 0.0, None)
    # 12: username valid, session id not; 13: nothing valid; 14: falls back to the pattern.
    assert [(k.subscriber, k.session) for k, _ in result.readings] == [("alice", ""), ("x", "")]
    assert [i.name for i in result.unmapped] == ["Vi2.2"]


def test_the_counters_walked_each_cycle_follow_what_the_device_answered() -> None:
    hc_everywhere = table(
        IF_HC_IN_OCTETS={1: 1, 2: 2}, IF_HC_OUT_OCTETS={1: 1, 2: 2},
        IF_IN_OCTETS={1: 1, 2: 2}, IF_OUT_OCTETS={1: 1, 2: 2}, IF_OPER_STATUS={1: 1, 2: 1},
    )  # fmt: skip
    assert poller._counter_columns(hc_everywhere, p.COLUMNS) == (
        p.IF_HC_IN_OCTETS, p.IF_HC_OUT_OCTETS, p.IF_OPER_STATUS,
    )  # fmt: skip
    some_32_only = {**hc_everywhere, p.IF_IN_OCTETS: {(1,): 1, (2,): 2, (3,): 3}}
    some_32_only[p.IF_COUNTER_DISCONTINUITY] = {(1,): 0}
    assert poller._counter_columns(some_32_only, p.COLUMNS) == (
        p.IF_HC_IN_OCTETS, p.IF_HC_OUT_OCTETS, p.IF_IN_OCTETS, p.IF_OUT_OCTETS,
        p.IF_OPER_STATUS, p.IF_COUNTER_DISCONTINUITY,
    )  # fmt: skip
    assert poller._counter_columns(hc_everywhere, p.V1_COLUMNS) == (
        p.IF_IN_OCTETS, p.IF_OUT_OCTETS, p.IF_OPER_STATUS,
    )  # fmt: skip


def test_a_nul_terminated_name_maps_to_the_configured_name_and_is_charged_exactly() -> None:
    # The Windows SNMP service ends every DisplayString with a NUL; the operator configures
    # the name as they read it.
    mapping = InterfaceMap(static={"MS TCP Loopback interface": "winnie"})
    name = b"MS TCP Loopback interface\x00"

    def polled(octets_in: int, octets_out: int, now: float) -> p.Poll:
        walked = table(
            IF_DESCR={1: name, 2: b"Ethernet adapter\x00"},
            IF_IN_OCTETS={1: octets_in, 2: 1},
            IF_OUT_OCTETS={1: octets_out, 2: 1},
            IF_SPEED={1: 10_000_000, 2: 10_000_000},
        )
        return p.readings_from("xp", walked, mapping, now, int(now * 100))

    first = attribute({}, polled(230_095_059, 230_095_059, 100.0).readings, 100)
    second = polled(230_095_059 + 70_000, 230_095_059 + 1_500_000, 160.0)
    result = attribute(first.baselines, second.readings, 160)
    ((key, _),) = second.readings
    assert (key.interface, key.subscriber) == ("MS TCP Loopback interface", "winnie")
    assert [i.descr for i in second.unmapped] == ["Ethernet adapter"]
    assert result.samples == [Sample("winnie", 160, bytes_in=1_500_000, bytes_out=70_000)]


def test_names_with_control_characters_reach_the_mapping_escaped() -> None:
    walked = table(
        IF_NAME={4: b"<pppoe-mallory\x1b[2J>"}, IF_IN_OCTETS={4: 1}, IF_OUT_OCTETS={4: 1}
    )
    ((key, _),) = p.readings_from("b", walked, MIKROTIK, 0.0, None).readings
    assert key.subscriber == "mallory\\x1b[2J"
    assert key.interface == "<pppoe-mallory\\x1b[2J>"
