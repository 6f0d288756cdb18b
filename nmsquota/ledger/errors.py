"""What can go wrong with a ledger, each error naming the file or directory concerned."""

from __future__ import annotations

from pathlib import Path

from nmsquota.errors import NmsquotaError


class LedgerError(NmsquotaError):
    pass


class LedgerCorrupt(LedgerError):
    """A ledger file that does not parse or does not hold what it should. Never overwritten."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"ledger file {path} {problem}; nmsquota will not overwrite it. Repair or "
            f"restore it, or move it aside and run `nmsquota rebuild`, which recounts the "
            f"windows from the usage files that remain"
        )


class LedgerRecordError(LedgerCorrupt):
    """A record in state.json that does not fit its kind's type. Names the file and the
    kind; the record is left as it is."""

    def __init__(self, path: Path, kind: str, problem: str) -> None:
        self.kind = kind
        super().__init__(path, f"holds {kind} records nmsquota cannot read ({problem})")


class LedgerLocked(LedgerError):
    """Another process holds the writer lock."""

    def __init__(self, directory: Path, pid: int | None) -> None:
        self.directory = directory
        self.pid = pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"ledger {directory} is already open for writing by {holder} "
            f"(lock file {directory / 'ledger.lock'}); only one writer at a time: stop it "
            f"first, or use a read-only command"
        )


class LedgerReadOnly(LedgerError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"ledger file {path} was opened read-only; only the writer changes it")


class LedgerMissing(LedgerError):
    def __init__(self, directory: Path) -> None:
        super().__init__(
            f"no ledger in {directory} (no state.json); the daemon creates one, or "
            f"`nmsquota import` does"
        )
