"""The daemon's control socket: session events from ip-up/ip-down, and operator commands.

A UNIX socket (mode 0660) in the data directory. One request per line, one JSON reply line:

    up IFACE LOGIN ADDRESS        a session started (pppd's ip-up: $1, $PEERNAME, $5)
    down IFACE LOGIN ADDRESS      it ended
    limit|exempt SUBSCRIBER [for=DURATION] REASON...
    topup SUBSCRIBER SIZE [for=DURATION] REASON...
    release SUBSCRIBER            drop its force overrides
    ping

The paper's ip-up wrote the unit, the login and the address to byteshare's named socket;
`up`/`down` are that, so an ip-up script can be a one-line `echo ... | socat - UNIX:...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"
MAX_LINE = 4096

Handler = Callable[[list[str]], Awaitable[dict[str, Any]]]


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


async def serve(path: Path, handle: Handler) -> asyncio.Server:
    """Listen on `path` (a stale socket from a crashed daemon is replaced)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while raw := await reader.readline():
                words = raw.decode("utf-8", errors="replace").split()
                if not words:
                    continue
                try:
                    reply = await handle(words)
                except Exception as error:  # one bad request must not stop the daemon
                    reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
                writer.write((json.dumps(reply) + "\n").encode())
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(client, path=str(path), limit=MAX_LINE)
    os.chmod(path, 0o660)
    return server


def request(path: Path, line: str, timeout: float = 30.0) -> dict[str, Any] | None:
    """Send one request to a running daemon; None when no daemon listens there."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    reply: dict[str, Any] = json.loads(data) if data.strip() else {"ok": False, "error": "no reply"}
    return reply
