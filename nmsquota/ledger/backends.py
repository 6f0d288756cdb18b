"""Which store keeps a ledger, told from its location: a postgresql:// (or postgres://) URL
names the PostgreSQL store, anything else a directory for the TinyDB store.

Stores are named by module path and imported only when a location asks for one, so a
process on the TinyDB store never imports psycopg, and one on PostgreSQL never imports
TinyDB's file code (the import contracts in pyproject.toml forbid the faces either).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nmsquota.errors import UsageError

if TYPE_CHECKING:
    from nmsquota.ledger.base import Ledger, Location

SCHEMES = ("postgresql://", "postgres://")

STORES = {
    "tinydb": ("nmsquota.ledger.ledger", "TinyStore"),
    "postgresql": ("nmsquota.ledger.postgres.store", "PostgresStore"),
}


def kind_of(location: Location) -> str:
    """ "postgresql" for a database URL, "tinydb" for a directory."""
    if isinstance(location, str) and location.startswith(SCHEMES):
        return "postgresql"
    if isinstance(location, str) and "://" in location:
        scheme = location.split("://", 1)[0]
        raise UsageError(f"ledger location {location!r}: nmsquota keeps a ledger in a "
                         f"directory or at a postgresql:// URL, not {scheme}://")  # fmt: skip
    return "tinydb"


def shown(location: Location) -> str:
    """The location as messages and screens show it: a URL without its password (in the
    user part or a password= parameter), a directory as it is."""
    text = str(location)
    if not text.startswith(SCHEMES):
        return text
    parts = urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"], safe="/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def store_for(location: Location) -> type[Ledger]:
    """The class of the store that opens `location`, imported now."""
    kind = kind_of(location)
    module, name = STORES[kind]
    try:
        loaded = importlib.import_module(module)
    except ImportError as error:
        if kind == "postgresql" and error.name and error.name.startswith("psycopg"):
            raise UsageError(
                "a postgresql:// ledger needs psycopg 3, which is not installed: install "
                "nmsquota with its extra, `pip install 'nmsquota[postgresql]'`"
            ) from None
        raise UsageError(f"this nmsquota cannot open a {kind} ledger: {error}") from None
    store: type[Ledger] = getattr(loaded, name)
    return store
