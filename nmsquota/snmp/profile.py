"""What to walk on an access server and what its columns mean, as data (issue 23).

A Profile is either a table of sessions, whose rows name their subscriber and carry their own
octet counters (accel-ppp's sessionTable; MikroTik's simple queues, whose names hold the user),
or IF-MIB's interfaces, optionally named by a table whose rows give the subscriber and session
on an interface: indexed by its ifIndex (Cisco's csubSessionTable) or naming it in a column
(Juniper's jnxSubscriberTable). The poller and probe choose by the profile's kind and roles,
never by a vendor's name. Pure: the files they are written in are read by snmp/profiles.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["sessions", "interfaces"]
IndexForm = Literal["string", "implied-string", "integer"]
"""How a session row's index spells its session id when no column does: an OCTET STRING
with its length first (an INDEX without IMPLIED), one without it (IMPLIED), or an integer."""
UptimeUnit = Literal["seconds", "centiseconds"]
SessionIdFormat = Literal["text", "hex8"]
"""How a names table's session id is shown: as read, or an integer as 8 hex digits (the way
RADIUS accounting spells Cisco's Acct-Session-Id)."""
InterfaceMatch = Literal["ifIndex", "ifName", "ifDescr"]
"""What a names table's interface column holds: the interface's ifIndex, or its name as
IF-MIB's ifName or ifDescr spells it."""


@dataclass(frozen=True)
class SessionTable:
    """A table with one row per session: its columns (full OIDs) by role.

    octets_in is what the access server received from the subscriber (upload), octets_out
    what it sent them (download): IF-MIB's in and out on a subscriber's own interface."""

    entry: str
    subscriber: str
    octets_in: str
    octets_out: str
    index: IndexForm = "string"
    subscriber_pattern: str | None = None
    """A regular expression whose (?P<user>...) group is the user in the subscriber column
    (MikroTik names a PPPoE session's queue `<pppoe-USER>`); a row it does not match is
    nobody's (a queue of the operator's own)."""
    session_id: str | None = None
    interface: str | None = None
    address: str | None = None
    address_ignore: tuple[str, ...] = ("0.0.0.0",)
    state: str | None = None
    state_active: int | None = None
    uptime: str | None = None
    uptime_unit: UptimeUnit = "seconds"
    counter_bits: int = 64
    counter_names: dict[str, str] = field(default_factory=dict, compare=False)
    """Column -> its MIB name, for the walk's warning about a counter that is not one."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns to walk, in a fixed order (that of the roles)."""
        roles = (self.session_id, self.interface, self.subscriber, self.address,
                 self.state, self.uptime, self.octets_in, self.octets_out)  # fmt: skip
        return tuple(dict.fromkeys(c for c in roles if c is not None))


@dataclass(frozen=True)
class NameTable:
    """A table whose rows name the subscriber (and session) on an interface: the one at the
    row's ifIndex, or the one its `interface` column names. `available` is a BITS column
    saying which names hold (bit 0 is the most significant bit of the first octet), as
    CISCO-SUBSCRIBER-IDENTITY-TC-MIB does."""

    entry: str
    subscriber: str
    available: str | None = None
    subscriber_bit: int | None = None
    session_id: str | None = None
    session_id_bit: int | None = None
    session_id_format: SessionIdFormat = "text"
    interface: str | None = None
    """A column naming the row's interface, for a table not indexed by ifIndex (Juniper's,
    indexed by a subscriber handle): its value is matched against `interface_match`."""
    interface_match: InterfaceMatch = "ifIndex"
    address: str | None = None
    address_ignore: tuple[str, ...] = ("0.0.0.0",)
    state: str | None = None
    state_active: int | None = None
    """A row whose state column holds another value names nothing: a subscriber logging off
    may keep a row naming the interface that the next one logs in on."""

    @property
    def columns(self) -> tuple[str, ...]:
        roles = (self.available, self.subscriber, self.session_id, self.interface, self.address,
                 self.state)  # fmt: skip
        return tuple(c for c in roles if c is not None)


@dataclass(frozen=True)
class Profile:
    """One way of reading an access server, by name (the `source` that selects it)."""

    name: str
    kind: Kind
    sessions: SessionTable | None = None
    names: NameTable | None = None
    origin: str = field(default="", compare=False)
    """The file it was read from (for messages)."""

    @property
    def name_columns(self) -> tuple[str, ...]:
        """The names table's columns, walked with the interfaces and watched each cycle."""
        return self.names.columns if self.names is not None else ()
