"""The writer lock: one process writes a ledger; the lock file names it by PID.

flock, not a bare PID file: the kernel drops the lock when the holder dies, even by kill -9,
so a crashed daemon never leaves a stale lock that an operator has to delete by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from nmsquota.ledger.errors import LedgerLocked, refused_as

LOCK_NAME = "ledger.lock"


class WriterLock:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        # The lock file is the first thing a writer creates: a directory it may not write
        # (permissions, a read-only file system) is refused here, by name.
        with refused_as(self.path, "take the writer lock"):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LedgerLocked(self.directory, holder_pid(self.path)) from None
        try:
            with refused_as(self.path, "write"):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Empty the file before unlocking, so nobody reads our PID as a live holder.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def holder_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def writer_pid(directory: Path) -> int | None:
    """The PID of the process writing the ledger now, or None when nobody is."""
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_pid(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
