"""Serving the limit protocol: a TCP listener (asyncio), or one connection on stdin/stdout
under inetd, as the paper ran it.

Lines longer than MAX_LINE end the connection with an error, and so does an idle client.
Driver calls run one at a time (the drivers are not made for concurrent use) in a worker
thread, so a slow backend does not stop the listener from greeting new clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import BinaryIO

from nmsquota.limitd.protocol import MAX_LINE, Connection

log = logging.getLogger("nmsquota.limitd")
IDLE_TIMEOUT = 120.0


async def serve(
    host: str, port: int, connection: Callable[[], Connection], idle: float = IDLE_TIMEOUT
) -> asyncio.Server:
    """Start listening; each client gets a fresh Connection from `connection()`."""
    lock = asyncio.Lock()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        session = connection()
        try:
            await _converse(reader, writer, session, lock, idle, peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(client, host, port, limit=MAX_LINE + 2)


async def _converse(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    session: Connection,
    lock: asyncio.Lock,
    idle: float,
    peer: object,
) -> None:
    writer.write((session.greeting() + "\r\n").encode())
    await writer.drain()
    while True:
        try:
            raw = await asyncio.wait_for(reader.readline(), idle)
        except TimeoutError:
            writer.write(b"421 idle too long; bye\r\n")
            return
        except ValueError:  # longer than the stream limit
            writer.write(f"500 line longer than {MAX_LINE} bytes; bye\r\n".encode())
            return
        if not raw:
            return
        if len(raw) > MAX_LINE:
            writer.write(f"500 line longer than {MAX_LINE} bytes; bye\r\n".encode())
            return
        line = raw.decode("utf-8", errors="replace").strip()
        async with lock:
            reply = await asyncio.to_thread(session.handle, line)
        if reply.delay:
            log.warning("limitd: failed login from %s", peer)
            await asyncio.sleep(reply.delay)
        writer.write("".join(f"{text}\r\n" for text in reply.lines).encode())
        await writer.drain()
        if reply.close:
            return


def serve_inetd(session: Connection, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """One connection on stdin/stdout (inetd's `nowait` service)."""
    stdout.write((session.greeting() + "\r\n").encode())
    stdout.flush()
    while True:
        raw = stdin.readline(MAX_LINE + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE:
            stdout.write(f"500 line longer than {MAX_LINE} bytes; bye\r\n".encode())
            stdout.flush()
            return
        reply = session.handle(raw.decode("utf-8", errors="replace").strip())
        if reply.delay:
            time.sleep(reply.delay)
        stdout.write("".join(f"{text}\r\n" for text in reply.lines).encode())
        stdout.flush()
        if reply.close:
            return


def stdio() -> tuple[BinaryIO, BinaryIO]:
    return sys.stdin.buffer, sys.stdout.buffer
