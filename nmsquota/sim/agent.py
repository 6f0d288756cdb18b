"""An in-process SNMP v1/v2c agent serving a table of objects that the caller sets.

Deterministic where snmpd is not: tests (and the simulator) put exactly the counters they
want in front of the poller, wrap them, restart the agent, reuse an ifIndex, or make the
agent fall silent in the middle of a walk. A plain asyncio datagram endpoint, so it shares
the test's event loop. Objects are pysnmp values, or Ber values already encoded (the
simulator's World); the messages are read and written by the small BER codec below rather
than by pyasn1, which made the agent cost as much CPU as the poller it serves (a simulated
month of a thousand subscribers is millions of varbinds).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Mapping
from typing import Any

from pyasn1.type import univ
from pysnmp.proto.rfc1902 import Counter64

Oid = tuple[int, ...]
# pysnmp's own command responder caps a GETBULK reply here too (FIELD-NOTES).
MAX_BULK_VARBINDS = 64

GET, GET_NEXT, RESPONSE, GET_BULK = 0xA0, 0xA1, 0xA2, 0xA5
NO_SUCH_INSTANCE = b"\x81\x00"
END_OF_MIB_VIEW = b"\x82\x00"
NULL = b"\x05\x00"
FOUND = b"(the object's own value)"
"""An answer's value that is the object's own, encoded with its OID when the reply is
written (TableAgent._varbind); compared by identity, never sent."""
V1, V2C = 0, 1


class BerError(ValueError):
    pass


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    # Two's complement, shortest form: the unsigned application types (Counter64 above
    # 2**63 included) get the leading zero octet BER wants.
    return value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)


def encode_oid(oid: Oid) -> bytes:
    first, second, *rest = (*oid, 0, 0) if len(oid) < 2 else oid
    out = bytearray()
    for arc in (first * 40 + second, *rest):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


class Ber(bytes):
    """A value given already encoded (its tag, length and content): what the simulator's
    World serves, so that a cycle builds no pysnmp object per value (they cost more than
    the agent's whole reply)."""


def ber(tag: int, value: int | bytes) -> Ber:
    """An INTEGER-like value (INTEGER, Counter32, Gauge32, TimeTicks, Counter64) or an OCTET
    STRING under its ASN.1 tag, encoded as encode_value encodes the pysnmp value."""
    return Ber(_tlv(tag, value if isinstance(value, bytes) else _integer(value)))


COUNTER64_TAG = 0x46


def _is_counter64(value: Any) -> bool:
    """Whether v1 cannot carry it (RFC 3584): a pysnmp Counter64, or one given as Ber."""
    if isinstance(value, Ber):
        return value[0] == COUNTER64_TAG
    return isinstance(value, Counter64)


def encode_value(value: Any) -> bytes:
    """A pysnmp value's BER encoding (its own tag, so Counter64 is 0x46 and so on); a Ber
    value as it is."""
    if isinstance(value, Ber):
        return value
    tag = value.tagSet[0]
    first = tag.tagClass | tag.tagFormat | tag.tagId
    if isinstance(value, univ.Integer):
        return _tlv(first, _integer(int(value)))
    if isinstance(value, univ.OctetString):
        return _tlv(first, bytes(value))
    if isinstance(value, univ.ObjectIdentifier):
        return encode_oid(tuple(value))
    if isinstance(value, univ.Null):
        return NULL
    raise BerError(f"cannot encode {type(value).__name__}")


def _read(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the TLV at `at`."""
    if at + 2 > len(data):
        raise BerError("truncated")
    tag, n = data[at], data[at + 1]
    at += 2
    if n & 0x80:
        size = n & 0x7F
        n = int.from_bytes(data[at : at + size], "big")
        at += size
    if at + n > len(data):
        raise BerError("truncated")
    return tag, at, at + n


def _decode_oid(content: bytes) -> Oid:
    arcs, arc = [], 0
    for octet in content:
        arc = (arc << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs:
        return ()
    first = arcs[0]
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return (*head, *arcs[1:])


def decode_request(data: bytes) -> tuple[int, bytes, int, bytes, int, int, list[Oid]]:
    """(version, community, PDU type, raw request-id, field 2, field 3, the asked OIDs)."""
    tag, at, _ = _read(data, 0)
    if tag != 0x30:
        raise BerError("not a message")
    _, start, end = _read(data, at)
    version = int.from_bytes(data[start:end], "big")
    _, start, end = _read(data, end)
    community = data[start:end]
    pdu_type, at, _ = _read(data, end)
    fields = []
    for _ in range(3):
        _, start, end = _read(data, at)
        fields.append(data[start:end])
        at = end
    _, at, stop = _read(data, at)
    asked = []
    while at < stop:
        _, inner, after = _read(data, at)
        _, start, end = _read(data, inner)
        asked.append(_decode_oid(data[start:end]))
        at = after
    return (version, community, pdu_type, fields[0],
            int.from_bytes(fields[1], "big", signed=True),
            int.from_bytes(fields[2], "big", signed=True), asked)  # fmt: skip


class TableAgent(asyncio.DatagramProtocol):
    def __init__(self, community: str = "public") -> None:
        self.community = community
        self.objects: dict[Oid, Any] = {}
        self._order: list[Oid] = []
        self._encoded: dict[Oid, bytes] = {}
        """Each object's whole varbind (OID and value), encoded at its first request after
        set(): a walk asks for the same objects several times, the columns in turn."""
        self._kept: dict[Oid, tuple[Ber, bytes]] = {}
        """The varbinds of objects given as Ber, kept across set() with their values: most
        of a simulated table (names, status, speeds, idle counters) is the same next time,
        and equal Ber bytes are the same encoding."""
        self._oids: dict[Oid, bytes] = {}
        """OIDs encoded, kept across set(): the same table's OIDs come back every cycle."""
        self.requests = 0
        self.answer_limit: int | None = None
        """Answer only this many requests, then fall silent (a device dying mid-walk)."""
        self.before_reply: Callable[[], None] | None = None
        """Called before each request is answered: counters that follow a simulated clock."""
        self.transport: asyncio.DatagramTransport | None = None

    def set(self, objects: Mapping[Oid, Any]) -> None:
        self.objects = dict(objects)
        self._order = sorted(self.objects)
        self._encoded = {}
        if len(self._kept) > 2 * len(self.objects) + 64:  # sessions gone: forget theirs
            self._kept = {oid: kept for oid, kept in self._kept.items() if oid in self.objects}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1
        if self.answer_limit is not None and self.requests > self.answer_limit:
            return
        if self.before_reply is not None:
            self.before_reply()
        try:
            reply = self._reply(data)
        except (BerError, IndexError, ValueError):
            return  # not a message we understand: a real agent drops it too
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def _reply(self, data: bytes) -> bytes | None:
        version, community, pdu, request_id, second, third, asked = decode_request(data)
        if version not in (V1, V2C) or community != self.community.encode():
            return None
        v1 = version == V1
        if pdu == GET:
            answer = [(oid, self._get(oid, v1)) for oid in asked]
        elif pdu == GET_NEXT:
            answer = [self._next(oid, v1) for oid in asked]
        elif pdu == GET_BULK and not v1:
            answer = self._bulk(asked, max(0, second), max(0, third))
        else:
            return None
        status = index = 0
        if v1:
            # v1 has no exception values: the first missing object is a noSuchName error.
            for position, (_, value) in enumerate(answer, start=1):
                if value is None:
                    status, index = 2, position
                    answer = [(oid, NULL) for oid in asked]
                    break
        varbinds = b"".join(self._varbind(oid, value) for oid, value in answer)
        pdu_body = (_tlv(0x02, request_id) + _tlv(0x02, _integer(status))
                    + _tlv(0x02, _integer(index)) + _tlv(0x30, varbinds))  # fmt: skip
        return _tlv(0x30, _tlv(0x02, _integer(version)) + _tlv(0x04, community)
                    + _tlv(RESPONSE, pdu_body))  # fmt: skip

    # -- the same table read in-process (nmsquota.snmp.walk.LocalTable): no SNMP at all ----

    def lookup(self, oid: Oid) -> Any | None:
        if self.before_reply is not None:
            self.before_reply()
        return self.objects.get(oid)

    def following(self, oid: Oid) -> tuple[Oid, Any] | None:
        if self.before_reply is not None:
            self.before_reply()
        position = bisect.bisect_right(self._order, oid)
        if position >= len(self._order):
            return None
        found = self._order[position]
        return found, self.objects[found]

    def _oid(self, oid: Oid) -> bytes:
        encoded = self._oids.get(oid)
        if encoded is None:
            encoded = self._oids[oid] = encode_oid(oid)
        return encoded

    def _varbind(self, oid: Oid, value: bytes | None) -> bytes:
        """The varbind of `oid` with `value`: an object's own (FOUND) from the cache."""
        if value is FOUND:
            encoded = self._encoded.get(oid)
            if encoded is None:
                encoded = self._encoded[oid] = self._encode(oid, self.objects[oid])
            return encoded
        return _tlv(0x30, self._oid(oid) + (NULL if value is None else value))

    def _encode(self, oid: Oid, value: Any) -> bytes:
        if type(value) is not Ber:
            return _tlv(0x30, self._oid(oid) + encode_value(value))
        kept = self._kept.get(oid)
        if kept is not None and kept[0] == value:
            return kept[1]
        encoded = _tlv(0x30, self._oid(oid) + value)
        self._kept[oid] = (value, encoded)
        return encoded

    def _value(self, oid: Oid) -> bytes:
        """An object's value as an answer carries it: FOUND, its own (encoded with its OID
        when the reply is written). A subclass may answer another (an exception value)."""
        return FOUND

    def _get(self, oid: Oid, v1: bool) -> bytes | None:
        value = self.objects.get(oid)
        if value is None or (v1 and _is_counter64(value)):
            return None if v1 else NO_SUCH_INSTANCE
        return self._value(oid)

    def _next(self, oid: Oid, v1: bool) -> tuple[Oid, bytes | None]:
        position = bisect.bisect_right(self._order, oid)
        # RFC 3584 section 4.2.2.1: a v1 GETNEXT skips the Counter64 objects v1 cannot carry.
        while v1 and position < len(self._order):
            if not _is_counter64(self.objects[self._order[position]]):
                break
            position += 1
        if position >= len(self._order):
            return (oid, None if v1 else END_OF_MIB_VIEW)
        found = self._order[position]
        return (found, self._value(found))

    def _bulk(self, asked: list[Oid], non_repeaters: int, repetitions: int
              ) -> list[tuple[Oid, bytes | None]]:  # fmt: skip
        answer = [self._next(oid, False) for oid in asked[:non_repeaters]]
        cursors = asked[non_repeaters:]
        for _ in range(repetitions):
            if not cursors or len(answer) + len(cursors) > MAX_BULK_VARBINDS:
                break
            row = [self._next(cursor, False) for cursor in cursors]
            answer.extend(row)
            cursors = [oid for oid, _ in row]
        return answer


async def start_agent(
    host: str = "127.0.0.1", port: int = 0, community: str = "public"
) -> tuple[TableAgent, int]:
    """A TableAgent listening on host:port (0: any free port); returns it and its port."""
    loop = asyncio.get_running_loop()
    transport, agent = await loop.create_datagram_endpoint(
        lambda: TableAgent(community), local_addr=(host, port)
    )
    return agent, transport.get_extra_info("sockname")[1]
