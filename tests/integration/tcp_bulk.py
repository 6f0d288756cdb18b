"""Bounded bulk TCP for measuring what a limit lets through (run inside a namespace).

    tcp_bulk.py recv ADDRESS PORT SECONDS SKIP   # accept one connection, print goodput
    tcp_bulk.py send ADDRESS PORT SECONDS        # send as fast as possible, then close

The receiver prints one JSON line: bytes received after the first SKIP seconds (so a
policer's initial burst is left out) divided by the time measured after them.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def receive(address: str, port: int, seconds: float, skip: float) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(1)
        print("ready", flush=True)
        listener.settimeout(30)
        connection, _ = listener.accept()
    connection.settimeout(1.0)
    started = time.monotonic()
    total = counted = 0
    with connection:
        while (now := time.monotonic()) - started < seconds:
            try:
                data = connection.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            total += len(data)
            if now - started >= skip:
                counted += len(data)
    elapsed = max(time.monotonic() - started - skip, 1e-9)
    print(json.dumps({"bytes": total, "rate": counted / elapsed}), flush=True)


def send(address: str, port: int, seconds: float) -> None:
    chunk = b"x" * 65536
    with socket.create_connection((address, port), timeout=10) as connection:
        connection.settimeout(2.0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                connection.send(chunk)
            except TimeoutError:
                continue
            except OSError:
                break


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        receive(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
