"""Connections to a PostgreSQL ledger: opened from its postgresql:// URL, named in messages
without the password, and the driver's failures (server down, authentication, a statement
refused) turned into ledger errors that say which database, never a psycopg traceback."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

import psycopg

from nmsquota.ledger.backends import shown
from nmsquota.ledger.errors import LedgerError, LedgerUnusable

public_url = shown
"""`url` without its password: how errors and `Ledger.where` name the database."""


class DatabaseUnusable(LedgerUnusable):
    """The database could not be reached or refused this process (server down, no such
    database, authentication): not the ledger's fault, and what it holds is as the last
    good commit left it. A LedgerUnusable, so the daemon treats it as it does a full disk."""

    def __init__(self, where: str, action: str, problem: str) -> None:
        self.path = where
        self.where = where
        self.action = action
        self.errno = errno.EIO
        self.strerror = problem
        LedgerError.__init__(self, f"ledger: cannot {action} {where}: {problem}")


def problem_of(error: psycopg.Error) -> str:
    """The server's or libpq's own words, on one line."""
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


def connect(url: str, *, application: str, **options: object) -> psycopg.Connection[tuple]:  # type: ignore[type-arg]
    """A connection to the ledger at `url`; DatabaseUnusable when there is none to be had."""
    try:
        return psycopg.connect(
            url,
            application_name=application,
            connect_timeout=10,
            **options,  # type: ignore[arg-type]
        )
    except psycopg.Error as error:
        raise DatabaseUnusable(public_url(url), "connect to", problem_of(error)) from None


def application_name(role: str, pop: str = "") -> str:
    """What pg_stat_activity shows for this process: the check plugin and a second writer
    tell from it who holds the ledger."""
    where = f" pop={pop}" if pop else ""
    return f"nmsquota {role}{where} pid={os.getpid()}"


@contextlib.contextmanager
def talking(where: str, action: str) -> Iterator[None]:
    """Inside the block, the connection lost or a statement refused is a ledger error naming
    `where`; a LedgerError or ValueError raised inside passes as it is."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise DatabaseUnusable(where, action, problem_of(error)) from None
    except psycopg.Error as error:
        raise LedgerError(f"ledger {where}: could not {action}: {problem_of(error)}") from None
