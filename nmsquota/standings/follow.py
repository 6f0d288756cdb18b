"""Work done after each commit of a ledger, in a thread of the daemon's: the NMS summary
(nmsquota.nms.summarise) and the report site (nmsquota.report.sitewriter) each keep a file
beside the ledger up to its latest commit this way."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from nmsquota.ledger.commits import Identity, identity


class CommitFollower:
    """Looks at the ledger's state.json every `every` seconds and, when a commit replaced it,
    calls `work`. A failure (an exception of `expected`, or any with `any_failure`, then
    logged with its traceback unless expected) is logged once per kind and tried again at the
    next commit; `written` counts the commits worked on (the tests wait on it)."""

    what = "the file"
    """What is written, for the log ("the NMS summary (PATH)")."""
    log = logging.getLogger(__name__)
    """The writer's own logger (its module's)."""
    expected: tuple[type[Exception], ...] = (OSError,)
    any_failure = False
    """Also catch what no one expected: a bug in the work must not stop the daemon."""

    def __init__(self, directory: Path, *, every: float = 1.0, name: str = "nmsquota-follow",
                 join_timeout: float = 30.0) -> None:  # fmt: skip
        self.directory = directory
        self.every = every
        self.join_timeout = join_timeout
        self.written = 0
        self._stop = threading.Event()
        self._done: Identity | None = None
        self._failing: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def work(self, state: Identity) -> Identity | None:
        """Bring the file up to the ledger, whose state.json was `state` a moment ago. The
        identity of the commit it was brought up to, or None when it could not tell which
        (tried again at the next look)."""
        raise NotImplementedError

    def start(self) -> CommitFollower:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop, after working on the last commit (a daemon run for N cycles leaves the
        file of its last)."""
        self._stop.set()
        self._thread.join(timeout=self.join_timeout)
        if not self._thread.is_alive():
            self.once()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.once()
            self._stop.wait(self.every)

    def once(self) -> bool:
        """Work if a commit replaced state.json since the last time. True if it did."""
        state = identity(self.directory)
        if state is None or state == self._done:
            return False
        caught = Exception if self.any_failure else self.expected
        try:
            done = self.work(state)
        except caught as error:
            text = f"{type(error).__name__}: {error}"
            if text != self._failing:
                self.log.warning("%s was not written: %s", self.what, text,
                            exc_info=not isinstance(error, self.expected))  # fmt: skip
            self._failing = text
            return False
        if done is None:
            return False
        if self._failing is not None:
            self.log.info("%s is written again", self.what)
        self._failing = None
        self._done = done
        self.written += 1
        return True
