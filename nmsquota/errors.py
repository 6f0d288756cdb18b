"""Errors a user can cause. Each says what was wrong and where; the CLI prints it as one line."""

from __future__ import annotations


class NmsquotaError(Exception):
    """Base class; `exit_status` is what the CLI exits with (1: runtime failure)."""

    exit_status = 1


class UsageError(NmsquotaError):
    """Bad command-line input or configuration (exit status 2)."""

    exit_status = 2
