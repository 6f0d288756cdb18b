"""The daemon's writer of the site (`[report] site = DIR`): a thread that, after each
commit, brings the site up to it through the read API, as nmsquota.nms.summarise's
SummaryWriter does for the NMS summary. Only the pages whose data changed are written
(nmsquota.report.site), so a cycle in which few subscribers moved costs little."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from nmsquota.config import Config
from nmsquota.errors import NmsquotaError
from nmsquota.ledger.commits import Identity
from nmsquota.report.site import SiteWritten, write_site
from nmsquota.report.siteconfig import site_dir, site_secret
from nmsquota.standings import Reader
from nmsquota.standings.follow import CommitFollower

log = logging.getLogger(__name__)


class SiteWriter(CommitFollower):
    """After each commit, writes the site with the configuration `config()` gives (the one
    SIGHUP loaded: a new secret or directory takes effect at the next commit). A failure is
    logged once per kind (a bug with its traceback) and tried again at the next commit; a
    report's bug never stops the daemon, nor its exit."""

    what = "the site"
    expected = (NmsquotaError, OSError)
    any_failure = True
    log = log

    def __init__(self, ledger: Path, config: Callable[[], Config | None],
                 every: float = 1.0, location: Path | str | None = None) -> None:  # fmt: skip
        super().__init__(ledger, every=every, name="nmsquota-site", join_timeout=120)
        # `ledger` is watched for commits; `location`, when given, is where the ledger is
        # read (a database whose commits the daemon marks in `ledger`).
        self.ledger: Path | str = ledger if location is None else location
        self.config = config
        self.last: SiteWritten | None = None

    def work(self, state: Identity) -> Identity:
        started = time.perf_counter()
        config = self.config()
        directory = site_dir(config)
        secret = site_secret(config)
        zone = ZoneInfo(config.settings.timezone if config is not None else "UTC")
        with Reader.open(self.ledger, config) as reader:
            done = write_site(directory, reader, secret, zone)
        self.last = done
        log.debug("site %s: %d pages written, %d kept, %d removed in %.3fs", directory,
                  len(done.drawn), done.kept, len(done.removed),
                  time.perf_counter() - started)  # fmt: skip
        # The commit read may be a later one than `state`: the next look finds nothing new
        # or writes that one, either way right.
        return state
