"""Who is at the other end of a control connection, as the kernel says (SO_PEERCRED), not as
the client claims: the daemon records it as the author of what the request changed."""

from __future__ import annotations

import pwd
import socket
import struct
from dataclasses import dataclass
from typing import Any

_UCRED = struct.Struct("=iII")
"""Linux's struct ucred: pid_t pid, uid_t uid, gid_t gid (uid and gid unsigned)."""


@dataclass(frozen=True, slots=True)
class Peer:
    """The process that connected: its credentials when it called connect()."""

    pid: int
    uid: int
    gid: int

    @property
    def user(self) -> str:
        """The user's name, or the uid as text when it has none."""
        return user_name(self.uid)


def user_name(uid: int) -> str:
    """The name of `uid` in the password database, or the uid as text when it has none (a
    container's user, a deleted account): never an error, since it only labels."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def peer_of(sock: Any) -> Peer | None:
    """The credentials of the process at the other end of the UNIX socket `sock` (a socket,
    or asyncio's TransportSocket); None where the system does not say (SO_PEERCRED is
    Linux's) or the socket is not a UNIX one."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or sock is None:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    except OSError:
        return None
    pid, uid, gid = _UCRED.unpack(raw)
    return Peer(pid=pid, uid=uid, gid=gid)
