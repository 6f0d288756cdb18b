"""`nmsquota ledger`: the ledger's own upkeep, apart from its contents: making and
migrating a database ledger's schema, copying a ledger to another store, and forgetting a POP
closed for good (issue 24)."""

from __future__ import annotations

import argparse
import sys

from nmsquota.commands.common import (
    add_ledger_options,
    config_of,
    ledger_argument,
    ledger_location,
    progress,
)
from nmsquota.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ledger",
        help="make or migrate a database ledger's schema; copy a ledger to another store; "
        "forget a POP",
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
    copy = actions.add_parser(
        "copy",
        help="copy the ledger to a new directory or an empty postgresql:// ledger, and check it",
        description="Copy the ledger (--ledger, else the configuration's) to --to: every "
        "committed sample, every window's totals, every record and the poller's counter "
        "baselines, then compare the two window by window. The target must be a new or empty "
        "directory, or a database whose schema `nmsquota ledger migrate` has just made; one "
        "holding a ledger already is refused. Stop the daemon first: it must not commit "
        "while the copy reads. Exit status 1 when the copy does not read as the source.",
    )
    copy.add_argument(
        "--to",
        metavar="DIR|URL",
        required=True,
        type=ledger_argument,
        help="where the copy goes: a new directory, or a postgresql:// URL",
    )
    add_ledger_options(copy)
    copy.set_defaults(handler=run_copy)
    forget = actions.add_parser(
        "forget-pop",
        help="forget a POP closed for good: its last cycle, sessions and counter baselines",
        description="Where several POPs' daemons share a database ledger, forget POP NAME: "
        "its last cycle (status, the console and the check plugin stop listing it as stale), "
        "its access servers' records, its sessions and its poller's counter baselines. The "
        "usage it counted stays in every window. Refused while NAME's daemon runs (it holds "
        "the POP's writer lock). A POP forgotten and started again charges nothing for the "
        "time it was away: its first cycle only takes new baselines.",
    )
    forget.add_argument("name", metavar="NAME", help="the POP, as its [ledger] pop names it")
    add_ledger_options(forget)
    forget.set_defaults(handler=run_forget_pop)


def run_migrate(args: argparse.Namespace) -> int:
    from nmsquota.ledger.backends import shown, store_for

    location = _database(
        args,
        ", which its writer migrates when it opens: give --ledger "
        "postgresql://... or set [ledger] url in the configuration",
    )
    store_for(location)  # psycopg missing: said here, in one line
    from nmsquota.ledger.postgres.schema import migrate

    applied = migrate(location)
    if applied:
        versions = ", ".join(map(str, applied))
        print(f"{shown(location)}: applied schema version {versions}", file=sys.stderr)
    else:
        print(f"{shown(location)}: the schema is current; nothing to do", file=sys.stderr)
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from nmsquota.ledger import Ledger
    from nmsquota.ledger.backends import shown
    from nmsquota.ledger.copy import copy_ledger

    config = config_of(args, check_drivers=False)
    source = ledger_location(args, config)
    if not Ledger.exists(source):
        raise UsageError(f"no ledger at {shown(source)} to copy")
    tallies = config.tallies() if config else []
    copied = copy_ledger(source, args.to, tallies=tallies, progress=progress)
    records = ", ".join(f"{kind} {count}" for kind, count in copied.records.items())
    print(f"copied {shown(source)} to {shown(args.to)}:")
    print(f"  samples: {copied.samples:,} of {copied.subscribers:,} subscribers "
          f"(in {copied.commits:,} commits)")  # fmt: skip
    print(f"  windows: {', '.join(copied.tallies) or 'none'}")
    print(f"  records: {records}")
    servers = copied.access_servers
    print(f"  counter baselines: {servers} access server{'' if servers == 1 else 's'}")
    print("checked: every window's totals agree, and so do every record, baseline and sample")
    return 0


def run_forget_pop(args: argparse.Namespace) -> int:
    from nmsquota.ledger import Ledger
    from nmsquota.ledger.backends import shown
    from nmsquota.ledger.codec import DEVICES, HEALTH, SESSIONS

    location = _database(
        args,
        ": one daemon writes it, and it has no POPs; several POPs share a ledger in PostgreSQL",
    )
    if not Ledger.exists(location):
        raise UsageError(f"no ledger at {shown(location)}")
    with Ledger.open_writer(location, pop=args.name) as ledger:
        known = sorted({record.pop for record in ledger.records.every_pop(HEALTH)} - {""})
        forgotten = ledger.forget_pop()
    if not any(forgotten.values()):
        holds = f"the POPs it holds: {', '.join(known)}" if known else "it holds no POP"
        raise UsageError(f"ledger {shown(location)} holds nothing of POP {args.name!r} ({holds})")
    servers = forgotten.get("counters", 0)
    print(f"forgot POP {args.name} in {shown(location)}: "
          f"{_count(forgotten.get(HEALTH.table, 0), 'last cycle')}, "
          f"{_count(forgotten.get(DEVICES.table, 0), 'access server record')}, "
          f"{_count(forgotten.get(SESSIONS.table, 0), 'session')}, "
          f"counter baselines of {_count(servers, 'access server')}; "
          "the usage it counted stays in the windows")  # fmt: skip
    return 0


def _database(args: argparse.Namespace, refusal: str) -> str:
    """The ledger's location, which must be a database: a directory is a UsageError, its
    `refusal` saying why after "DIR is a TinyDB ledger (a directory)"."""
    from nmsquota.ledger.backends import kind_of, shown

    location = ledger_location(args, config_of(args, check_drivers=False))
    if kind_of(location) != "postgresql" or not isinstance(location, str):
        raise UsageError(f"{shown(location)} is a TinyDB ledger (a directory){refusal}")
    return location


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"
