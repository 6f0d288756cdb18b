"""Writing a report: whole or not at all (a temporary file beside it, then a rename), so
that a web server or a mailer never reads half a graph."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from nmsquota.errors import NmsquotaError


class ReportUnwritable(NmsquotaError):
    """The report could not be written where asked (exit status 1)."""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`. A refusal (no such directory, permissions, a full disk)
    is ReportUnwritable naming the file, and leaves it as it was and no temporary file."""
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise ReportUnwritable(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp makes it private (0600); a report is for a web server or a mailer to read.
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ReportUnwritable(f"cannot write {path}: {error.strerror or error}") from None
