"""Requests (transport.py) sent by pysnmp 7's asyncio API: the design card's library, and the
reference the other transports are held to.

Each request goes through pysnmp's command generator itself, under the hlapi's bulk_cmd,
next_cmd and get_cmd: those resolve every requested OID against the MIB tree first, even
with lookupMib=False, which cost ~11% of a walk's CPU for labels nobody reads. The answer's
values are made plain Python here, with their tags, so nothing above knows pysnmp's types.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from typing import Any

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_AUTH_NONE,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES,
    USM_PRIV_CFB256_AES,
    USM_PRIV_NONE,
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905

from nmsquota.snmp.transport import (
    Agent,
    Answer,
    Index,
    NoAnswer,
    RequestFailed,
    SnmpError,
    Varbind,
)

AUTH_PROTOCOLS = {
    "none": USM_AUTH_NONE,
    "md5": USM_AUTH_HMAC96_MD5,
    "sha": USM_AUTH_HMAC96_SHA,
    "sha224": USM_AUTH_HMAC128_SHA224,
    "sha256": USM_AUTH_HMAC192_SHA256,
    "sha384": USM_AUTH_HMAC256_SHA384,
    "sha512": USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "none": USM_PRIV_NONE,
    "des": USM_PRIV_CBC56_DES,  # old gear only
    "aes": USM_PRIV_CFB128_AES,
    "aes192": USM_PRIV_CFB192_AES,
    "aes256": USM_PRIV_CFB256_AES,
}


def new_engine() -> Any:
    """An SnmpEngine, created in the running event loop and shared by everything in it
    (FIELD-NOTES: an engine from one loop does not work in another)."""
    return SnmpEngine()


class PysnmpRequests:
    """One agent's requests through a pysnmp engine (Requests in transport.py)."""

    def __init__(
        self, engine: SnmpEngine, target: UdpTransportTarget, auth: CommunityData | UsmUserData
    ) -> None:
        self.engine = engine
        self.target = target
        self.auth = auth

    @classmethod
    async def open(cls, engine: SnmpEngine, agent: Agent) -> PysnmpRequests:
        try:
            target = await UdpTransportTarget.create(
                (agent.host, agent.port), timeout=agent.timeout, retries=agent.retries
            )
        except PySnmpError as error:
            # The resolver's failure (a name that does not resolve, DNS down): this device
            # fails this cycle like one that does not answer, the others are still polled.
            raise SnmpError(
                f"{agent.name}: cannot resolve host {agent.host!r}: {_resolver_reason(error)}"
            ) from None
        if agent.version == "3":
            return cls(engine, target, _usm(agent))
        model = 0 if agent.version == "1" else 1
        return cls(engine, target, CommunityData(agent.community, mpModel=model))

    async def get(self, oids: Sequence[Index]) -> Answer:
        return await self._request(cmdgen.GetCommandGenerator(), oids)

    async def getnext(self, oids: Sequence[Index]) -> Answer:
        return await self._request(cmdgen.NextCommandGenerator(), oids)

    async def getbulk(self, oids: Sequence[Index], max_repetitions: int) -> Answer:
        return await self._request(cmdgen.BulkCommandGenerator(), oids, 0, max_repetitions)

    async def aclose(self) -> None:
        """Nothing to close: the engine's one socket serves every agent in the loop."""

    async def _request(self, generator: Any, oids: Sequence[Index], *bulk: int) -> Answer:
        """One request; `bulk` is GETBULK's non-repeaters and max-repetitions. The generator
        takes plain OIDs and answers with (ObjectName, value) pairs."""
        target, _ = LCD.configure(self.engine, self.auth, self.target, b"")
        answer: asyncio.Future[tuple[Any, Any, Any, Sequence[Any]]]
        answer = asyncio.get_running_loop().create_future()

        def done(
            engine: Any, handle: Any, error: Any, status: Any, index: Any, table: Any, context: Any
        ) -> None:
            # Returning None tells the generator not to walk on by itself.
            if not answer.done():
                answer.set_result((error, status, index, table))

        generator.send_varbinds(
            self.engine, target, None, b"", *bulk, [(oid, None) for oid in oids], done, None
        )
        error, status, index, table = await answer
        if isinstance(error, errind.RequestTimedOut):
            raise NoAnswer(str(error))
        if isinstance(error, errind.EmptyResponse):
            # An answer with no varbinds (the generator reports it as an error).
            return Answer(0, 0, ())
        if error:
            raise RequestFailed(str(error))
        return Answer(int(status), int(index), [varbind(vb[0], vb[1]) for vb in table])


def varbind(name: Any, value: Any) -> Varbind:
    """A pysnmp (name, value) pair as a transport.Varbind."""
    return tuple(name), tag_of(value), plain(value)


def tag_of(value: Any) -> int:
    """A pysnmp value's ASN.1 tag as one number (class | form | number): 0x46 for Counter64."""
    if value is None:
        return 0x05  # a Null
    tag = value.tagSet[0]
    return int(tag.tagClass | tag.tagFormat | tag.tagId)


def plain(value: Any) -> Any:
    """A pysnmp value as plain Python: int, str, bytes, or None for the "no such" exceptions."""
    if value is None:
        return None
    if isinstance(value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return str(ipaddress.IPv4Address(bytes(value)))
    if isinstance(value, rfc1902.OctetString):
        # Bytes that are not UTF-8 (BITS, MAC addresses) stay bytes, for the caller to read.
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value)
    if isinstance(value, rfc1902.ObjectIdentifier):
        return str(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _resolver_reason(error: PySnmpError) -> str:
    # pysnmp's text repeats the address and the exception class; the cause says it plainly.
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(error)


def _usm(agent: Agent) -> UsmUserData:
    return UsmUserData(
        agent.user,
        authKey=agent.auth_key,
        privKey=agent.priv_key,
        authProtocol=AUTH_PROTOCOLS[agent.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[agent.priv_protocol],
    )
