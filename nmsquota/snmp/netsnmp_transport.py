"""Requests (transport.py) sent by Net-SNMP's C library through netsnmp-cffi: the same walk
(walk.Walker) at a twentieth of pysnmp's CPU per row, for agents whose configuration says
`transport = "netsnmp"`.

Why this binding (measured on this machine, bench/bench_poll.py, 1,000 interfaces):
netsnmp-cffi 0.2 runs Net-SNMP's own encoder and decoder and hooks its sockets into the
asyncio loop, so a walk costs ~8 us of CPU per varbind against pysnmp's ~190 us and
`snmpbulkwalk`'s ~10 us, and many agents are read concurrently in one thread as with
pysnmp. ezsnmp 2.5 was the other candidate: it blocks (a thread per agent), costs ~33 us
per varbind, ~5.7 ms per v3 request, and its bulk walk of several OIDs returns the rows of
one. netsnmp-cffi has no
SNMPv3: the configuration refuses `transport = "netsnmp"` with version 3
(config/settings.py), and an Agent built by hand that asks for it gets an SnmpError here.

netsnmp-cffi's own session reads an answer's varbinds only (not its error-status and
error-index, which the walk needs for tooBig and v1's noSuchName) and turns Counter32,
Gauge32 and TimeTicks into bare ints (the walk warns of a gauge in a counter column): the
session below reads the answer's PDU itself, by the struct fields its C declarations give.
Those are private to netsnmp-cffi, hence the pin to 0.2.* in pyproject.toml.

A session opened without init_snmp() reads no snmp.conf and loads no MIB (checked with
strace): the operator's own Net-SNMP settings cannot change what is asked for or how.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

from netsnmpy import _netsnmp
from netsnmpy.constants import SNMP_MSG_GET, SNMP_MSG_GETBULK, SNMP_MSG_GETNEXT
from netsnmpy.errors import SNMPError
from netsnmpy.netsnmp import make_request_pdu
from netsnmpy.session import SNMPSession

from nmsquota.snmp.transport import (
    COUNTER32,
    COUNTER64,
    END_OF_MIB_VIEW,
    GAUGE32,
    INTEGER,
    IP_ADDRESS,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    NULL,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    OPAQUE,
    TIME_TICKS,
    Agent,
    Answer,
    Index,
    NoAnswer,
    RequestFailed,
    SnmpError,
    Varbind,
)

_ffi: Any = _netsnmp.ffi
_OID_SIZE = _ffi.sizeof("oid")
NUMBERS = frozenset({INTEGER, COUNTER32, GAUGE32, TIME_TICKS})
"""Tags whose value Net-SNMP keeps in a C long (Counter32, Gauge32 and TimeTicks unsigned,
so a long holds them whole)."""
EXCEPTIONS = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
NO_ANSWER = "No SNMP response received before timeout"
"""pysnmp's words for it, so that a log reads the same whichever library sent the request."""


class _Session(SNMPSession):  # type: ignore[misc]
    """netsnmp-cffi's session, answering each request with the whole answer (Answer)."""

    def callback(self, reqid: int, pdu: Any) -> None:
        future = self._futures.pop(reqid, None)
        if future is None or future.done():
            # A request the walk gave up on (its deadline cancelled it): nobody waits for it.
            return
        try:
            future.set_result(_answer(pdu[0]))
        except Exception as error:  # the waiting request must hear of it, not hang
            future.set_exception(RequestFailed(f"answer could not be read: {error}"))

    def handle_timeout(self, reqid: int) -> None:
        # Net-SNMP calls this once the request's retries are spent.
        future = self._futures.pop(reqid, None)
        if future is not None and not future.done():
            future.set_exception(NoAnswer(NO_ANSWER))


class NetsnmpRequests:
    """One agent's requests through one Net-SNMP session (Requests in transport.py)."""

    def __init__(self, session: _Session) -> None:
        self.session = session

    @classmethod
    async def open(cls, agent: Agent) -> NetsnmpRequests:
        if agent.version not in ("1", "2c"):
            raise SnmpError(
                f"{agent.where}: transport netsnmp cannot send SNMPv{agent.version} "
                "(netsnmp-cffi has no USM): use transport pysnmp"
            )
        address = await _resolve(agent)
        session = _Session(
            address, agent.port, agent.community, agent.version, agent.timeout, agent.retries
        )
        try:
            session.open()
        except (OSError, SNMPError) as error:
            raise SnmpError(f"{agent.where}: cannot open a Net-SNMP session: {error}") from None
        return cls(session)

    async def get(self, oids: Sequence[Index]) -> Answer:
        return await self._request(SNMP_MSG_GET, oids)

    async def getnext(self, oids: Sequence[Index]) -> Answer:
        return await self._request(SNMP_MSG_GETNEXT, oids)

    async def getbulk(self, oids: Sequence[Index], max_repetitions: int) -> Answer:
        return await self._request(SNMP_MSG_GETBULK, oids, max_repetitions)

    async def aclose(self) -> None:
        """Close the session's socket. A walk cut by its deadline leaves a request that
        Net-SNMP would go on retrying: closing drops it."""
        self.session.close()

    async def _request(self, command: int, oids: Sequence[Index], repetitions: int = 0) -> Answer:
        pdu = make_request_pdu(command, *oids)
        if command == SNMP_MSG_GETBULK:
            # GETBULK's two header fields: non-repeaters (none) and max-repetitions.
            pdu.errstat, pdu.errindex = 0, repetitions
        try:
            future = self.session._send_async(pdu)
        except TimeoutError:
            raise NoAnswer(NO_ANSWER) from None
        except SNMPError as error:
            # snmp_send refused it (a closed session, a socket error): the PDU was freed.
            raise RequestFailed(f"request not sent: {error}") from None
        answer: Answer = await future
        return answer


def _answer(pdu: Any) -> Answer:
    varbinds = []
    var = pdu.variables
    while var:
        varbinds.append(_varbind(var))
        var = var.next_variable
    return Answer(int(pdu.errstat), int(pdu.errindex), varbinds)


def _varbind(var: Any) -> Varbind:
    """One of Net-SNMP's variable_list entries as a transport.Varbind: its type byte is the
    value's ASN.1 tag, as on the wire."""
    oid = tuple(_ffi.unpack(var.name, var.name_length))
    tag = int(var.type)
    value: Any
    if tag in NUMBERS:
        value = int(var.val.integer[0])
    elif tag == COUNTER64:
        counter = var.val.counter64
        value = (int(counter.high) << 32) | int(counter.low)
    elif tag in (OCTET_STRING, OPAQUE, NULL):
        # Bytes that are not UTF-8 (BITS, MAC addresses) stay bytes, as with pysnmp.
        raw = bytes(_ffi.buffer(var.val.string, var.val_len)) if var.val_len else b""
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw
    elif tag in EXCEPTIONS:
        value = None
    elif tag == OBJECT_IDENTIFIER:
        value = ".".join(map(str, _ffi.unpack(var.val.objid, var.val_len // _OID_SIZE)))
    elif tag == IP_ADDRESS:
        value = str(ipaddress.IPv4Address(bytes(_ffi.buffer(var.val.string, 4))))
    else:
        value = None  # a type the walk does not read (Net-SNMP's opaque floats ...)
    return oid, tag, value


async def _resolve(agent: Agent) -> str:
    """The agent's address: Net-SNMP would resolve a name itself, blocking the event loop
    (every other agent's poll) for as long as DNS takes."""
    try:
        ipaddress.ip_address(agent.host)
        return agent.host
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            agent.host, agent.port, type=socket.SOCK_DGRAM
        )
    except OSError as error:
        reason = error.strerror if error.strerror else str(error)
        raise SnmpError(f"{agent.name}: cannot resolve host {agent.host!r}: {reason}") from None
    return str(found[0][4][0])
