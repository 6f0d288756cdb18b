"""What can go wrong with a ledger, each error naming the file, directory or database
concerned (`where`: a Path for the TinyDB store's files, a URL without its password for
PostgreSQL's)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from nmsquota.errors import NmsquotaError

ADVICE = (
    "stop the daemon and run `nmsquota rebuild`: it moves this file aside, recounts every "
    "window from the usage files, and keeps of this file every table that still reads "
    "(overrides, limits in force, standings, the event log, counter baselines, provisioned "
    "subscribers); it lists what it could not keep and what that costs"
)
"""What a state.json that does not read asks the operator to do (salvage.py's rebuild:
here, so that the errors every store raises need no TinyDB module)."""


class LedgerError(NmsquotaError):
    pass


class LedgerCorrupt(LedgerError):
    """A ledger file (or database) that does not parse or does not hold what it should.
    Never overwritten."""

    def __init__(self, path: Path | str, problem: str, advice: str | None = None) -> None:
        self.path = path
        self.problem = problem
        if advice is not None:
            pass
        elif not isinstance(path, Path):
            advice = "Repair or restore it from a backup"
        elif path.name == "state.json":
            advice = f"Repair or restore it, or {ADVICE}"
        else:
            advice = (
                "Repair or restore it, or move it aside and run `nmsquota rebuild`, which "
                "recounts the windows from the usage files that remain (the records in this "
                "one stop counting until it is repaired and put back)"
            )
        what = "ledger file" if isinstance(path, Path) else "ledger"
        super().__init__(f"{what} {path} {problem}; nmsquota will not overwrite it. {advice}")


class LedgerRecordError(LedgerCorrupt):
    """A record in state.json that does not fit its kind's type. Names the file and the
    kind; the record is left as it is."""

    def __init__(self, path: Path | str, kind: str, problem: str) -> None:
        self.kind = kind
        self.detail = problem
        """Which record and field, without the file and kind around it."""
        super().__init__(path, f"holds {kind} records nmsquota cannot read ({problem})")


class LedgerLocked(LedgerError):
    """Another process holds the writer lock."""

    def __init__(self, directory: Path | str, pid: int | None, lock: str | None = None) -> None:
        self.directory = directory
        self.pid = pid
        holder = f"process {pid}" if pid else "another process"
        if lock is None:
            lock = f"lock file {Path(directory) / 'ledger.lock'}"
        super().__init__(
            f"ledger {directory} is already open for writing by {holder} "
            f"({lock}); only one writer at a time: stop it first, or use a read-only command"
        )


class LedgerReadOnly(LedgerError):
    def __init__(self, path: Path | str) -> None:
        what = "ledger file" if isinstance(path, Path) else "ledger"
        super().__init__(f"{what} {path} was opened read-only; only the writer changes it")


class LedgerMissing(LedgerError):
    def __init__(self, directory: Path | str, advice: str | None = None) -> None:
        if advice is not None:
            super().__init__(f"no ledger at {directory}; {advice}")
            return
        super().__init__(
            f"no ledger in {directory} (no state.json); the daemon creates one, or "
            f"`nmsquota import` does"
        )


class LedgerUnusable(LedgerError):
    """The system refused to read or write a ledger file or directory: permissions, a
    read-only or full file system. Not the ledger's fault: what is on disk is as the last
    good commit left it (writes go through a temporary file), and nothing advises a rebuild.
    `errno` and `strerror` are the system's, `path` the file or directory refused (a
    database's URL, without its password, for postgres.connection.DatabaseUnusable)."""

    path: Path | str

    def __init__(self, path: Path, action: str, error: OSError) -> None:
        self.path = path
        self.action = action
        self.errno = error.errno
        self.strerror = error.strerror or str(error)
        super().__init__(f"ledger: cannot {action} {path}: {self.strerror}{_hint(error.errno)}")


def _hint(number: int | None) -> str:
    if number in (errno.EACCES, errno.EPERM):
        return (f" (nmsquota runs as uid {os.geteuid()}: check the owner and mode of the "
                "ledger directory)")  # fmt: skip
    if number == errno.EROFS:
        return " (the file system is mounted read-only; reading commands still work)"
    if number in (errno.ENOSPC, errno.EDQUOT):
        return " (the last good commit is kept; free some space)"
    return ""


@contextlib.contextmanager
def refused_as(path: Path, action: str) -> Iterator[None]:
    """Turn the system's refusal (OSError) inside the block into LedgerUnusable naming
    `path` and what was being done; a LedgerError passes as it is."""
    try:
        yield
    except OSError as error:
        raise LedgerUnusable(path, action, error) from error
