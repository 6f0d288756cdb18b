"""Names as an operator reads them: SNMP DisplayStrings (ifDescr, ifName, ifAlias, session
logins) turned into text once, where the walk's values become names, and any text made safe
to print.

Agents do not send what RFC 2579 promises. The Windows SNMP service and several embedded
agents end every DisplayString with a NUL (`MS TCP Loopback interface\\x00`), others pad with
spaces, and nothing stops a device from sending bytes that are not UTF-8 or that a terminal
would obey (ESC, a bidi override, a newline that forges a second log line). So a name is:

- the octets without trailing NULs and spaces, which never take part in matching;
- decoded as UTF-8; each octet that is not UTF-8 shown as `\\xNN` (NN is 80..ff);
- every control or format character escaped: C0 and DEL as `\\xNN` (NN is 00..1f, 7f), C1,
  format (bidi marks and overrides, zero-width characters, BOM), line and paragraph
  separators as `\\uNNNN` (`\\UNNNNNNNN` above the BMP);
- a backslash doubled only where it would otherwise read as one of those escapes, so that
  `DOMAIN\\user` stays as typed while every name still maps back to exactly one octet string
  (`octets_of`).

A name that is printable UTF-8 without padding comes through unchanged: what `poll` prints
is what goes into the configuration.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PADDING = b"\x00 "
"""What agents append to a DisplayString: NULs (C strings sent whole) and spaces (fixed width)."""

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (bidi, zero-width), surrogate, line and paragraph separator characters."""

_ESCAPE = re.compile(r"\\(?:\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
"""What reads as an escape: a doubled backslash, \\xNN, \\uNNNN, \\UNNNNNNNN."""

_LOOKS_ESCAPED = re.compile(r"\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}")
"""What, after a backslash, would make it read as an escape."""


@lru_cache(maxsize=1 << 17)
def display_string(value: bytes | str) -> str:
    """A DisplayString as a name: padding stripped, non-UTF-8 octets and control characters
    escaped, unambiguous. Never raises. A `str` is taken as the octets' UTF-8 decoding.

    Remembered: every cycle reads the same names again (two a row), and escaping them was a
    sixth of turning a walk into readings."""
    if isinstance(value, bytes):
        text = value.rstrip(PADDING).decode("utf-8", errors="surrogateescape")
    else:
        text = value.rstrip(PADDING.decode("ascii"))
    return _escape(text, unambiguous=True)


def printable(text: str) -> str:
    """`text` with every control and format character escaped, safe for a terminal or a log
    line. Idempotent, and a name from `display_string` comes through unchanged (backslashes
    are left alone here: telling a literal `\\x00` from an escaped NUL is the decoder's job)."""
    return _escape(text, unambiguous=False)


def octets_of(name: str) -> bytes:
    """The octets a `display_string` name stands for (without the padding it dropped)."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(name):
        out += name[position : match.start()].encode("utf-8", errors="surrogatepass")
        out += _unescape(match.group())
        position = match.end()
    out += name[position:].encode("utf-8", errors="surrogatepass")
    return bytes(out)


def _escape(text: str, *, unambiguous: bool) -> str:
    if text.isprintable() and (not unambiguous or "\\" not in text):
        return text  # the usual name: nothing to do
    pieces = [_escaped_char(char) for char in text]
    if unambiguous:
        for i in range(len(pieces) - 1, -1, -1):
            # A literal backslash followed by what reads as an escape is doubled; the look
            # ahead is at the output, since an escaped character starts with a backslash.
            if pieces[i] == "\\" and _LOOKS_ESCAPED.match("".join(pieces[i + 1 : i + 10])):
                pieces[i] = "\\\\"
    return "".join(pieces)


def _escaped_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # an octet that was not UTF-8 (surrogateescape)
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    if code < 0x80:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unescape(escape: str) -> bytes:
    kind, digits = escape[1], escape[2:]
    if kind == "\\":
        return b"\\"
    code = int(digits, 16)
    if kind == "x" and code >= 0x80:
        return bytes([code])  # an octet that was not UTF-8
    if code > 0x10FFFF:
        return escape.encode("ascii")  # not one of ours: kept as written
    return chr(code).encode("utf-8", errors="surrogatepass")
