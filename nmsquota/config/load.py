"""Finding, reading and checking a configuration file: TOML and the secrets file in, a Config
(settings, the file they came from, the secrets they refer to) out, or one ConfigError
listing every problem with its file and key."""

from __future__ import annotations

import ipaddress
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nmsquota import driver_registry
from nmsquota.config.fields import SecretRef
from nmsquota.config.interfaces import map_problems, map_warnings
from nmsquota.config.places import default_data_dir
from nmsquota.config.settings import LEDGER_SCHEMES, Settings
from nmsquota.errors import UsageError
from nmsquota.problems import describe_problem
from nmsquota.units import format_duration
from nmsquota.usage import Tally


class ConfigError(UsageError):
    """One or more problems in a configuration file, each on its own line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


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

    @property
    def ledger_pop(self) -> str:
        """This daemon's point of presence on a shared ledger; "" where it is the only one."""
        return self.settings.ledger.pop or ""

    @property
    def ledger_location(self) -> Path | str:
        """Where the ledger is: `[ledger] url` (a database) if set, else data_dir."""
        url = self.secret(self.settings.ledger.url)
        return url if url else self.data_dir

    def tallies(self) -> list[Tally]:
        """The window totals the ledger must keep for these plans (each distinct one once)."""
        seen: dict[str, Tally] = {}
        for plan in self.settings.plans.values():
            for cap in plan.all_caps():
                tally = cap.tally(self.settings.timezone)
                seen.setdefault(tally.key, tally)
        return list(seen.values())

    def warnings(self) -> list[str]:
        """What is allowed but probably not meant, one `key: what` line each (config check
        prints them): a static interface entry that a pattern would map elsewhere."""
        return map_warnings(self.settings)

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


def load_config(path: str | Path, *, check_drivers: bool = True) -> Config:
    """The configuration at `path`, or ConfigError listing every problem in it.

    `check_drivers=False` leaves each driver's type and options unchecked: checking them
    loads the driver's module (and whatever it imports, pysnmp say), which a reader such as
    `status` or a check plugin never uses and must not wait for."""
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
        problems += _short_site_secret(settings, secrets, secrets_path)
        problems += _ledger_url_secret(settings, secrets, secrets_path)
    elif _secret_refs(settings):
        problems.append(
            "secrets_file: the configuration refers to secrets but names no secrets_file"
        )
    if not problems and check_drivers:
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
    if settings.report.site is not None and settings.report.secret is None:
        problems.append(
            "report.site: the site's page names need a key: secret = "
            '{ secret = "NAME" } under [report], NAME in the secrets file'
        )
    problems += _windows_within_interval(settings)
    problems += _shared_addresses(settings)
    problems += map_problems(settings)
    for name, subscriber in settings.subscribers.items():
        if subscriber.plan not in settings.plans:
            known = ", ".join(sorted(settings.plans)) or "none defined"
            problems.append(
                f"subscribers.{name}.plan: no plan named {subscriber.plan!r} (plans: {known})"
            )
    return problems


def _windows_within_interval(settings: Settings) -> list[str]:
    """A rolling window shorter than the polling interval would hold at most one sample, and
    be over before the next poll could tell whether its cap was reached."""
    problems = []
    interval = format_duration(settings.interval)
    for name, plan in settings.plans.items():
        for index, cap in enumerate(plan.all_caps()):
            where = f"plans.{name}.caps.{index}" if plan.caps else f"plans.{name}"
            if cap.period == "rolling" and cap.window < settings.interval:
                problems.append(
                    f"{where}.window: {format_duration(cap.window)} is shorter than the polling "
                    f"interval ({interval}): a window must be at least one interval long"
                )
    return problems


def _shared_addresses(settings: Settings) -> list[str]:
    """Two subscribers whose addresses overlap (the same address, or one inside the other's
    prefix): a limit on either would slow both, and sessions would be counted against
    whichever the driver found first. The drivers take each as a network (strict=False), so
    that is what is compared. Sorted and swept, not compared pairwise: thousands of
    subscribers are checked in a moment (two prefixes that overlap are always nested)."""
    Network = ipaddress.IPv4Network | ipaddress.IPv6Network
    found = sorted(
        ((network.version, int(network.network_address), network.prefixlen), name, address)
        for name, subscriber in settings.subscribers.items()
        for address in subscriber.addresses
        for network in [ipaddress.ip_network(address, strict=False)]
    )
    problems = []
    # The network seen so far that reaches furthest, with whose it is.
    widest: tuple[Network, str, str] | None = None
    for _, name, address in found:
        network: Network = ipaddress.ip_network(address, strict=False)
        if widest is not None and widest[0].version == network.version:
            other_network, other, other_address = widest
            if other != name and network.subnet_of(other_network):  # type: ignore[arg-type]
                where = "is also" if network == other_network else f"is inside {other_address},"
                problems.append(
                    f"subscribers.{name}.addresses: {address} {where} subscriber {other}'s "
                    f"address: an address belongs to one subscriber"
                )
        if (widest is None or widest[0].version != network.version
                or network.broadcast_address > widest[0].broadcast_address):  # fmt: skip
            widest = (network, name, address)
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
    if isinstance(settings.notify.trap_community, SecretRef):
        servers.append(("notify.trap_community", settings.notify.trap_community.secret))
    drivers = [
        (f"drivers.{name}.options.{key}", value["secret"])
        for name, driver in settings.drivers.items()
        for key, value in driver.options.items()
        if _is_secret_ref(value)
    ]
    if isinstance(settings.ledger.url, SecretRef):
        servers.append(("ledger.url", settings.ledger.url.secret))
    site = settings.report.secret
    return servers + drivers + ([("report.secret", site.secret)] if site is not None else [])


def _is_secret_ref(value: Any) -> bool:
    return (
        isinstance(value, dict) and list(value) == ["secret"] and isinstance(value["secret"], str)
    )


SHORTEST_SITE_SECRET = 16
"""nmsquota.report.names.SHORTEST_SECRET (the configuration imports no report)."""


def _ledger_url_secret(settings: Settings, secrets: dict[str, str], path: Path) -> list[str]:
    ref = settings.ledger.url
    if not isinstance(ref, SecretRef) or ref.secret not in secrets:
        return []
    if secrets[ref.secret].startswith(LEDGER_SCHEMES):
        return []
    return [f"ledger.url: the secret {ref.secret!r} in {path} is not a "
            "postgresql://USER:PASSWORD@HOST/DATABASE URL"]  # fmt: skip


def _short_site_secret(settings: Settings, secrets: dict[str, str], path: Path) -> list[str]:
    ref = settings.report.secret
    # A missing one is _missing_secrets' to say.
    if ref is None or ref.secret not in secrets or len(secrets[ref.secret]) >= SHORTEST_SITE_SECRET:
        return []
    return [
        f"report.secret: the secret {ref.secret!r} in {path} is shorter than "
        f"{SHORTEST_SITE_SECRET} characters: the site's page names could be guessed"
    ]


def _missing_secrets(settings: Settings, secrets: dict[str, str], path: Path) -> list[str]:
    return [
        f"{where}: no secret named {name!r} in {path}"
        for where, name in _secret_refs(settings)
        if name not in secrets
    ]
