"""The values a control request carries, each checked for what it is: a subscriber name, an
address, an interface, a duration, a size, a line of text. Used as pydantic field types by
nmsquota.control.protocol; every error names what was expected and quotes what came."""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from nmsquota import units
from nmsquota.control.wire import shown as shown
from nmsquota.usage import is_subscriber_name

MAX_TEXT = 1000
"""Characters in a reason: a sentence or a ticket reference, not a document."""
MAX_INTERFACE = 300
"""Characters in an interface name: room for MikroTik's `<pppoe-LOGIN>` with the longest
login (253), far more than Linux's 15."""
MAX_CAP_NAME = 100
MAX_ADDRESSES = 256
MAX_DURATION = 10 * 366 * 86400
"""Ten years: longer is a typo, and a far-off expiry breaks every reader's date arithmetic."""
MAX_SIZE = 2**63 - 1
"""The largest 64-bit count: what the ledger's readers (and SNMP's Counter64) can carry."""
OVERRIDE_ID_DIGITS = 8
"""Hex digits in an override's id, as the ledger makes them (OverrideRecord.id: this
module may not import the ledger, and a test holds the two together)."""

# Characters a line of text may not hold: C0/C1 controls (newline, escape...), format
# characters (bidi overrides that reorder what a log reader sees), line and paragraph
# separators, and lone surrogates (JSON's \ud800 escapes decode to them; UTF-8 cannot hold
# them, so they would fail later, in the ledger).
_NOT_TEXT = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("type", f"expected {what} as a string, got {shown(value)}")
    return value


def _name_of(what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value, what)
        if not is_subscriber_name(text):
            raise PydanticCustomError(
                "name",
                f"expected {what} (letters, digits and . _ @ + -, starting with a letter or "
                f"digit, at most 253 characters), got {shown(value)}",
            )
        return text

    return check


def _one_line(limit: int, what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value, what)
        if not text.strip():
            raise PydanticCustomError("text", f"expected {what}, got {shown(value)}")
        if len(text) > limit:
            raise PydanticCustomError("text", f"expected at most {limit} characters, got "
                                      f"{len(text)}")  # fmt: skip
        for position, char in enumerate(text):
            if unicodedata.category(char) in _NOT_TEXT:
                raise PydanticCustomError(
                    "text",
                    f"a newline or other control character (U+{ord(char):04X}) at position "
                    f"{position}: {what} must be one line of plain text",
                )
        return text

    return check


def _interface(value: Any) -> str:
    text = _string(value, "an interface name")
    if not text or len(text) > MAX_INTERFACE:
        raise PydanticCustomError("interface", f"expected an interface name of 1 to "
                                  f"{MAX_INTERFACE} characters, got {shown(value)}")  # fmt: skip
    if not all(char.isprintable() and not char.isspace() for char in text):
        raise PydanticCustomError("interface", "expected an interface name without spaces or "
                                  f"control characters, got {shown(value)}")  # fmt: skip
    return text


def _address(parse: Callable[[str], Any], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value, what)
        try:
            parsed = parse(text)
        except ValueError:
            raise PydanticCustomError("address", f"expected {what}, got {shown(value)}") from None
        # ipaddress takes any text after "%" as an IPv6 scope, a newline included; a
        # subscriber's address never has one.
        if getattr(parsed, "scope_id", None) is not None or "%" in text:
            raise PydanticCustomError("address", f"expected {what} without a %scope, got "
                                      f"{shown(value)}")  # fmt: skip
        return text

    return check


def _unit(parse: Callable[[str | int], int], example: str, most: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise PydanticCustomError("unit", f"expected {example}, got {shown(value)}")
        try:
            number = parse(value)
        except units.UnitError as error:
            raise PydanticCustomError("unit", str(error)) from None
        if not 0 < number <= most:
            raise PydanticCustomError("unit", f"expected more than 0 and at most {most}, got "
                                      f"{shown(value)}")  # fmt: skip
        return number

    return check


def _override_id(value: Any) -> str:
    text = _string(value, "an override's id")
    if len(text) != OVERRIDE_ID_DIGITS or any(c not in "0123456789abcdef" for c in text.lower()):
        raise PydanticCustomError("id", f"expected an override's id ({OVERRIDE_ID_DIGITS} hex "
                                  "digits, as `nmsquota overrides list` shows it), got "
                                  f"{shown(value)}")  # fmt: skip
    return text.lower()


SubscriberName = Annotated[str, BeforeValidator(_name_of("a subscriber name"))]
Login = Annotated[str, BeforeValidator(_name_of("a login"))]
PlanName = Annotated[str, BeforeValidator(_name_of("a plan name"))]
Reason = Annotated[str, BeforeValidator(_one_line(MAX_TEXT, "a reason"))]
CapName = Annotated[str, BeforeValidator(_one_line(MAX_CAP_NAME, "a cap's name"))]
Interface = Annotated[str, BeforeValidator(_interface)]
Address = Annotated[str, BeforeValidator(_address(ipaddress.ip_address, "an IP address"))]
Prefix = Annotated[
    str, BeforeValidator(_address(ipaddress.ip_interface, "an IP address or prefix"))
]
Seconds = Annotated[
    int, BeforeValidator(_unit(units.parse_duration, 'a duration such as "2h"', MAX_DURATION))
]
Bytes = Annotated[int, BeforeValidator(_unit(units.parse_size, 'a size such as "5GB"', MAX_SIZE))]
OverrideId = Annotated[str, BeforeValidator(_override_id)]
