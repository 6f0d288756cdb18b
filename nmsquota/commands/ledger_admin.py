"""`nmsquota ledger`: the ledger's own upkeep, apart from its contents: making and
migrating a database ledger's schema (issue 24)."""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import add_ledger_options, config_of, ledger_location
from nmsquota.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ledger",
        help="make or migrate a database ledger's schema",
        description="The ledger's upkeep. A TinyDB ledger (a directory) needs none: its "
        "writer makes and migrates it when it opens. A PostgreSQL ledger's schema is made and "
        "migrated only here, by someone allowed to change it, never by a daemon.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="make the schema of a postgresql:// ledger, or bring it up to this nmsquota's",
        description="Create the tables of a PostgreSQL ledger in an empty database, or apply "
        "the schema versions this nmsquota adds to an older one; a schema already current is "
        "left as it is. A newer schema (written by a later nmsquota) is refused. Stop every "
        "daemon on the ledger first: they refuse a schema that is not their own.",
    )
    add_ledger_options(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    from nmsquota.ledger.backends import kind_of, shown, store_for

    location = ledger_location(args, config_of(args, check_drivers=False))
    if kind_of(location) != "postgresql":
        raise UsageError(
            f"{location} is a TinyDB ledger (a directory), which its writer migrates when it "
            "opens: give --ledger postgresql://... or set [ledger] url in the configuration"
        )
    assert isinstance(location, str)
    store_for(location)  # psycopg missing: said here, in one line
    from nmsquota.ledger.postgres.schema import migrate

    applied = migrate(location)
    if applied:
        versions = ", ".join(map(str, applied))
        print(f"{shown(location)}: applied schema version {versions}", file=sys.stderr)
    else:
        print(f"{shown(location)}: the schema is current; nothing to do", file=sys.stderr)
    return 0
