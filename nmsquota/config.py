"""The configuration file: TOML in, typed and validated settings out.

Validation is strict: an unknown key, a bad unit, a missing field or a reference to something
that does not exist fails with the file, the key path and what was expected (ConfigError,
exit status 2). Secrets (SNMP communities, driver keys) may live in a separate file that must
not be readable by group or others.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from nmsquota import driver_registry, units
from nmsquota.errors import UsageError
from nmsquota.problems import describe_problem
from nmsquota.usage import SUBSCRIBER_NAME, FreeHours, Monthly, Tally

ENV_CONFIG = "NMSQUOTA_CONFIG"
SYSTEM_CONFIG = Path("/etc/nmsquota/nmsquota.toml")
SYSTEM_DATA_DIR = Path("/var/lib/nmsquota")


class ConfigError(UsageError):
    """One or more problems in a configuration file, each on its own line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def _unit(parse: Callable[[str | int], int], kind: str) -> BeforeValidator:
    def validate(value: Any) -> int:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise PydanticCustomError(kind, f"expected a {kind} as a string, got {value!r}")
        try:
            return parse(value)
        except units.UnitError as error:
            raise PydanticCustomError(kind, str(error)) from None

    return BeforeValidator(validate)


def _percent(value: Any) -> float:
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    number = text[:-1] if text.endswith("%") else ""
    try:
        result = float(number)
    except ValueError:
        raise PydanticCustomError(
            "percent", f'expected a percentage such as "80%", got {value!r}'
        ) from None
    if not 0 < result <= 1000:
        raise PydanticCustomError("percent", f"expected a positive percentage, got {value!r}")
    return result


Percent = Annotated[float, BeforeValidator(_percent)]


def _under_100(margin: float) -> float:
    if margin >= 100:
        raise PydanticCustomError("percent", "a hysteresis margin must be under 100%")
    return margin


Margin = Annotated[float, BeforeValidator(_percent), AfterValidator(_under_100)]
"""A hysteresis margin: a percentage under 100%."""
Size = Annotated[int, _unit(units.parse_size, "size")]
Rate = Annotated[int, _unit(units.parse_rate, "rate")]
Duration = Annotated[int, _unit(units.parse_duration, "duration")]
Name = Annotated[str, Field(pattern=rf"^{SUBSCRIBER_NAME}$", max_length=253)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class SecretRef(Strict):
    """`{ secret = "name" }`: the value is looked up in the secrets file."""

    secret: str


class LimitProfile(Strict):
    """What a limited subscriber gets: the paper's 3 kbit/s pipe with a 10 KB queue."""

    rate: Rate = 3_000
    queue: Size = 10_000


class Step(Strict):
    """A graded limit before the cap: from `at` percent of it, this rate."""

    at: Percent
    rate: Rate
    queue: Size | None = Field(default=None, description="default: the cap's limit's queue")
    hysteresis: Margin | None = Field(
        default=None, description="lift this step only below its threshold less this"
    )

    @field_validator("at")
    @classmethod
    def _before_the_cap(cls, at: float) -> float:
        if at >= 100:
            raise PydanticCustomError(
                "percent",
                "a step comes before the cap: under 100% (the cap's own limit is the last step)",
            )
        return at


class Cap(Strict):
    """One cap of a plan: so many bytes over a window (or a calendar month), else a limit."""

    cap: Size
    window: Duration = 7 * 86400
    period: Literal["rolling", "monthly"] = Field(
        default="rolling",
        description="the last `window` (rolling), or the calendar month from reset_day",
    )
    reset_day: int = Field(default=1, ge=1, le=28, description="monthly: the day it starts")
    direction: Literal["download", "upload", "both"] = "download"
    free_hours: str | None = Field(
        default=None, description='off-peak hours that do not count, "HH:MM-HH:MM" local time'
    )
    limit: LimitProfile = LimitProfile()
    hysteresis: Margin | None = Field(
        default=None, description='lift a limit only below the cap less this, e.g. "5%"'
    )
    warn_at: list[Percent] = Field(
        default=[], description='notify when usage crosses these, e.g. ["80%", "100%"]'
    )
    name: str | None = Field(
        default=None, description='what status calls it (default: "1d", "30d", "monthly")'
    )
    steps: list[Step] = Field(
        default=[], description='limits before the cap: [{ at = "80%", rate = "50Mbit" }]'
    )

    @field_validator("steps")
    @classmethod
    def _distinct_steps(cls, steps: list[Step]) -> list[Step]:
        seen: set[float] = set()
        for step in steps:
            if step.at in seen:
                raise PydanticCustomError(
                    "steps", f"two steps at {step.at:g}%: each step needs its own threshold"
                )
            seen.add(step.at)
        return sorted(steps, key=lambda step: step.at)

    @field_validator("window")
    @classmethod
    def _positive_window(cls, window: int) -> int:
        if window <= 0:
            raise PydanticCustomError("duration", "a window must be longer than 0s")
        return window

    @field_validator("free_hours")
    @classmethod
    def _hours(cls, text: str | None) -> str | None:
        if text is not None:
            _parse_free_hours(text)
        return text

    @model_validator(mode="after")
    def _period(self) -> Cap:
        if self.period == "monthly" and "window" in self.model_fields_set:
            raise PydanticCustomError("period", "a monthly plan has no window (it is the month)")
        if self.period == "rolling" and "reset_day" in self.model_fields_set:
            raise PydanticCustomError("period", 'reset_day is for period = "monthly"')
        return self

    @property
    def label(self) -> str:
        """Its name, or what it counts over: "1d", "30d upload", "monthly"."""
        if self.name:
            return self.name
        span = "monthly" if self.period == "monthly" else units.format_duration(self.window)
        return span if self.direction == "download" else f"{span} {self.direction}"

    @property
    def span(self) -> str:
        """What two caps of a plan may not share: the same window (or month) and direction."""
        length = self.reset_day if self.period == "monthly" else self.window
        return f"{self.period} {length} {self.direction}"

    def tally(self, timezone: str) -> Tally:
        free = None
        if self.free_hours:
            start, end = _parse_free_hours(self.free_hours)
            free = FreeHours(start, end, timezone)
        if self.period == "monthly":
            # The window is only nominal here (the longest month); the period sets the edge.
            return Tally(31 * 86400, free, Monthly(self.reset_day, timezone))
        return Tally(self.window, free)


# A plan's own keys that describe its one cap: with [[plans.X.caps]] they belong there.
# free_hours may stay on the plan, for every cap that does not set its own.
ONE_CAP_KEYS = tuple(key for key in Cap.model_fields if key != "free_hours")


class Plan(Cap):
    """A plan: one cap given by its own keys (the paper's "63 MB a week, then 3 kbit/s"), or
    several in `[[plans.NAME.caps]]` ("5 GB a day, else 10 Mbit/s" and "100 GB in 30 days,
    else 1 Mbit/s"): the strictest limit among the caps exceeded applies. `free_hours` on
    the plan applies to each of its caps that does not set its own."""

    cap: Size | None = None  # type: ignore[assignment]
    caps: list[Cap] = Field(default=[], description="several caps, each with its own limit")

    @model_validator(mode="after")
    def _caps(self) -> Plan:
        if self.caps:
            mixed = [key for key in ONE_CAP_KEYS if key in self.model_fields_set]
            if mixed:
                raise PydanticCustomError(
                    "caps", f"a plan with [[caps]] keeps {mixed[0]} in each cap, not beside them"
                )
            seen: dict[str, str] = {}
            for index, cap in enumerate(self.caps):
                key = cap.span
                if key in seen:
                    raise PydanticCustomError(
                        "caps",
                        f"caps.{seen[key]} and caps.{index} count the same window and "
                        f"direction ({cap.label}): one of them would never matter",
                    )
                seen[key] = str(index)
            labels = [cap.label for cap in self.all_caps()]
            if len(set(labels)) != len(labels):
                raise PydanticCustomError("caps", f"two caps share a name: {labels}")
        elif self.cap is None:
            raise PydanticCustomError("caps", 'a plan needs a cap (cap = "63MB"), or [[caps]]')
        return self

    def all_caps(self) -> list[Cap]:
        """The plan's caps, the one-cap form included; free hours inherited."""
        if not self.caps:
            # Already validated, as the plan's own keys: copied, not parsed again.
            values = {key: getattr(self, key) for key in Cap.model_fields}
            return [Cap.model_construct(_fields_set=self.model_fields_set & set(values), **values)]
        return [
            cap if cap.free_hours or not self.free_hours
            else cap.model_copy(update={"free_hours": self.free_hours})
            for cap in self.caps
        ]  # fmt: skip

    def tally(self, timezone: str) -> Tally:
        """The first cap's window (a one-cap plan's only one)."""
        return self.all_caps()[0].tally(timezone)


def _parse_free_hours(text: str) -> tuple[int, int]:
    try:
        start_text, end_text = text.split("-")
        start, end = (_minutes(part) for part in (start_text, end_text))
    except ValueError:
        raise PydanticCustomError(
            "hours", f'expected off-peak hours as "HH:MM-HH:MM" (e.g. "00:00-06:00"), got {text!r}'
        ) from None
    if start == end:
        raise PydanticCustomError("hours", f"off-peak hours {text!r} are empty")
    return start, end


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 24 or int(minutes) > 59 or value > 24 * 60:
        raise ValueError(text)
    return value


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
            compiled = re.compile(pattern)
        except re.error as error:
            raise PydanticCustomError("pattern", f"not a regular expression: {error}") from None
        if "user" not in compiled.groupindex:
            raise PydanticCustomError(
                "pattern", f"{pattern!r} needs a (?P<user>...) group naming the subscriber"
            )
        return pattern


class AccessServer(Strict):
    """An SNMP agent to poll, and how its interfaces map to subscribers."""

    host: str
    port: int = Field(default=161, ge=1, le=65535)
    source: Literal["if-mib", "accel-ppp", "cisco-csub"] = Field(
        default="if-mib",
        description=(
            "interface counters; accel-ppp's per-session table; or interface counters named "
            "by Cisco's csubSessionTable"
        ),
    )
    version: Literal["1", "2c", "3"] = "2c"
    community: str | SecretRef | None = None
    timeout: Duration = 2
    retries: int = Field(default=1, ge=0, le=10)
    deadline: Duration = 30
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
        default={}, description="static table: interface name -> subscriber"
    )
    # SNMPv3 (USM): noAuthNoPriv with just a user, authNoPriv with auth, authPriv with both.
    user: str | None = None
    auth: Literal["none", "md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "none"
    auth_key: str | SecretRef | None = None
    priv: Literal["none", "des", "aes", "aes192", "aes256"] = "none"
    priv_key: str | SecretRef | None = None

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
    """Where warnings and limit changes go: a command (run without a shell) and a webhook."""

    command: list[str] = Field(
        default=[], description='e.g. ["/usr/local/bin/tell", "{subscriber}", "{event}"]'
    )
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    timeout: Duration = 10

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


class Settings(Strict):
    data_dir: Path | None = None
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
    secrets_file: Path | None = None
    plans: dict[Name, Plan] = {}
    subscribers: dict[Name, Subscriber] = {}
    access_servers: dict[Name, AccessServer] = {}
    drivers: dict[Name, Driver] = {}
    limitd: Limitd | None = None
    control: Control = Control()

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

    @field_validator("interval")
    @classmethod
    def _interval(cls, interval: int) -> int:
        if interval < 10:
            raise PydanticCustomError("duration", "the polling interval must be 10s or more")
        return interval


class Config:
    """Validated settings, with the file they came from and the secrets they refer to."""

    def __init__(self, path: Path, settings: Settings, secrets: dict[str, str]) -> None:
        self.path = path
        self.settings = settings
        self._secrets = secrets

    @property
    def data_dir(self) -> Path:
        if self.settings.data_dir is not None:
            return self.settings.data_dir
        return default_data_dir()

    def tallies(self) -> list[Tally]:
        """The window totals the ledger must keep for these plans (each distinct one once)."""
        seen: dict[str, Tally] = {}
        for plan in self.settings.plans.values():
            for cap in plan.all_caps():
                tally = cap.tally(self.settings.timezone)
                seen.setdefault(tally.key, tally)
        return list(seen.values())

    def secret(self, value: str | SecretRef | None) -> str | None:
        if isinstance(value, SecretRef):
            return self._secrets[value.secret]
        return value

    def driver_options(self, name: str) -> dict[str, Any]:
        """A driver's options with `{ secret = "name" }` values looked up."""
        options = self.settings.drivers[name].options
        return {
            key: self._secrets.get(value["secret"], "") if _is_secret_ref(value) else value
            for key, value in options.items()
        }

    def configured_driver(self, name: str) -> tuple[str, str, dict[str, Any]]:
        """`[drivers.NAME]` as (name, type, options with secrets looked up): the plain values
        nmsquota.enforcement.driver.make_driver builds a driver from."""
        return name, self.settings.drivers[name].type, self.driver_options(name)

    def configured_drivers(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every `[drivers.NAME]` as configured_driver gives it, in the file's order (what
        make_drivers takes)."""
        return [self.configured_driver(name) for name in self.settings.drivers]

    def subscriber_records(self) -> list[dict[str, Any]]:
        return [
            {"name": name, **subscriber.model_dump()}
            for name, subscriber in sorted(self.settings.subscribers.items())
        ]

    def plan_records(self) -> list[dict[str, Any]]:
        return [
            {"name": name, **plan.model_dump()}
            for name, plan in sorted(self.settings.plans.items())
        ]


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return SYSTEM_DATA_DIR
    return Path(platformdirs.user_data_dir("nmsquota"))


def config_search_path() -> list[Path]:
    """Where nmsquota looks for its configuration when --config is not given, in order."""
    paths = []
    if os.environ.get(ENV_CONFIG):
        paths.append(Path(os.environ[ENV_CONFIG]))
    paths.append(Path(platformdirs.user_config_dir("nmsquota")) / "nmsquota.toml")
    paths.append(SYSTEM_CONFIG)
    return paths


def find_config() -> Path | None:
    return next((path for path in config_search_path() if path.exists()), None)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    raw = _read_toml(path, what="configuration file")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(
            path, [describe_problem(item, Settings) for item in error.errors()]
        ) from None
    problems = _cross_check(settings)
    secrets: dict[str, str] = {}
    if settings.secrets_file is not None:
        secrets_path = settings.secrets_file
        if not secrets_path.is_absolute():
            secrets_path = path.parent / secrets_path
        secrets = load_secrets(secrets_path)
        problems += _missing_secrets(settings, secrets, secrets_path)
    elif _secret_refs(settings):
        problems.append(
            "secrets_file: the configuration refers to secrets but names no secrets_file"
        )
    if not problems:
        problems += _driver_problems(Config(path, settings, secrets))
    if problems:
        raise ConfigError(path, problems)
    return Config(path, settings, secrets)


def _driver_problems(config: Config) -> list[str]:
    """Each driver's type must be registered and its options suit it (checked by the
    driver's own options model, which the registry hands out), so `config check` catches
    them before the daemon starts."""
    problems = []
    for name, driver in config.settings.drivers.items():
        try:
            model = driver_registry.options_model(driver.type)
        except UsageError as error:
            problems.append(f"drivers.{name}.type: {error}")
            continue
        try:
            model.model_validate(config.driver_options(name))
        except ValidationError as error:
            problems += [
                describe_problem(item, model, f"drivers.{name}.options.") for item in error.errors()
            ]
    return problems


def load_secrets(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(path, ["secrets file does not exist"]) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            path,
            [
                f"secrets file is open to group or others (mode {stat.filemode(mode)}); "
                f"nmsquota refuses to use it: run chmod 600 {path}"
            ],
        )
    raw = _read_toml(path, what="secrets file")
    bad = [key for key, value in raw.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(path, [f"{key}: expected a string secret" for key in bad])
    return raw


def _read_toml(path: Path, *, what: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, [f"{what} does not exist"]) from None
    except OSError as error:
        raise ConfigError(path, [f"cannot read the {what}: {error.strerror}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [f"not valid TOML: {error}"]) from None


def _cross_check(settings: Settings) -> list[str]:
    problems = []
    if settings.default_plan is not None and settings.default_plan not in settings.plans:
        known = ", ".join(sorted(settings.plans)) or "none defined"
        problems.append(f"default_plan: no plan named {settings.default_plan!r} (plans: {known})")
    if settings.limitd is not None and settings.limitd.driver not in settings.drivers:
        known = ", ".join(sorted(settings.drivers)) or "none defined"
        problems.append(
            f"limitd.driver: no driver named {settings.limitd.driver!r} (drivers: {known})"
        )
    for name, subscriber in settings.subscribers.items():
        if subscriber.plan not in settings.plans:
            known = ", ".join(sorted(settings.plans)) or "none defined"
            problems.append(
                f"subscribers.{name}.plan: no plan named {subscriber.plan!r} (plans: {known})"
            )
    return problems


def _secret_refs(settings: Settings) -> list[tuple[str, str]]:
    servers = [
        (f"access_servers.{name}.{key}", value.secret)
        for name, server in settings.access_servers.items()
        for key in ("community", "auth_key", "priv_key")
        if isinstance(value := getattr(server, key), SecretRef)
    ]
    if settings.limitd is not None and isinstance(settings.limitd.secret, SecretRef):
        servers.append(("limitd.secret", settings.limitd.secret.secret))
    drivers = [
        (f"drivers.{name}.options.{key}", value["secret"])
        for name, driver in settings.drivers.items()
        for key, value in driver.options.items()
        if _is_secret_ref(value)
    ]
    return servers + drivers


def _is_secret_ref(value: Any) -> bool:
    return (
        isinstance(value, dict) and list(value) == ["secret"] and isinstance(value["secret"], str)
    )


def _missing_secrets(settings: Settings, secrets: dict[str, str], path: Path) -> list[str]:
    return [
        f"{where}: no secret named {name!r} in {path}"
        for where, name in _secret_refs(settings)
        if name not in secrets
    ]
