"""The daemon's side of the control socket: listen, check each line, hand it on, reply.

What a client can and cannot do to the daemon:

- Every line gets one reply line. A line that is not UTF-8, not JSON, not a JSON object or
  not a valid request (nmsquota.control.protocol) gets {"ok": false, "error": ...} and
  reaches no handler. A handler that raises gets its client an error reply, and is logged;
  the daemon goes on.
- A line over 64 KiB gets an error reply and the connection is closed: what follows it on
  that connection is the rest of an oversized line, not a request to be trusted, and a
  client that sends one is broken or hostile. Other connections are not affected.
- The handler is told who sent each request (`Peer`: pid, uid and gid as the kernel gives
  them, SO_PEERCRED), so that what a request changes can name its author; a client cannot
  claim to be someone else.
- Clients are served concurrently. One that says nothing for `idle_timeout` seconds (or
  takes longer than that to send a line or read a reply) is disconnected, and at most
  `max_clients` are connected at once (the next one is told "busy" and closed), so silent
  clients can neither hold anyone up nor use up the daemon's file descriptors.

Where it listens: the socket is created 0660, in the group given (`[control] group`), and
only in a directory that the daemon's own user owns and that group and others cannot write
(`check_directory`): anyone who can write there could replace the socket with their own and
collect the operator's requests. It does not create a private directory of its own, so that
the socket stays where ip-up hooks and scripts expect it, `DATA_DIR/control.sock`; a
directory that fails the check is an error with the command that fixes it.

A socket left by a crashed daemon is replaced; one with a live daemon behind it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from nmsquota.control.peer import Peer, peer_of, user_name
from nmsquota.control.protocol import (
    MAX_LINE,
    Request,
    RequestError,
    decode_request,
    encode_response,
    refusal,
)
from nmsquota.errors import NmsquotaError

log = logging.getLogger("nmsquota.control")

Handler = Callable[[Request, Peer | None], Awaitable[Mapping[str, Any]]]
"""handle(request, peer): the reply to a valid request, and who sent it (None where the
system cannot say)."""
IDLE_TIMEOUT = 30.0
MAX_CLIENTS = 64
SOCKET_MODE = 0o660


class ControlSocketError(NmsquotaError):
    """The control socket cannot be opened safely; the daemon does not start."""


async def serve(
    path: Path,
    handle: Handler,
    *,
    group: str | None = None,
    idle_timeout: float = IDLE_TIMEOUT,
    max_clients: int = MAX_CLIENTS,
) -> asyncio.Server:
    """Listen on `path`, passing each valid request to `handle`. The caller closes the
    server and removes the socket when it stops."""
    check_directory(path.parent)
    gid = _gid(group) if group is not None else None
    _clear_stale(path)
    clients = _Clients(handle, idle_timeout, max_clients)
    try:
        # Created 0660 already, not chmod-ed after: between bind and chmod, a socket made
        # under a loose umask could be connected to by anyone.
        with _umask(0o777 & ~SOCKET_MODE):
            server = await asyncio.start_unix_server(clients.serve, path=str(path),
                                                     limit=MAX_LINE)  # fmt: skip
    except OSError as error:
        raise ControlSocketError(f"cannot listen on {path}: {error.strerror or error}") from None
    try:
        os.chmod(path, SOCKET_MODE)
        if gid is not None:
            os.chown(path, -1, gid)
    except OSError as error:
        server.close()
        path.unlink(missing_ok=True)
        raise ControlSocketError(
            f"cannot give {path} to group {group!r}: {error.strerror} (the daemon's user must "
            "be root or a member of that group)"
        ) from None
    return server


def check_directory(directory: Path) -> None:
    """The socket's directory must be the daemon's own: owned by its user, and not
    writable by group or others. Raises ControlSocketError saying how to fix it."""
    try:
        info = os.stat(directory)
    except OSError as error:
        raise ControlSocketError(f"control socket directory {directory}: {error.strerror}"
                                 ) from None  # fmt: skip
    if not stat.S_ISDIR(info.st_mode):
        raise ControlSocketError(f"control socket directory {directory} is not a directory")
    me = user_name(os.geteuid())
    if info.st_uid != os.geteuid():
        raise ControlSocketError(
            f"{directory} is owned by {user_name(info.st_uid)}, not by {me} who runs the "
            f"daemon: another user could replace its control socket (run: chown {me} "
            f"{directory})"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ControlSocketError(
            f"{directory} is writable by group or others ({stat.filemode(info.st_mode)}): "
            f"they could replace its control socket (run: chmod go-w {directory})"
        )


def _gid(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ControlSocketError(f"[control] group: no group named {group!r}") from None


def _clear_stale(path: Path) -> None:
    """Remove a socket that no daemon listens on; refuse to take one that a daemon does."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlSocketError(f"{path} exists and is not a socket: remove it if it is not "
                                 "needed")  # fmt: skip
    if _answers(path):
        raise ControlSocketError(f"a daemon is already listening on {path}")
    log.info("replacing the stale control socket %s", path)
    path.unlink(missing_ok=True)


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except TimeoutError:
            return True  # listening, with a full backlog: alive, and busy
        return True


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


class _Clients:
    """The connections, each served in its own task by asyncio."""

    def __init__(self, handle: Handler, idle_timeout: float, max_clients: int) -> None:
        self.handle = handle
        self.idle_timeout = idle_timeout
        self.max_clients = max_clients
        self.connected = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected += 1
        try:
            if self.connected > self.max_clients:
                await self._reply(writer, refusal(f"busy: {self.max_clients} clients are "
                                                  "connected; try again"))  # fmt: skip
                return
            await self._converse(reader, writer, peer_of(writer.get_extra_info("socket")))
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stopped reading: its loss only
        except asyncio.CancelledError:
            # The daemon is stopping. Not re-raised: this task is the connection's own, and
            # asyncio's streams (3.11) log a cancelled connection task as an error.
            pass
        finally:
            self.connected -= 1
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        peer: Peer | None) -> None:  # fmt: skip
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), self.idle_timeout)
            except ValueError:  # the StreamReader's limit: a line over MAX_LINE
                await self._reply(writer, refusal(f"request line over {MAX_LINE} bytes; "
                                                  "closing the connection"))  # fmt: skip
                return
            if not line:
                return
            await self._reply(writer, await self._answer(line, peer))

    async def _answer(self, line: bytes, peer: Peer | None) -> Mapping[str, Any]:
        try:
            request = decode_request(line)
        except RequestError as error:
            return refusal(str(error))
        try:
            reply = await self.handle(request, peer)
        except NmsquotaError as error:  # what the request asked is not possible: say why
            return refusal(str(error))
        except Exception as error:  # a bug must cost this request, not the daemon
            log.exception("control request %s failed", request.op)
            return refusal(f"internal error, logged by the daemon: {type(error).__name__}: "
                           f"{error}")  # fmt: skip
        if not isinstance(reply, Mapping) or not isinstance(reply.get("ok"), bool):
            log.error("control request %s: the handler replied %r, not a reply", request.op,
                      reply)  # fmt: skip
            return refusal("internal error, logged by the daemon: no reply")
        return reply

    async def _reply(self, writer: asyncio.StreamWriter, reply: Mapping[str, Any]) -> None:
        try:
            data = encode_response(reply)
        except (TypeError, ValueError) as error:
            log.error("control reply not encodable: %s", error)
            data = encode_response(refusal("internal error: the reply could not be encoded"))
        writer.write(data)
        await asyncio.wait_for(writer.drain(), self.idle_timeout)
