"""Profiles read from TOML files: the built-in ones (nmsquota/data/profiles, package data)
and any an operator writes. A file's name (without .toml) is its profile's name; a bad file
is one ProfileError naming the file and the key (snmp/profile.py says what the keys mean).
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, cast

from nmsquota.attribution import PatternError, user_pattern
from nmsquota.errors import UsageError
from nmsquota.snmp.profile import (
    IndexForm,
    InterfaceMatch,
    NameTable,
    Profile,
    SessionIdFormat,
    SessionTable,
    UptimeUnit,
)

OID = re.compile(r"\d+(\.\d+)+")
KINDS = ("sessions", "interfaces")
INDEX_FORMS = ("string", "implied-string", "integer")
UPTIME_UNITS = ("seconds", "centiseconds")
SESSION_ID_FORMATS = ("text", "hex8")
INTERFACE_MATCHES = ("ifIndex", "ifName", "ifDescr")
SESSION_ROLES = ("session_id", "interface", "subscriber", "address", "state", "uptime",
                 "octets_in", "octets_out")  # fmt: skip
REQUIRED_SESSION_ROLES = ("subscriber", "octets_in", "octets_out")


class ProfileError(UsageError):
    """A profile file that cannot be used: the message is one line, file and key first (exit
    status 2, as a bad configuration)."""


def builtin_names() -> tuple[str, ...]:
    folder = resources.files("nmsquota") / "data" / "profiles"
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                        if p.name.endswith(".toml")))  # fmt: skip


@functools.cache
def builtin(name: str) -> Profile:
    """The built-in profile of this name (KeyError if there is none)."""
    if name not in builtin_names():
        raise KeyError(name)
    entry = resources.files("nmsquota") / "data" / "profiles" / f"{name}.toml"
    return parse(entry.read_text(encoding="utf-8"), name, origin=f"{name}.toml (built in)")


def profile_of(source: str | Profile) -> Profile:
    """The profile a device is polled with: given, or the built-in one of that name."""
    return source if isinstance(source, Profile) else builtin(source)


def load(path: Path) -> Profile:
    """An operator's profile file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path}: cannot read: {error}") from None
    return parse(text, path.stem, origin=str(path))


def parse(text: str, name: str, *, origin: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{origin}: not TOML: {error}") from None
    reader = _Reader(origin)
    reader.only(data, "", ("kind", "entry", "index", "counter_bits", "columns", "names"))
    kind = reader.choice(data, "kind", KINDS, required=True)
    if kind == "sessions":
        if "names" in data:
            raise reader.error("names", "only an interfaces profile has a names table")
        sessions = _sessions(reader, data)
        return Profile(name, "sessions", sessions=sessions, origin=origin)
    for key in ("entry", "index", "counter_bits", "columns"):
        if key in data:
            raise reader.error(key, "an interfaces profile walks IF-MIB: only [names] is its own")
    names = _names(reader, data["names"]) if "names" in data else None
    return Profile(name, "interfaces", names=names, origin=origin)


def _sessions(reader: _Reader, data: dict[str, Any]) -> SessionTable:
    entry = reader.oid(data, "entry")
    columns = reader.table(data, "columns")
    reader.only(columns, "columns.", SESSION_ROLES)
    for role in REQUIRED_SESSION_ROLES:
        if role not in columns:
            raise reader.error(f"columns.{role}", "missing (a session table needs subscriber, "
                               "octets_in and octets_out)")  # fmt: skip
    oids: dict[str, str] = {}
    names: dict[str, str] = {}
    extras: dict[str, dict[str, Any]] = {}
    allowed = {"address": ("ignore",), "state": ("active",), "uptime": ("unit",),
               "subscriber": ("pattern",)}  # fmt: skip
    for role in SESSION_ROLES:
        if role not in columns:
            continue
        where = f"columns.{role}"
        spec = reader.table(columns, role, where)
        reader.only(spec, f"{where}.", ("column", "name", *allowed.get(role, ())))
        oids[role] = f"{entry}.{reader.integer(spec, 'column', f'{where}.column', least=1)}"
        if "name" in spec:
            names[oids[role]] = reader.text(spec, "name", f"{where}.name")
        extras[role] = spec
    ignore = reader.ignore(extras.get("address", {}), "columns.address.ignore")
    pattern = extras["subscriber"].get("pattern")
    if pattern is not None:
        reader.pattern(pattern, "columns.subscriber.pattern")
    state = extras.get("state", {})
    active = reader.integer(state, "active", "columns.state.active") if "active" in state else None
    index = reader.choice(data, "index", INDEX_FORMS) or "string"
    unit = reader.choice(
        extras.get("uptime", {}), "unit", UPTIME_UNITS, where="columns.uptime.unit"
    )
    bits = (
        reader.integer(data, "counter_bits", "counter_bits", least=32)
        if "counter_bits" in data
        else 64
    )
    counters = (oids["octets_in"], oids["octets_out"])
    return SessionTable(
        entry=entry,
        subscriber=oids["subscriber"],
        octets_in=oids["octets_in"],
        octets_out=oids["octets_out"],
        index=cast(IndexForm, index),
        session_id=oids.get("session_id"),
        interface=oids.get("interface"),
        address=oids.get("address"),
        address_ignore=ignore,
        subscriber_pattern=pattern,
        state=oids.get("state"),
        state_active=active,
        uptime=oids.get("uptime"),
        uptime_unit=cast(UptimeUnit, unit or "seconds"),
        counter_bits=bits,
        # A counter without a MIB name is named by its role in the walk's warnings.
        counter_names={
            c: names.get(c, role)
            for c, role in zip(counters, ("octets_in", "octets_out"), strict=True)
        },
    )


def _names(reader: _Reader, value: Any) -> NameTable:
    if not isinstance(value, dict):
        raise reader.error("names", "must be a table")
    reader.only(value, "names.", ("entry", "available", "subscriber", "session_id",
                                  "interface", "address", "state"))  # fmt: skip
    entry = reader.oid(value, "entry", "names.entry")
    if "subscriber" not in value:
        raise reader.error("names.subscriber", "missing")
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for role, extra in (("available", ()), ("subscriber", ("when_bit",)),
                        ("session_id", ("when_bit", "format")), ("interface", ("match",)),
                        ("address", ("ignore",)), ("state", ("active",))):  # fmt: skip
        if role not in value:
            continue
        where = f"names.{role}"
        spec = reader.table(value, role, where)
        reader.only(spec, f"{where}.", ("column", "name", *extra))
        column = reader.integer(spec, "column", f"{where}.column", least=1)
        found[role] = (f"{entry}.{column}", spec)
    bits = {r: reader.integer(s, "when_bit", f"names.{r}.when_bit", least=0)
            for r, (_, s) in found.items() if "when_bit" in s}  # fmt: skip
    if bits and "available" not in found:
        raise reader.error("names.available", "missing (when_bit reads it)")
    session = found.get("session_id")
    form = None
    if session is not None:
        form = reader.choice(
            session[1], "format", SESSION_ID_FORMATS, where="names.session_id.format"
        )
    interface, match = found.get("interface"), None
    if interface is not None:
        match = reader.choice(interface[1], "match", INTERFACE_MATCHES, required=True,
                              where="names.interface.match")  # fmt: skip
    address = found.get("address")
    ignore = reader.ignore(address[1], "names.address.ignore") if address else ("0.0.0.0",)
    state = found.get("state")
    active = reader.integer(state[1], "active", "names.state.active") if state else None
    return NameTable(
        entry=entry,
        subscriber=found["subscriber"][0],
        available=found["available"][0] if "available" in found else None,
        subscriber_bit=bits.get("subscriber"),
        session_id=session[0] if session else None,
        session_id_bit=bits.get("session_id"),
        session_id_format=cast(SessionIdFormat, form or "text"),
        interface=interface[0] if interface else None,
        interface_match=cast(InterfaceMatch, match or "ifIndex"),
        address=address[0] if address else None,
        address_ignore=ignore,
        state=state[0] if state else None,
        state_active=active,
    )


class _Reader:
    """Typed reads of a parsed file, each failure a ProfileError naming the file and key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, key: str, problem: str) -> ProfileError:
        return ProfileError(f"{self.origin}: {key}: {problem}")

    def only(self, data: dict[str, Any], prefix: str, keys: tuple[str, ...]) -> None:
        for key in data:
            if key not in keys:
                raise self.error(f"{prefix}{key}", f"unknown key (known: {', '.join(keys)})")

    def table(self, data: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.error(where or key, "missing" if value is None else "must be a table")
        return value

    def text(self, data: dict[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.error(where, "must be a non-empty string")
        return value

    def integer(self, data: dict[str, Any], key: str, where: str, least: int = 0) -> int:
        value = data.get(key)
        if value is None:
            raise self.error(where, "missing")
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise self.error(where, f"must be an integer of at least {least}, not {value!r}")
        return value

    def ignore(self, data: dict[str, Any], where: str) -> tuple[str, ...]:
        value = data.get("ignore", ["0.0.0.0"])
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            raise self.error(where, "must be a list of strings")
        return tuple(value)

    def pattern(self, value: Any, where: str) -> None:
        """A regular expression with the (?P<user>...) group an interface map's match
        patterns have too."""
        if not isinstance(value, str) or not value:
            raise self.error(where, "must be a non-empty string")
        try:
            user_pattern(value)
        except PatternError as error:
            raise self.error(where, str(error)) from None

    def oid(self, data: dict[str, Any], key: str, where: str | None = None) -> str:
        value = data.get(key)
        if value is None:
            raise self.error(where or key, "missing")
        if not isinstance(value, str) or not OID.fullmatch(value.strip(".")):
            raise self.error(where or key, f"must be a dotted OID, not {value!r}")
        return value.strip(".")

    def choice(self, data: dict[str, Any], key: str, choices: tuple[str, ...], *,
               required: bool = False, where: str | None = None) -> str | None:  # fmt: skip
        value = data.get(key)
        if value is None and not required:
            return None
        if value not in choices:
            shown = "missing: one of" if value is None else f"{value!r} is not one of"
            raise self.error(where or key, f"{shown} {', '.join(choices)}")
        return str(value)
