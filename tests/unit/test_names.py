"""Names as an operator reads them (nmsquota/names.py): what agents really send, decoded once."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from nmsquota.names import PADDING, display_string, octets_of, printable

ESCAPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in ESCAPED for char in text)


def test_the_windows_agents_trailing_nul_is_not_part_of_the_name() -> None:
    assert display_string(b"MS TCP Loopback interface\x00") == "MS TCP Loopback interface"


def test_padding_of_nuls_and_spaces_is_stripped_from_the_end_only() -> None:
    assert display_string(b" eth0 \x00 \x00\x00") == " eth0"


def test_a_name_already_decoded_by_the_walk_is_read_the_same_way() -> None:
    assert display_string("MS TCP Loopback interface\x00") == "MS TCP Loopback interface"


def test_an_octet_that_is_not_utf8_is_kept_and_shown_escaped() -> None:
    assert display_string(b"port\xff1") == "port\\xff1"


@pytest.mark.parametrize(
    ("octets", "shown"),
    [
        (b"a\x1b[2Jb", "a\\x1b[2Jb"),  # ESC: would clear the operator's screen
        (b"eth0\nFAKE LOG LINE", "eth0\\x0aFAKE LOG LINE"),  # a forged second log line
        (b"ge\x000/1", "ge\\x000/1"),  # a NUL inside the name is not padding
        (b"del\x7f", "del\\x7f"),
        ("c1\u0085".encode(), "c1\\u0085"),  # C1 (NEL), apart from the octet 0x85 below
        (b"octet\x85", "octet\\x85"),
        ("abc\u202edcba".encode(), "abc\\u202edcba"),  # a bidi override reverses the rest
        ("zero\u200bwidth".encode(), "zero\\u200bwidth"),
        ("tag\U000e0001".encode(), "tag\\U000e0001"),
    ],
)
def test_control_and_format_characters_are_escaped(octets: bytes, shown: str) -> None:
    assert display_string(octets) == shown


def test_a_backslash_stays_as_typed_unless_it_would_read_as_an_escape() -> None:
    assert display_string(b"DOMAIN\\user") == "DOMAIN\\user"
    assert display_string(b"literal\\x41") == "literal\\\\x41"
    assert display_string(b"literal\\x41") != display_string(b"literal\x41")


def test_printable_escapes_controls_and_leaves_a_decoded_name_alone() -> None:
    assert printable("login\x1b]0;owned\x07") == "login\\x1b]0;owned\\x07"
    name = display_string(b"literal\\x41\xff\x01")
    assert printable(name) == name


@given(st.binary(max_size=80))
@example(b"\xed\xb2\x80")  # a UTF-8-encoded surrogate: not UTF-8
@example(b"\\\x01")  # a backslash before an escaped character
def test_decoding_any_octets_never_raises_and_prints_no_control_character(
    octets: bytes,
) -> None:
    assert not has_control_characters(display_string(octets))


@given(st.binary(max_size=80))
@example(b"\\\\x41\\")
def test_every_name_maps_back_to_exactly_its_octets(octets: bytes) -> None:
    assert octets_of(display_string(octets)) == octets.rstrip(PADDING)


@given(st.binary(max_size=60), st.text(alphabet="\x00 ", max_size=8))
def test_trailing_nuls_and_spaces_never_matter_for_matching(octets: bytes, pad: str) -> None:
    assert display_string(octets + pad.encode()) == display_string(octets)


@given(st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=60))
def test_printable_utf8_without_padding_round_trips_unchanged(text: str) -> None:
    text = text.rstrip("\x00 ")
    if "\\" not in text:
        assert display_string(text.encode("utf-8")) == text
    assert octets_of(display_string(text.encode("utf-8"))) == text.encode("utf-8")


@given(st.text(max_size=60))
def test_printable_text_has_no_control_character_and_is_idempotent(text: str) -> None:
    shown = printable(text)
    assert not has_control_characters(shown)
    assert printable(shown) == shown
