"""The daemon's `[metrics] listen` endpoint: what `nmsquota metrics` prints, served over
HTTP for Prometheus to scrape.

It reads the ledger through the read API, like the command, in a thread of its own (the
stdlib's threading HTTP server): a scrape never waits for a cycle and a cycle never waits
for a scrape. The snapshot is built once per commit of the ledger (once per cycle) and
kept; each scrape only renders it with the time now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from nmsquota.clock import Clock
from nmsquota.config import Config
from nmsquota.config.settings import host_and_port
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.nms.metrics import OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, exposition
from nmsquota.standings import Reader, Snapshot


class SnapshotCache:
    """The ledger's latest snapshot, rebuilt only when the writer has committed since."""

    def __init__(self, directory: Path | str, config: Callable[[], Config | None]) -> None:
        self.directory = directory
        self.config = config
        self._reader: Reader | None = None
        self._kept: tuple[int | None, Config | None, Snapshot] | None = None
        self._lock = threading.Lock()
        self.builds = 0
        """Snapshots built so far (how the cache is seen to work)."""

    def snapshot(self) -> Snapshot:
        with self._lock:
            config = self.config()
            if self._reader is None:
                self._reader = Reader.open(self.directory, config)
            else:
                self._reader.refresh()
            self._reader.config = config
            as_of = self._reader.as_of
            if self._kept is None or self._kept[:2] != (as_of, config):
                self._kept = (as_of, config, self._reader.snapshot())
                self.builds += 1
            return self._kept[2]


class MetricsListener:
    """An HTTP server on `host:port` answering GET /metrics (and /) in its own thread."""

    def __init__(self, host: str, port: int, cache: SnapshotCache, clock: Clock) -> None:
        self.cache = cache
        self.clock = clock
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name="nmsquota-metrics", daemon=True)  # fmt: skip

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> MetricsListener:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def page(self, openmetrics: bool) -> tuple[int, str, str]:
        """(status, content type, body) for one scrape."""
        try:
            snap = self.cache.snapshot()
        except (NmsquotaError, OSError) as error:
            # Prometheus marks the target down (up == 0) and keeps the reason.
            return 503, "text/plain; charset=utf-8", f"nmsquota: {error}\n"
        kind = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
        return 200, kind, exposition(snap, self.clock.now(), openmetrics=openmetrics)


def _handler_for(listener: MetricsListener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self._send(404, "text/plain; charset=utf-8", "not found: try /metrics\n")
                return
            openmetrics = "application/openmetrics-text" in self.headers.get("Accept", "")
            self._send(*listener.page(openmetrics))

        def _send(self, status: int, kind: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a scrape every 15 s is not news for the daemon's log

    return Handler


def listen(address: str, directory: Path | str, config: Callable[[], Config | None],
           clock: Clock) -> MetricsListener:  # fmt: skip
    """A listener on `address` ("HOST:PORT", as `[metrics] listen` gives it), serving. A
    port already taken, or an address not on this machine, is a UsageError naming it."""
    host, port = host_and_port(address)
    try:
        listener = MetricsListener(host, port, SnapshotCache(directory, config), clock)
    except OSError as error:
        raise UsageError(f"[metrics] listen = {address!r}: cannot listen there: "
                         f"{error.strerror or error}") from None  # fmt: skip
    return listener.start()
