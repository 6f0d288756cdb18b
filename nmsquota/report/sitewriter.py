"""The daemon's writer of the site (`[report] site = DIR`): a thread that, after each
commit, brings the site up to it through the read API, as nmsquota.nms.summarise's
SummaryWriter does for the NMS summary. Only the pages whose data changed are written
(nmsquota.report.site), so a cycle in which few subscribers moved costs little."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from nmsquota.config import Config
from nmsquota.errors import NmsquotaError
from nmsquota.ledger.ledger import STATE_NAME
from nmsquota.report.site import SiteWritten, write_site
from nmsquota.report.siteconfig import site_dir, site_secret
from nmsquota.standings import Reader

log = logging.getLogger(__name__)

Identity = tuple[int, int, int]


def identity(path: Path) -> Identity | None:
    """(inode, size, mtime in ns): a commit replaces state.json by rename, so each one
    changes it. None when it is not there."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


class SiteWriter:
    """Looks at the ledger's state.json every `every` seconds and, when a commit replaced
    it, writes the site with the configuration `config()` gives (the one SIGHUP loaded:
    a new secret or directory takes effect at the next commit). A failure is logged once
    per kind and tried again at the next commit."""

    def __init__(self, ledger: Path, config: Callable[[], Config | None],
                 every: float = 1.0) -> None:  # fmt: skip
        self.ledger = ledger
        self.config = config
        self.every = every
        self.written = 0
        """Times the site was brought up to a commit (the tests wait on it)."""
        self.last: SiteWritten | None = None
        self._stop = threading.Event()
        self._done: Identity | None = None
        self._failing: str | None = None
        self._thread = threading.Thread(target=self._run, name="nmsquota-site", daemon=True)

    def start(self) -> SiteWriter:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop, after writing the site of the last commit."""
        self._stop.set()
        self._thread.join(timeout=120)
        if not self._thread.is_alive():
            self.once()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.once()
            self._stop.wait(self.every)

    def once(self) -> bool:
        """Write the site if a commit replaced state.json since the last time. True if
        it did."""
        state = identity(self.ledger / STATE_NAME)
        if state is None or state == self._done:
            return False
        started = time.perf_counter()
        try:
            config = self.config()
            directory = site_dir(config)
            secret = site_secret(config)
            zone = ZoneInfo(config.settings.timezone if config is not None else "UTC")
            done = write_site(directory, Reader.open(self.ledger, config), secret, zone)
        except Exception as error:  # a report's bug must not stop the daemon, nor its exit
            text = f"{type(error).__name__}: {error}"
            if text != self._failing:
                expected = isinstance(error, NmsquotaError | OSError)
                log.warning("the site was not written: %s", text, exc_info=not expected)
            self._failing = text
            return False
        if self._failing is not None:
            log.info("the site is written again")
        self._failing = None
        # The commit read may be a later one than `state`: the next look finds nothing new
        # or writes that one, either way right.
        self._done = state
        self.written += 1
        self.last = done
        log.debug("site %s: %d pages written, %d kept, %d removed in %.3fs", directory,
                  len(done.drawn), done.kept, len(done.removed),
                  time.perf_counter() - started)  # fmt: skip
        return True
