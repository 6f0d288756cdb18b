"""Every other section of the file (subscribers, access servers, drivers, limitd, notify,
verify, control) and Settings, the whole file as one model."""

from __future__ import annotations

import ipaddress
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from nmsquota.attribution import PatternError, StaticEntry, user_pattern
from nmsquota.config.caps import Plan
from nmsquota.config.fields import Duration, Name, Percent, Rate, SecretRef, Size, Strict


class Subscriber(Strict):
    plan: str
    addresses: list[str] = []
    exempt: bool = False
    exempt_reason: str | None = None

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        for address in addresses:
            try:
                ipaddress.ip_interface(address)
            except ValueError:
                raise PydanticCustomError(
                    "address", f"expected an IPv4 or IPv6 address or prefix, got {address!r}"
                ) from None
        return addresses


class Match(Strict):
    """A pattern on an interface field whose (?P<user>...) group names the subscriber."""

    field: Literal["ifName", "ifDescr", "ifAlias"] = "ifName"
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, pattern: str) -> str:
        try:
            user_pattern(pattern)
        except PatternError as error:
            raise PydanticCustomError("pattern", str(error)) from None
        return pattern


# host:port, name:port or [IPv6]:port; a bare IPv6 address has colons too but is tried as an
# address first.
HOST_WITH_PORT = re.compile(r"(?:\[(?P<v6>[^\]]*)\]|(?P<name>[^:\[\]]+)):(?P<port>\d+)")
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _check_host(host: str) -> str:
    """`host` if it is an IP address or a syntactically valid DNS name (RFC 1123), else a
    PydanticCustomError saying what is wrong: a port in it (pysnmp would take the whole text
    for a name and fail at the first poll) or not an address or a name at all."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if with_port := HOST_WITH_PORT.fullmatch(host):
        alone = with_port["v6"] if with_port["v6"] is not None else with_port["name"]
        raise PydanticCustomError(
            "host",
            f'{host!r} has a port in it: write host = "{alone}" and port = '
            f"{int(with_port['port'])}",
        )
    labels = host.removesuffix(".").split(".")
    # An all-digit last label is a mistyped IPv4 address (RFC 3696 §2), not a name.
    if (len(host) > 253 or not all(DNS_LABEL.fullmatch(label) for label in labels)
            or labels[-1].isdigit()):  # fmt: skip
        raise PydanticCustomError("host", f"{host!r} is not an IP address or a DNS name")
    return host


MOST_ROWS = 200
"""More GETBULK repetitions than any reply carries: a row of the dozen IF-MIB columns walked
together is some 400 bytes, and a UDP datagram at most 64 KiB."""


class AccessServer(Strict):
    """An SNMP agent to poll, and how its interfaces map to subscribers."""

    host: str = Field(description="IP address or DNS name, without the port (see port)")
    port: int = Field(default=161, ge=1, le=65535)
    source: Literal[
        "if-mib", "accel-ppp", "cisco-csub", "juniper-subscribers", "mikrotik-queues"
    ] = Field(
        default="if-mib",
        description=(
            "interface counters; accel-ppp's per-session table; interface counters named by "
            "Cisco's csubSessionTable or Juniper's jnxSubscriberTable; or MikroTik's simple "
            "queues named <pppoe-USER>"
        ),
    )
    profile: str | None = Field(
        default=None,
        description=(
            "a profile file of your own (TOML, README 'Profiles'), read instead of a built-in "
            "source; a relative path is from this configuration file's directory"
        ),
    )
    version: Literal["1", "2c", "3"] = "2c"
    transport: Literal["pysnmp", "netsnmp"] = Field(
        default="pysnmp",
        description=(
            "the SNMP library that sends its requests: pysnmp, or Net-SNMP's C library "
            "(netsnmp-cffi, ~1/20 of pysnmp's CPU per row; v1 and v2c only)"
        ),
    )
    community: str | SecretRef | None = None
    timeout: Duration = 2
    retries: int = Field(default=1, ge=0, le=10)
    deadline: Duration = 30
    max_repetitions: int = Field(
        default=25,
        description=(
            "rows asked for per GETBULK at most; fewer are asked for on their own when the "
            "agent answers tooBig or nothing"
        ),
    )
    bulk: bool = Field(
        default=True,
        description="false: walk with GETNEXT only (an agent whose GETBULK is broken)",
    )
    download: Literal["out", "in"] = Field(
        default="out", description="which counter of a subscriber's interface is their download"
    )
    speed_override: Rate | None = None
    identity_refresh: Duration = Field(
        default=3600,
        description=(
            "walk interface names at least this often, even when ifNumber and "
            "ifTableLastChange say nothing changed (0: every cycle)"
        ),
    )
    learn_addresses: Literal["off", "inet-cidr-route", "ip-cidr-route"] = Field(
        default="off",
        description=(
            "learn subscribers' addresses from host routes to their interfaces; off by "
            "default because a router with a full table would make that walk huge"
        ),
    )
    match: list[Match] = []
    interfaces: dict[str, Name] = Field(
        default={},
        description=(
            "static table: interface -> subscriber, the interface as its ifName or ifDescr, "
            '"ifindex:N" (or "ifindex:N:NAME", the name it must have) or "alias:IFALIAS"'
        ),
    )
    # SNMPv3 (USM): noAuthNoPriv with just a user, authNoPriv with auth, authPriv with both.
    user: str | None = None
    auth: Literal["none", "md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "none"
    auth_key: str | SecretRef | None = None
    priv: Literal["none", "des", "aes", "aes192", "aes256"] = "none"
    priv_key: str | SecretRef | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        return _check_host(host)

    @field_validator("profile")
    @classmethod
    def _profile(cls, profile: str | None, info: ValidationInfo) -> str | None:
        # `source` is declared first: a profile file replaces the built-in one it names.
        if profile is not None and info.data.get("source", "if-mib") != "if-mib":
            raise PydanticCustomError(
                "profile", "set source or profile, not both: a profile file is its own source"
            )
        if profile is not None and not profile.endswith(".toml"):
            raise PydanticCustomError("profile", f"{profile!r} is not a .toml file")
        return profile

    @field_validator("transport")
    @classmethod
    def _transport(cls, transport: str, info: ValidationInfo) -> str:
        # Checked here, not at the first poll: the binding has no SNMPv3 (no USM in its
        # sessions), so such an agent could never be read. `version` is declared first,
        # so it is in info.data once valid.
        if transport == "netsnmp" and info.data.get("version") == "3":
            raise PydanticCustomError(
                "transport",
                'transport = "netsnmp" cannot send SNMPv3 (netsnmp-cffi has no USM): '
                'use transport = "pysnmp" for version = "3"',
            )
        if transport == "netsnmp" and find_spec("netsnmpy") is None:
            # An optional extra (pyproject.toml): say so now, not at every poll.
            raise PydanticCustomError(
                "transport",
                'transport = "netsnmp" needs netsnmp-cffi, which is not installed: '
                "pip install 'nmsquota[netsnmp]'",
            )
        return transport

    @field_validator("max_repetitions", mode="before")
    @classmethod
    def _max_repetitions(cls, value: object) -> object:
        # Checked before pydantic's int parsing so that the message shows the value given.
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MOST_ROWS:
            raise PydanticCustomError(
                "max_repetitions",
                f"expected a whole number of rows from 1 to {MOST_ROWS}, got {value!r}",
            )
        return value

    @field_validator("bulk", mode="before")
    @classmethod
    def _bulk(cls, value: object) -> object:
        # A TOML boolean only: pydantic would read "off" as false and "on" as true.
        if not isinstance(value, bool):
            raise PydanticCustomError("bulk", f"expected true or false, got {value!r}")
        return value

    @field_validator("interfaces")
    @classmethod
    def _interfaces(cls, interfaces: dict[str, str]) -> dict[str, str]:
        for key, subscriber in interfaces.items():
            try:
                StaticEntry.parse(key, subscriber)
            except ValueError as error:
                raise PydanticCustomError("interface", str(error)) from None
        return interfaces

    @model_validator(mode="after")
    def _usm(self) -> AccessServer:
        if self.version != "3":
            if self.user or self.auth != "none" or self.priv != "none":
                raise PydanticCustomError("v3", 'user, auth and priv are for version = "3"')
            return self
        if not self.user:
            raise PydanticCustomError("v3", "version 3 needs a user")
        if self.auth != "none" and self.auth_key is None:
            raise PydanticCustomError("v3", f"auth = {self.auth!r} needs an auth_key")
        if self.priv != "none" and (self.auth == "none" or self.priv_key is None):
            raise PydanticCustomError("v3", "priv needs auth and a priv_key (authPriv)")
        return self


class Driver(Strict):
    """An enforcement driver: its `type` names a registered driver (nmsquota.driver_registry),
    whose own options model checks `options` once secrets are looked up (load_config)."""

    type: Name
    options: dict[str, Any] = {}


class Limitd(Strict):
    """`nmsquota limitd`, the paper's remote limiter: who may log in, and which local driver
    applies the limits it is sent."""

    driver: Name = Field(description="a driver in [drivers] that applies the limits")
    secret: str | SecretRef
    auth: Literal["hmac-sha256", "des"] = Field(
        default="hmac-sha256",
        description="hmac-sha256; des only for the paper's own clients (DES is breakable)",
    )
    listen: str = Field(default="127.0.0.1:7431", pattern=r"^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d+$")
    rate: Rate = 3_000
    queue: Size = 10_000


NOTIFY_FIELDS = ("subscriber", "event", "used", "cap", "percent", "reason", "cap_name", "step",
                 "rate")  # fmt: skip
"""What a notify command's arguments may name (nmsquota/notify.py fills them)."""


class Notify(Strict):
    """Where warnings and limit changes go: a command (run without a shell), a webhook, and
    SNMP managers (NMSQUOTA-MIB's nqLimitApplied and nqLimitLifted, as SNMPv2c traps)."""

    command: list[str] = Field(
        default=[], description='e.g. ["/usr/local/bin/tell", "{subscriber}", "{event}"]'
    )
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    timeout: Duration = 10
    traps: list[str] = Field(
        default=[], description='trap receivers, "HOST:PORT", e.g. ["192.0.2.10:162"]'
    )
    trap_community: str | SecretRef = "public"

    @field_validator("traps")
    @classmethod
    def _receivers(cls, traps: list[str]) -> list[str]:
        for receiver in traps:
            host_and_port(receiver)
        return traps

    @field_validator("command")
    @classmethod
    def _placeholders(cls, command: list[str]) -> list[str]:
        # Found wrong here, not in a hook thread at the first warning. Every field is a
        # string when the hook runs, so formatting with empty strings is the same test.
        blank = dict.fromkeys(NOTIFY_FIELDS, "")
        for part in command:
            try:
                part.format_map(blank)
            except KeyError as error:
                raise PydanticCustomError("placeholder", f"unknown placeholder {{{error.args[0]}}} "
                    f"(expected one of: {', '.join(NOTIFY_FIELDS)})") from None  # fmt: skip
            except (ValueError, IndexError) as error:
                raise PydanticCustomError("placeholder", f"{part!r}: {error} (placeholders "
                    "are names in braces, e.g. {subscriber})") from None  # fmt: skip
        return command


class Verify(Strict):
    """Checking that limits bite: a limited subscriber measured above the limited rate by
    more than `margin` for `cycles` cycles in a row is flagged "limit not effective"."""

    enabled: bool = True
    margin: Percent = Field(
        default=25.0, description='allowance for the queue and headers, e.g. "25%"'
    )
    cycles: int = Field(default=2, ge=1, le=100, description="cycles in a row before a flag")


class Control(Strict):
    """The daemon's control socket, DATA_DIR/control.sock (mode 0660)."""

    group: str | None = Field(
        default=None, description="the group whose members may use it, e.g. nmsquota"
    )

    @field_validator("group")
    @classmethod
    def _known_group(cls, group: str | None) -> str | None:
        import grp

        if group is not None:
            try:
                grp.getgrnam(group)
            except KeyError:
                raise PydanticCustomError(
                    "group", f"no group named {group!r} on this machine"
                ) from None
        return group


class Metrics(Strict):
    """The daemon's metrics endpoint (what `nmsquota metrics` prints, over HTTP)."""

    listen: str | None = Field(
        default=None, description='the address to serve on, e.g. "127.0.0.1:9796"'
    )

    @field_validator("listen")
    @classmethod
    def _address(cls, listen: str | None) -> str | None:
        if listen is not None:
            host_and_port(listen)
        return listen


def host_and_port(listen: str) -> tuple[str, int]:
    """ "HOST:PORT" or "[IPv6]:PORT" -> (host, port); a PydanticCustomError saying what was
    expected otherwise (the loader adds the file and the key)."""
    host, colon, port = listen.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if (
        not colon
        or not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or (":" in host and not listen.startswith("["))
    ):
        raise PydanticCustomError(
            "address", f'expected HOST:PORT such as "127.0.0.1:9796" or "[::1]:9796" '
            f"(a port from 1 to 65535), got {listen!r}",
        )  # fmt: skip
    return host, int(port)


class Report(Strict):
    """The static site of usage pages (`nmsquota report site`, and the daemon when `site`
    is set): where it goes, the key of its page names, and the address it is served at."""

    site: Path | None = Field(
        default=None, description="the directory the daemon rewrites the site in each cycle"
    )
    # A reference only: the configuration file is often readable by every local user, and
    # whoever holds this key can name every subscriber's page.
    secret: SecretRef | None = Field(
        default=None, description='the key of the pages\' names: { secret = "NAME" }'
    )
    url: str | None = Field(
        default=None, pattern=r"^https?://", description="where DIR is served, for links"
    )


LEDGER_SCHEMES = ("postgresql://", "postgres://")
"""nmsquota.ledger.backends.SCHEMES (the configuration imports no ledger)."""


class LedgerPlace(Strict):
    """`[ledger]`: where the ledger is kept when not in TinyDB files in data_dir: a
    PostgreSQL database, which several POPs' daemons can share (issue 24)."""

    url: str | SecretRef | None = Field(
        default=None,
        description='postgresql://USER@HOST/DATABASE, or { secret = "NAME" } when it holds a '
        "password",
    )

    pop: Name | None = Field(
        default=None,
        description="this daemon's point of presence, where several POPs' daemons share the "
        "database ledger at url (each polls its own access servers)",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | SecretRef | None) -> str | SecretRef | None:
        if isinstance(url, str):
            _check_ledger_url(url, secret=False)
        return url

    @model_validator(mode="after")
    def _pop_needs_a_database(self) -> LedgerPlace:
        if self.pop is not None and self.url is None:
            raise PydanticCustomError(
                "ledger_pop",
                "several POPs share a ledger in PostgreSQL: pop needs url (a ledger in "
                "data_dir is one POP's)",
            )
        return self


def _check_ledger_url(url: str, *, secret: bool) -> None:
    """A postgresql:// URL (PydanticCustomError when not); one with a password only from
    the secrets file, since the configuration is often readable by every local user."""
    if not url.startswith(LEDGER_SCHEMES):
        raise PydanticCustomError(
            "ledger_url", f"expected a postgresql://USER@HOST/DATABASE URL, got {url[:40]!r}"
        )
    userinfo = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo and not secret:
        raise PydanticCustomError(
            "ledger_url",
            "this URL holds a password: put it in the secrets file and write url = "
            '{ secret = "NAME" } here, or keep the password in ~/.pgpass',
        )


MAX_POLL_WORKERS = 64
"""More poll worker processes than any machine this runs on has cores."""


class Settings(Strict):
    data_dir: Path | None = None
    ledger: LedgerPlace = LedgerPlace()
    default_plan: Name | None = Field(
        default=None, description="the plan of subscribers seen on the network but not listed"
    )
    notify: Notify = Notify()
    verify: Verify = Verify()
    timezone: str = "UTC"
    interval: Duration = 300
    projection: bool = Field(
        default=True,
        description="poll subscribers projected to cross their cap before the next cycle sooner",
    )
    poll_workers: int | str = Field(
        default=1,
        description='processes that poll: 1 (in this one), N, or "auto" (spread once a cycle '
        "saturates one core)",
    )
    secrets_file: Path | None = None
    plans: dict[Name, Plan] = {}
    subscribers: dict[Name, Subscriber] = {}
    access_servers: dict[Name, AccessServer] = {}
    drivers: dict[Name, Driver] = {}
    limitd: Limitd | None = None
    control: Control = Control()
    metrics: Metrics = Metrics()
    report: Report = Report()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", f"expected an IANA time zone such as Australia/Adelaide, got {zone!r}"
            ) from None
        return zone

    @field_validator("poll_workers", mode="before")
    @classmethod
    def _poll_workers(cls, workers: object) -> int | str:
        if workers == "auto" or (type(workers) is int and 1 <= workers <= MAX_POLL_WORKERS):
            return workers  # type: ignore[return-value]
        raise PydanticCustomError(
            "poll_workers",
            f'expected "auto" or a number of processes from 1 to {MAX_POLL_WORKERS}, '
            f"got {workers!r}",
        )

    @field_validator("interval")
    @classmethod
    def _interval(cls, interval: int) -> int:
        if interval < 10:
            raise PydanticCustomError("duration", "the polling interval must be 10s or more")
        return interval
