"""An in-process SNMP v1/v2c agent serving a table of objects that the caller sets.

Deterministic where snmpd is not: tests (and the simulator) put exactly the counters they
want in front of the poller, wrap them, restart the agent, reuse an ifIndex, or make the
agent fall silent in the middle of a walk. Built on pysnmp's message codec with a plain
asyncio datagram endpoint, so it shares the test's event loop.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Mapping
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1905
from pysnmp.proto.api.verdec import decode_message_version
from pysnmp.proto.rfc1902 import Counter64

Oid = tuple[int, ...]
# pysnmp's own command responder caps a GETBULK reply here too (FIELD-NOTES).
MAX_BULK_VARBINDS = 64


class TableAgent(asyncio.DatagramProtocol):
    def __init__(self, community: str = "public") -> None:
        self.community = community
        self.objects: dict[Oid, Any] = {}
        self._order: list[Oid] = []
        self.requests = 0
        self.answer_limit: int | None = None
        """Answer only this many requests, then fall silent (a device dying mid-walk)."""
        self.before_reply: Callable[[], None] | None = None
        """Called before each request is answered: counters that follow a simulated clock."""
        self.transport: asyncio.DatagramTransport | None = None

    def set(self, objects: Mapping[Oid, Any]) -> None:
        self.objects = dict(objects)
        self._order = sorted(self.objects)

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
        except Exception:
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def _reply(self, data: bytes) -> bytes | None:
        version = int(decode_message_version(data))
        module = api.PROTOCOL_MODULES[version]
        message, _ = decoder.decode(data, asn1Spec=module.Message())
        if str(module.apiMessage.get_community(message)) != self.community:
            return None
        request = module.apiMessage.get_pdu(message)
        response_message = module.apiMessage.get_response(message)
        response = module.apiMessage.get_pdu(response_message)
        asked = [oid for oid, _ in module.apiPDU.get_varbinds(request)]
        v1 = version == api.SNMP_VERSION_1
        if request.isSameTypeWith(module.GetRequestPDU()):
            answer = [(oid, self._get(tuple(oid), v1)) for oid in asked]
        elif request.isSameTypeWith(module.GetNextRequestPDU()):
            answer = [self._next(tuple(oid), v1) for oid in asked]
        elif not v1 and request.isSameTypeWith(module.GetBulkRequestPDU()):
            answer = self._bulk(request, module, asked)
        else:
            return None
        if v1:
            # v1 has no exception values: the first missing object is a noSuchName error.
            for position, (_, value) in enumerate(answer, start=1):
                if value is None:
                    module.apiPDU.set_error_status(response, 2)
                    module.apiPDU.set_error_index(response, position)
                    answer = [(oid, module.Null("")) for oid in asked]
                    break
        module.apiPDU.set_varbinds(response, answer)
        return encoder.encode(response_message)

    def _get(self, oid: Oid, v1: bool) -> Any:
        value = self.objects.get(oid)
        if value is None or (v1 and isinstance(value, Counter64)):
            return None if v1 else rfc1905.noSuchInstance
        return value

    def _next(self, oid: Oid, v1: bool) -> tuple[Any, Any]:
        position = bisect.bisect_right(self._order, oid)
        # RFC 3584 section 4.2.2.1: a v1 GETNEXT skips the Counter64 objects v1 cannot carry.
        while v1 and position < len(self._order):
            if not isinstance(self.objects[self._order[position]], Counter64):
                break
            position += 1
        if position >= len(self._order):
            return (oid, None if v1 else rfc1905.endOfMibView)
        found = self._order[position]
        return (found, self.objects[found])

    def _bulk(self, request: Any, module: Any, asked: list[Any]) -> list[tuple[Any, Any]]:
        non_repeaters = int(module.apiBulkPDU.get_non_repeaters(request))
        repetitions = int(module.apiBulkPDU.get_max_repetitions(request))
        answer = [self._next(tuple(oid), False) for oid in asked[:non_repeaters]]
        cursors = [tuple(oid) for oid in asked[non_repeaters:]]
        for _ in range(repetitions):
            if not cursors or len(answer) + len(cursors) > MAX_BULK_VARBINDS:
                break
            row = [self._next(cursor, False) for cursor in cursors]
            answer.extend(row)
            cursors = [tuple(oid) for oid, _ in row]
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
