"""Net-SNMP's pass_persist protocol, serving NMSQUOTA-MIB (nmsquota.nms.mib) from a ledger.

snmpd starts the handler once and talks to it over its stdin and stdout, one request at a
time (snmpd.conf(5), "pass_persist"):

    PING                      -> PONG
    get / getnext, then OID   -> OID, TYPE, VALUE (three lines), or NONE
    set, then OID, TYPE VALUE -> not-writable (the MIB is read-only)

Every request gets exactly one answer, and a request's lines are read as that request's
whatever they hold: a malformed OID is answered NONE, never taken for the next command,
so the two sides never fall out of step. An unknown command line is answered NONE too.
End of input (snmpd stopping) ends the loop.

The snapshot is read again only when the ledger's commit point (state.json) changed: a
walk of thousands of rows asks once per object, and a snapshot of a large ledger takes
a good part of a second.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from nmsquota.config import Config
from nmsquota.ledger.commits import Identity, identity
from nmsquota.nms.mib import MibView, Oid, Value
from nmsquota.standings import LedgerCorrupt, LedgerMissing, LedgerRecordError, Reader

MAX_LINE = 1024
"""Longer than any OID of 128 sub-identifiers; a longer line is malformed, not a buffer."""
MAX_SUBIDS = 128
"""RFC 2578 3.5: an OID has at most 128 sub-identifiers, each at most 2^32-1."""
_OID = re.compile(r"\.?\d{1,10}(?:\.\d{1,10})*")
_MALFORMED = "\x00"
"""What an overlong line reads as: matches no command and no OID."""


UNMARKED_EVERY = 30
"""Seconds between reads of a database ledger whose commits no daemon on this host marks
(commits.mark): an NMS host's snmpd serving the MIB of a ledger the POPs' daemons write.
Well inside the daemon's interval, and a walk's requests mostly answered from one read."""


class Source(Protocol):
    def view(self) -> MibView | None:
        """The MIB as of the ledger's latest commit (None: no ledger read yet)."""
        ...


class LedgerSource:
    """A ledger's snapshots as MIB views, read again only when a commit changed it."""

    def __init__(self, directory: Path, config: Config | None,
                 location: Path | str | None = None,
                 now: Callable[[], float] | None = None) -> None:  # fmt: skip
        """`directory` is watched for commits; the ledger is read there, or at `location`
        (a database whose commits the daemon marks in `directory`; on a host with no daemon
        nothing marks them, and the database is read again every UNMARKED_EVERY seconds
        of `now`)."""
        self.directory = directory
        self.location = directory if location is None else location
        self.config = config
        self.now = now
        self._reader: Reader | None = None
        self._seen: Identity | tuple[str, int] | None = None
        self._view: MibView | None = None
        self.reads = 0
        """Snapshots taken (how tests see that an unchanged ledger is not read again)."""

    def view(self) -> MibView | None:
        signature: Identity | tuple[str, int] | None = identity(self.directory)
        if signature is None and not isinstance(self.location, Path) and self.now is not None:
            signature = ("unmarked", int(self.now() // UNMARKED_EVERY))
        if signature is None or signature == self._seen:
            return self._view
        # Taken as seen even if it fails to read: a broken ledger is tried again when it
        # changes, not on every request of a walk.
        self._seen = signature
        try:
            if self._reader is None:
                self._reader = Reader.open(self.location, self.config)
            else:
                self._reader.refresh()
            self._view = MibView.of(self._reader.snapshot())
            self.reads += 1
        except (LedgerMissing, LedgerCorrupt, LedgerRecordError, OSError) as error:
            # snmpd logs a pass_persist handler's stderr; the last good view stays served.
            print(f"nmsquota snmp-pass: {error}", file=sys.stderr, flush=True)
        return self._view


def parse_oid(line: str) -> Oid | None:
    """A numeric OID as snmpd writes it (".1.3.6..."); None if it is not one."""
    line = line.strip()
    if not _OID.fullmatch(line):
        return None
    oid = tuple(int(part) for part in line.lstrip(".").split("."))
    if len(oid) > MAX_SUBIDS or any(subid > 2**32 - 1 for subid in oid):
        return None
    return oid


def format_oid(oid: Oid) -> str:
    return "." + ".".join(map(str, oid))


def answer(oid: Oid, value: Value) -> str:
    return f"{format_oid(oid)}\n{value.type}\n{value.value}\n"


def read_line(stream: BinaryIO) -> str | None:
    """One line without its end (None: end of input). An overlong line is read to its end
    and comes back malformed, so that its rest is not read as the next line."""
    raw = stream.readline(MAX_LINE + 1)
    if not raw:
        return None
    if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
        while raw and not raw.endswith(b"\n"):
            raw = stream.readline(MAX_LINE + 1)
        return _MALFORMED
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


def respond(command: str, lines: BinaryIO, source: Source, now: Callable[[], float]) -> str | None:
    """The answer to one request whose first line is `command`, reading the rest of the
    request from `lines` (None: input ended inside the request)."""
    verb = command.strip()
    if verb == "PING":
        return "PONG\n"
    if verb == "set":
        # OID line, then "TYPE VALUE": both read, so that neither is taken for a command.
        if read_line(lines) is None or read_line(lines) is None:
            return None
        return "not-writable\n"
    if verb not in ("get", "getnext"):
        return "NONE\n"
    line = read_line(lines)
    if line is None:
        return None
    oid = parse_oid(line)
    view = source.view()
    if oid is None or view is None:
        return "NONE\n"
    if verb == "get":
        value = view.get(oid, now())
        return answer(oid, value) if value is not None else "NONE\n"
    found = view.next(oid, now())
    return answer(*found) if found is not None else "NONE\n"


def serve(lines: BinaryIO, out: BinaryIO, source: Source, now: Callable[[], float]) -> None:
    """Answer requests from `lines` on `out` until input ends."""
    while (command := read_line(lines)) is not None:
        reply = respond(command, lines, source, now)
        if reply is None:
            return
        out.write(reply.encode("utf-8"))
        out.flush()
