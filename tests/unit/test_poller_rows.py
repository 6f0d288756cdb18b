"""Turning walked IF-MIB columns into readings (no network)."""

from __future__ import annotations

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.snmp import poller as p

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
