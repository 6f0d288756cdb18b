"""The transport seam: what the poller asks of an SNMP library, and what it gets back.

The cut is at the request level (one GET, GETNEXT or GETBULK and its answer), not at the
walk: how a walk copes with real agents (walk.py: a GETBULK refused or unanswered asked
again with fewer repetitions, then as GETNEXT; an OID that does not increase; v1's
noSuchName; a column resumed after an OID; the rows kept when a walk is cut; the deadline)
decides what the next request is, and must not change with the library that sends it. So
that logic is written once, over `Requests`, which each library implements with no more
than it takes to send a request and read the answer (pysnmp_transport.py). The poller
talks to a `Transport`: walk.Walker over any Requests, or local.LocalTransport, which reads
the simulator's table in-process with no request at all.

Knows no SNMP library: values cross the seam as plain Python with their ASN.1 tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from nmsquota.errors import NmsquotaError
from nmsquota.snmp.quirks import Learned

Index = tuple[int, ...]
Column = dict[Index, Any]

# The ASN.1 tags (class | form | number) of the values the walk tells apart (RFC 3416).
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42  # Unsigned32 too: they share the tag
TIME_TICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

Varbind = tuple[Index, int, Any]
"""One object in an answer: its OID, its value's ASN.1 tag, and the value as plain Python
(int, str, bytes for octets that are not UTF-8, a dotted str for an OID or IpAddress, None
for the three exceptions noSuchObject, noSuchInstance and endOfMibView)."""

# RFC 3416 error-status values, by the names the agent's errors are reported with.
ERROR_STATUS = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
    "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
    "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
    "authorizationError", "notWritable", "inconsistentName",
)  # fmt: skip
TOO_BIG = 1
NO_SUCH_NAME = 2


def status_name(status: int) -> str:
    """An error-status as its RFC 3416 name ("tooBig"), or its number if it has none."""
    return ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else str(status)


Cause = Literal["timeout", "deadline", "error"]
"""Why an agent could not be read: it left a request unanswered through every retry
(timeout); the walk or read did not finish within the agent's deadline (deadline); it
answered wrongly, or could not be reached at all (error)."""


class SnmpError(NmsquotaError):
    """An access server that could not be read; says which and why.

    `cause` is set where the failure is seen, so that a cycle counts it (and backoff judges
    it) by what happened, never by reading its message back."""

    def __init__(self, message: str, cause: Cause = "error") -> None:
        super().__init__(message)
        self.cause: Cause = cause

    @property
    def rows_read(self) -> int:
        """Rows the failed try read before it failed (none, unless it was a walk cut)."""
        return 0


class WalkCut(SnmpError):
    """A walk that failed part-way, with what it read before it failed."""

    def __init__(
        self,
        message: str,
        rows: dict[str, Column],
        finished: frozenset[str],
        cause: Cause = "error",
    ) -> None:
        super().__init__(message, cause)
        self.rows = rows
        """Each column's rows read before the failure (complete rows: an index is there
        only with its value)."""
        self.finished = finished
        """The columns read to their end."""

    @property
    def rows_read(self) -> int:
        return sum(len(column) for column in self.rows.values())


class LocalTable(Protocol):
    """An agent's objects in this process: the simulator's bypass of the SNMP hop, which
    walks and reads them with everything above this module unchanged but no message
    encoded, no socket crossed."""

    def lookup(self, oid: Index) -> Any | None: ...

    def following(self, oid: Index) -> tuple[Index, Any] | None:
        """The first object after `oid`, or None at the end of the MIB."""
        ...


@dataclass(frozen=True)
class Agent:
    """Where and how to reach one access server's SNMP agent."""

    name: str
    host: str
    port: int = 161
    version: str = "2c"
    community: str = "public"
    timeout: float = 2.0
    retries: int = 1
    deadline: float = 30.0
    """The longest a whole walk of this agent may take, retries included."""
    user: str = ""
    auth_protocol: str = "none"
    auth_key: str | None = None
    priv_protocol: str = "none"
    priv_key: str | None = None
    local: LocalTable | None = field(default=None, compare=False, repr=False)
    """Read this table instead of sending SNMP (the simulator's `--no-snmp`)."""
    max_repetitions: int = 25
    """Rows asked for per GETBULK at most (snmp_exporter's default; Net-SNMP's is 10)."""
    bulk: bool = True
    """False: walk with GETNEXT although the version has GETBULK (an agent whose GETBULK is
    broken in a way that does not show as an error)."""
    learned: Learned = field(default_factory=Learned, compare=False, repr=False)
    """This agent's quirks found by earlier walks (GETBULK refused, fewer repetitions)."""
    transport: str = "pysnmp"
    """The library that sends its requests, by name (connect.TRANSPORTS)."""

    @property
    def where(self) -> str:
        """How errors name this agent: "bras1 (192.0.2.1:161)"."""
        return f"{self.name} ({self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class Answer:
    """An agent's answer to one request, as it came: an error-status other than 0 is the
    agent refusing it (with the 1-based varbind it blames in `index`), not an exception,
    because the walk answers some of them (tooBig, v1's noSuchName) with another request.
    An answer with no varbinds at all is one too (the walk decides what it means)."""

    status: int
    index: int
    varbinds: Sequence[Varbind]


class NoAnswer(Exception):
    """The agent answered none of the request's tries (its timeout and retries spent); the
    message says so in the library's words."""


class RequestFailed(Exception):
    """A request that could not be made or whose answer could not be read (credentials the
    agent refuses, a USM error, a message that does not decode); the message names why."""


class Requests(Protocol):
    """One agent's requests, sent by one SNMP library: the agent's timeout, retries and
    credentials are set when it is opened. Each request raises NoAnswer or RequestFailed,
    or returns the agent's Answer, whatever it says."""

    async def get(self, oids: Sequence[Index]) -> Answer: ...

    async def getnext(self, oids: Sequence[Index]) -> Answer: ...

    async def getbulk(self, oids: Sequence[Index], max_repetitions: int) -> Answer:
        """GETBULK with no non-repeaters: `max_repetitions` rows after each of `oids`."""
        ...

    async def aclose(self) -> None: ...


class Transport(Protocol):
    """What the poller calls to read one agent, for one poll. Failures raise SnmpError
    (WalkCut from a walk, with the rows it read). `async with` closes it."""

    @property
    def agent(self) -> Agent: ...

    async def get(self, oids: Sequence[str]) -> dict[str, Any]:
        """Scalar values (e.g. sysUpTime.0); None where the agent has no such object."""
        ...

    async def walk(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        *,
        counters: Mapping[str, str] | None = None,
        start: Mapping[str, Index] | None = None,
    ) -> dict[str, Column]:
        """Every row of each column (numeric OIDs), keyed by the index after the column's
        OID. `max_repetitions` asks for fewer rows than the agent's setting allows;
        `counters` names the columns whose values must be counters (column -> its name in
        warnings); `start` walks a column from after this OID, not from its first row."""
        ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Transport: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Closing:
    """`async with` for a transport: the transport itself on the way in, its aclose() on the
    way out (Walker and LocalTransport share it)."""

    async def aclose(self) -> None:
        pass

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class Opener(Protocol):
    """Opens the transport that reads an agent (connect.Transports); the poll cycle is
    given one, so that it knows no library."""

    async def open(self, agent: Agent) -> Transport:
        """Raises SnmpError for an agent that cannot be reached at all (a host that does
        not resolve)."""
        ...


def parse_oid(text: str) -> Index:
    """An OID as text ("1.3.6.1.2.1.2.2.1.10", a leading dot or not) as a tuple of ints."""
    return tuple(int(part) for part in text.strip(".").split("."))
