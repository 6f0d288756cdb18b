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
