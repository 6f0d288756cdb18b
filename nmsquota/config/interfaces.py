"""Interface maps that contradict themselves: the same interface name given to two
subscribers on one access server.

An access server maps an interface to a subscriber by its static table first, then by its
patterns in order (nmsquota.attribution.InterfaceMap): the first that matches wins. That
order is the documented way to write exceptions, so only what order cannot explain is an
error:

- two patterns on the same field, the same text: the second never matters;
- a later pattern whose own names an earlier one on the same field takes, for another
  subscriber ("(?P<user>.+)" before "<pppoe-(?P<user>.+)>"): the later pattern was written for
  names it never sees, and those sessions are charged to a subscriber nobody meant.

A static entry that a pattern would map elsewhere is only a warning: the static table wins by
design, and "these interfaces by hand, the rest by pattern" is what it is for.

Whether two regular expressions can match one name is found by example: names are made from
the later pattern (nmsquota.config.examples) and tried on the earlier one, so every problem
reported names a real interface name both match; an overlap no example shows goes unreported.
"""

from __future__ import annotations

import re

from nmsquota.attribution import StaticEntry
from nmsquota.config.examples import examples
from nmsquota.config.settings import AccessServer, Match, Settings

# A static name entry is compared with ifName and ifDescr, an alias: one with ifAlias
# (InterfaceMap.assign).
STATIC_FIELDS = ("ifName", "ifDescr")


def map_problems(settings: Settings) -> list[str]:
    """Errors: patterns that repeat or shadow an earlier one with another subscriber."""
    problems = []
    for server_name, server in settings.access_servers.items():
        where = f"access_servers.{server_name}.match"
        for later_index, later in enumerate(server.match):
            for earlier_index, earlier in enumerate(server.match[:later_index]):
                if earlier.field != later.field:
                    continue
                if earlier.pattern == later.pattern:
                    problems.append(
                        f"{where}.{later_index}: the same as match.{earlier_index} "
                        f"({later.field} {later.pattern!r}): it would never matter"
                    )
                    break
                clash = _shadowed(earlier, later)
                if clash is not None:
                    name, taken, meant = clash
                    problems.append(
                        f"{where}.{later_index}: {later.pattern!r} is for names such as "
                        f"{name!r}, but match.{earlier_index} ({earlier.pattern!r}) comes first "
                        f"and maps them to {taken!r}, not {meant!r}: put the more specific "
                        "pattern first"
                    )
                    break
    return problems


def map_warnings(settings: Settings) -> list[str]:
    """Warnings: static entries a pattern would map to someone else (the static one wins)."""
    warnings = []
    for server_name, server in settings.access_servers.items():
        for interface, subscriber in server.interfaces.items():
            entry = StaticEntry.parse(interface, subscriber)
            if entry.kind == "ifindex":
                continue  # no pattern reads an ifIndex
            fields = ("ifAlias",) if entry.kind == "alias" else STATIC_FIELDS
            other = _pattern_subscriber(server, entry.value, fields)
            if other is not None and other[1] != subscriber:
                warnings.append(
                    f"access_servers.{server_name}.interfaces.{interface}: maps "
                    f"{entry.value!r} to {subscriber}, while match.{other[0]} would map it to "
                    f"{other[1]!r}; the static table wins"
                )
    return warnings


def _user(match: Match, name: str) -> str | None:
    found = re.fullmatch(match.pattern, name)
    return found["user"] if found and found["user"] else None


def _shadowed(earlier: Match, later: Match) -> tuple[str, str, str] | None:
    """A name `later` is written for that `earlier` maps to another subscriber: (name, the
    subscriber `earlier` gives, the one `later` would), or None if no example shows one."""
    for name in examples(later.pattern):
        meant, taken = _user(later, name), _user(earlier, name)
        if meant is not None and taken is not None and taken != meant:
            return name, taken, meant
    return None


def _pattern_subscriber(
    server: AccessServer, name: str, fields: tuple[str, ...]
) -> tuple[int, str] | None:
    """The first pattern on one of `fields` that maps `name`: (its index, the subscriber it
    gives)."""
    for index, match in enumerate(server.match):
        if match.field in fields and (user := _user(match, name)) is not None:
            return index, user
    return None
