"""The control protocol: what a request line may say, and how a bad one is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.control.protocol import (
    MAX_LINE,
    Exempt,
    Limit,
    OverrideRemove,
    Ping,
    Release,
    RequestError,
    Session,
    SubscriberAdd,
    SubscriberSet,
    Topup,
    decode_request,
    encode_request,
    parse_request,
)
from nmsquota.ledger.records import OverrideRecord
from nmsquota.usage import is_subscriber_name


def line(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def refusal(**fields: object) -> str:
    with pytest.raises(RequestError) as refused:
        decode_request(line(**fields))
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_an_override_is_a_typed_value_with_its_duration_in_seconds() -> None:
    request = decode_request(line(op="exempt", subscriber="bob", reason="the mayor",
                                  **{"for": "2h"}, cap="1d"))  # fmt: skip
    assert request == Exempt(subscriber="bob", reason="the mayor", duration=7200, cap="1d")


def test_the_injection_through_a_newline_in_a_name_is_refused_naming_the_field() -> None:
    message = refusal(op="exempt", subscriber="bob\nlimit carol", reason="x")
    assert message.startswith("subscriber: expected a subscriber name")
    assert "'bob\\nlimit carol'" in message


@pytest.mark.parametrize(
    "name", ["bob smith", 'bob"', "bob'", "b\u00f8b", "\u0431ob", "", "-bob", "a" * 254]
)
def test_a_subscriber_name_with_spaces_quotes_or_non_ascii_is_refused(name: str) -> None:
    assert refusal(op="limit", subscriber=name, reason="x").startswith("subscriber: expected")


def test_a_reason_keeps_its_spaces_quotes_and_non_ascii_exactly() -> None:
    reason = 'Zahlung ausst\u00e4ndig \u2013 M\u00fcller sagt "ja", ticket #17  (twice) \u2713'
    request = decode_request(line(op="limit", subscriber="bob", reason=reason))
    assert isinstance(request, Limit) and request.reason == reason


@pytest.mark.parametrize("reason", ["x\nINFO nmsquota: forged", "x\r", "\x1b[31mred", "x\u2028y",
                                    "evil\u202etxt.exe", "x\x00"])  # fmt: skip
def test_a_reason_with_a_newline_or_control_character_is_refused(reason: str) -> None:
    message = refusal(op="exempt", subscriber="bob", reason=reason)
    assert message.startswith("reason: a newline or other control character")


def test_an_empty_reason_is_refused() -> None:
    message = refusal(op="exempt", subscriber="bob", reason="  ")
    assert message == "reason: expected a reason, got '  '"


def test_a_duration_the_units_do_not_know_is_refused_here() -> None:
    message = refusal(op="exempt", subscriber="bob", reason="x", **{"for": "7days"})
    assert message == (
        "for: expected a duration such as 300s, 5m, 1h30m, 7d or 2w (s, m, h, d, w), got '7days'"
    )


@pytest.mark.parametrize("duration", [0, -5, True, 1.5, "0s", "99999d"])
def test_a_duration_that_is_not_a_positive_span_is_refused(duration: object) -> None:
    assert refusal(op="limit", subscriber="bob", reason="x", **{"for": duration}).startswith("for:")


def test_a_duration_in_seconds_is_a_number() -> None:
    request = decode_request(line(op="limit", subscriber="bob", reason="x", **{"for": 90}))
    assert isinstance(request, Limit) and request.duration == 90


def test_a_topup_has_its_size_in_bytes() -> None:
    request = decode_request(line(op="topup", subscriber="bob", size="5GB", reason="paid"))
    assert request == Topup(subscriber="bob", size=5_000_000_000, reason="paid")


def test_a_topup_in_bits_is_refused_with_the_units_advice() -> None:
    message = refusal(op="topup", subscriber="bob", size="5Gb", reason="paid")
    assert message == (
        "size: '5Gb' is in bits (b = bit, B = byte); a size is in bytes: write 5GB for "
        "5 gigabytes (5 gigabits would be 625MB)"
    )


def test_a_session_event_is_checked_field_by_field() -> None:
    request = decode_request(line(op="session", event="up", interface="<pppoe-bob@isp>",
                                  login="bob@isp", address="2001:db8::7"))  # fmt: skip
    assert request == Session(event="up", interface="<pppoe-bob@isp>", login="bob@isp",
                              address="2001:db8::7")  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("address", "10.0.0.300", "address: expected an IP address, got '10.0.0.300'"),
        ("address", "10.0.0.0/8", "address: expected an IP address, got '10.0.0.0/8'"),
        ("address", "fe80::1%eth0\nup", "address: expected an IP address without a %scope"),
        ("interface", "ppp 0", "interface: expected an interface name without spaces"),
        ("interface", "", "interface: expected an interface name of 1 to 300 characters"),
        ("login", "bob\ndown", "login: expected a login"),
        ("event", "sideways", "event: expected 'up' or 'down', got 'sideways'"),
    ],
)
def test_a_session_event_with_a_bad_field_is_refused(field: str, value: str,
                                                     expected: str) -> None:  # fmt: skip
    fields = {"op": "session", "event": "up", "interface": "ppp0", "login": "bob",
              "address": "10.0.0.7", field: value}  # fmt: skip
    assert refusal(**fields).startswith(expected)


def test_an_unknown_key_is_refused_naming_the_keys_there_are() -> None:
    message = refusal(op="release", subscriber="bob", why="x")
    assert message == "why: unknown key (expected one of: op, subscriber, reason)"


def test_a_field_is_spelled_on_the_wire_only_as_the_protocol_says() -> None:
    # "duration" is the field's name in code; on the wire it is "for", and only "for".
    message = refusal(op="exempt", subscriber="bob", reason="x", duration="10d")
    assert message == "duration: unknown key (expected one of: op, subscriber, reason, for, cap)"
    assert Exempt(subscriber="bob", reason="x", duration=60).duration == 60  # code: its name


def test_an_unknown_or_missing_op_is_refused_naming_the_ops() -> None:
    ops = "ping, session, limit, exempt, topup, release, override, subscriber"
    assert refusal(op="frobnicate") == f"op: expected one of {ops}, got 'frobnicate'"
    assert refusal(subscriber="bob") == f"op: missing (expected one of: {ops})"
    assert refusal(op=["limit"]).startswith("op: expected one of")


def test_a_missing_field_is_named() -> None:
    assert refusal(op="topup", subscriber="bob", reason="x") == "size: missing (required)"


def test_subscriber_provisioning_takes_an_action() -> None:
    request = decode_request(line(op="subscriber", action="add", name="carol", plan="home",
                                  addresses=["10.0.0.3", "2001:db8::/64"]))  # fmt: skip
    assert request == SubscriberAdd(name="carol", plan="home",
                                    addresses=("10.0.0.3", "2001:db8::/64"))  # fmt: skip
    assert refusal(op="subscriber", name="carol") == "action: expected add, set or remove, missing"
    assert refusal(op="subscriber", action="zap", name="c").startswith("action: expected add")


def test_a_subscriber_set_needs_a_plan_or_addresses() -> None:
    assert refusal(op="subscriber", action="set", name="carol") == (
        "set needs a plan, addresses or both"
    )
    request = decode_request(line(op="subscriber", action="set", name="carol", addresses=[]))
    assert request == SubscriberSet(name="carol", addresses=())


def test_provisioned_addresses_are_a_list_of_addresses_or_prefixes() -> None:
    add = {"op": "subscriber", "action": "add", "name": "c", "plan": "home"}
    assert refusal(**add, addresses="10.0.0.3") == "addresses: expected a list, got '10.0.0.3'"
    assert refusal(**add, addresses=["10.0.0.3 10.0.0.4"]).startswith("addresses.0: expected an IP")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[1, 2]\n", "expected a JSON object, got a JSON array"),
        (b'"ping"\n', "expected a JSON object, got a JSON string"),
        (b"exempt bob\n", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"\xff\xfe{}\n", "not UTF-8 (byte 0): a request is a JSON object on one line"),
        (b"\n", "empty line: expected a JSON object"),
        (b'{"op": "ping", "op": "limit"}\n', "op: given twice"),
        (b'{"op": "topup", "size": NaN}\n', "not JSON: NaN is not a JSON number"),
        (b"[" * 50_000 + b"\n", "not JSON: nested too deeply"),
    ],
)
def test_a_line_that_is_not_a_json_object_is_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(RequestError) as refused:
        decode_request(raw)
    assert str(refused.value) == expected


def test_a_line_of_64_KiB_is_read_and_one_byte_more_is_refused() -> None:
    ping = b'{"op": "ping"}'
    assert decode_request(ping.ljust(MAX_LINE) + b"\n") == Ping()
    with pytest.raises(RequestError, match="request line over 65536 bytes"):
        decode_request(ping.ljust(MAX_LINE + 1) + b"\n")


def test_a_request_is_frozen() -> None:
    request = Release(subscriber="bob")
    with pytest.raises(ValueError, match="frozen"):
        request.subscriber = "carol"  # type: ignore[misc]


def test_a_request_built_in_code_is_checked_as_one_received() -> None:
    with pytest.raises(RequestError, match=r"^subscriber: expected a subscriber name"):
        parse_request({"op": "release", "subscriber": "bob carol"})


reasons = st.text(min_size=1, max_size=200).filter(
    lambda text: text.strip() and all(char.isprintable() or char == " " for char in text)
)


@given(reasons, st.sampled_from(["limit", "exempt"]), st.none() | st.integers(1, 10**8))
def test_any_valid_request_is_one_ascii_line_that_reads_back_the_same(
    reason: str, op: str, duration: int | None
) -> None:
    request = parse_request({"op": op, "subscriber": "bob", "reason": reason, "for": duration})
    wire = encode_request(request)
    assert wire.isascii() and wire.count(b"\n") == 1 and wire.endswith(b"\n")
    assert decode_request(wire) == request


@given(st.text(max_size=50))
def test_a_subscriber_is_only_ever_a_subscriber_name(name: str) -> None:
    try:
        request = parse_request({"op": "release", "subscriber": name})
    except RequestError:
        return
    assert isinstance(request, Release) and is_subscriber_name(request.subscriber)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_request_or_one_line_of_error(raw: bytes) -> None:
    try:
        decode_request(raw)
    except RequestError as error:
        assert "\n" not in str(error)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


keys = st.sampled_from(["op", "subscriber", "reason", "for", "cap", "size", "event", "action",
                        "name", "plan", "addresses", "id", "x"])  # fmt: skip
words = st.sampled_from(["exempt", "subscriber", "add", "up", "override", "remove", "0123abcd"])


@given(st.dictionaries(keys, words | json_values))
def test_any_json_object_gives_a_request_or_one_line_of_error(fields: dict[str, object]) -> None:
    try:
        parse_request(fields)
    except RequestError as error:
        assert "\n" not in str(error) and str(error)


def test_a_release_may_say_why_and_an_empty_why_is_refused() -> None:
    assert decode_request(line(op="release", subscriber="bob")) == Release(subscriber="bob")
    request = decode_request(line(op="release", subscriber="bob", reason="paid up"))
    assert request == Release(subscriber="bob", reason="paid up")
    assert refusal(op="release", subscriber="bob", reason=" ") == (
        "reason: expected a reason, got ' '"
    )


@pytest.mark.parametrize("op", ["limit", "exempt", "topup"])
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"for": "0s"}, "for: expected more than 0"),
        ({"reason": ""}, "reason: expected a reason, got ''"),
        ({"reason": " \t "}, "reason: "),
    ],
)
def test_every_override_refuses_one_that_expires_at_once_or_says_nothing(
    op: str, fields: dict[str, object], expected: str
) -> None:
    request = {"op": op, "subscriber": "bob", "reason": "x", "size": "1GB"} | fields
    if op != "topup":
        del request["size"]
    assert refusal(**request).startswith(expected)


@pytest.mark.parametrize("size", [0, "0", "0GB"])
def test_a_topup_of_nothing_is_refused(size: object) -> None:
    message = refusal(op="topup", subscriber="bob", size=size, reason="paid")
    assert message.startswith("size: expected more than 0")


def test_an_override_is_removed_by_the_id_the_ledger_gives_it_and_a_reason() -> None:
    record = OverrideRecord(subscriber="bob", kind="exempt", reason="the mayor", since=1)
    request = parse_request({"op": "override", "action": "remove", "id": record.id.upper(),
                             "reason": "term ended"})  # fmt: skip
    assert request == OverrideRemove(id=record.id, reason="term ended")
    assert decode_request(encode_request(request)) == request


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"action": "add", "id": "0123abcd", "reason": "x"}, "action: expected remove, got 'add'"),
        ({"id": "0123abcd", "reason": "x"}, "action: expected remove, missing"),
        ({"action": "remove", "reason": "x"}, "id: missing (required)"),
        ({"action": "remove", "id": "0123abcd"}, "reason: missing (required)"),
        ({"action": "remove", "id": "0123abc", "reason": "x"},
         "id: expected an override's id (8 hex digits, as `nmsquota overrides list` shows it), "
         "got '0123abc'"),
        ({"action": "remove", "id": "0123abcd\n", "reason": "x"},
         "id: expected an override's id (8 hex digits, as `nmsquota overrides list` shows it), "
         "got '0123abcd\\n'"),
        ({"action": "remove", "id": 12345678, "reason": "x"},
         "id: expected an override's id as a string, got 12345678"),
        ({"action": "remove", "id": "0123abcd", "reason": "x", "subscriber": "bob"},
         "subscriber: unknown key (expected one of: op, action, id, reason)"),
    ],
)  # fmt: skip
def test_a_removal_without_a_well_formed_id_and_a_reason_is_refused(
    fields: dict[str, object], expected: str
) -> None:
    assert refusal(op="override", **fields) == expected


def test_the_light_ping_line_is_the_ping_the_protocol_encodes() -> None:
    # check_nmsquota pings with wire.PING_LINE to spare itself the models' import.
    from nmsquota.control.protocol import Ping, encode_request
    from nmsquota.control.wire import PING_LINE

    assert encode_request(Ping()) == PING_LINE
    assert decode_request(PING_LINE) == Ping()
