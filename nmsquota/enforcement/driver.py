"""What an enforcement driver is: the paper's limit vocabulary (add, remove, list, clear) as
a Python interface, and how the configured ones are made (found by `type` through
nmsquota.driver_registry).

A driver turns "these subscribers are limited" into whatever its backend needs: nftables set
elements, HTB classes, ipfw pipes, a RADIUS CoA to the NAS. Adding a limit that is already
there, or removing one that is not, is silently fine (as in the paper), so a cycle can
always ask for what it wants. A driver that fails raises DriverError naming itself and the
subscribers it could not serve; the others in the batch are done all the same.
"""

from __future__ import annotations

import ipaddress
import string
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from nmsquota import driver_registry
from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.problems import describe_problem


@dataclass(frozen=True, order=True)
class Limit:
    """One subscriber to hold to `rate_bps`, with everything a backend might key on."""

    subscriber: str
    addresses: tuple[str, ...] = ()
    rate_bps: int = 3_000
    queue_bytes: int = 10_000
    access_server: str = ""
    interface: str = ""
    session: str = ""

    def describe(self) -> str:
        where = ", ".join(self.addresses) or self.interface or self.session or "no address"
        return f"{self.subscriber or '?'} ({where})"


class DriverError(NmsquotaError):
    """A driver that could not do (all of) what it was asked; names it and who was missed."""

    def __init__(self, driver: str, message: str, failed: Mapping[str, str] | None = None):
        self.driver = driver
        self.failed = dict(failed or {})
        shown = sorted(self.failed.items())[:5]
        details = "; ".join(f"{who}: {why}" if why else who for who, why in shown)
        if len(self.failed) > len(shown):
            details += f"; and {len(self.failed) - len(shown)} more"
        super().__init__(f"driver {driver!r}: {message}" + (f" ({details})" if details else ""))


class DriverOptionsError(UsageError):
    """A driver's options in the configuration are wrong: names the key and what was expected."""


class Options(BaseModel):
    """Base of every driver's options: unknown keys are errors, as everywhere in the config."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Driver(ABC):
    """The interface every driver implements, third-party ones too (registered in the
    entry-point group nmsquota.driver_registry.GROUP)."""

    type: ClassVar[str]
    options_model: ClassVar[type[Options]] = Options

    def __init__(self, name: str, options: Options) -> None:
        self.name = name
        self.options = options

    @abstractmethod
    def add(self, limits: Sequence[Limit]) -> None:
        """Limit these subscribers (at each Limit's rate; an existing limit changes rate in
        place, never with a gap). Already limited at that rate: nothing to do."""

    @abstractmethod
    def remove(self, limits: Sequence[Limit]) -> None:
        """Lift these limits; ones that are not installed are ignored."""

    @abstractmethod
    def installed(self) -> list[Limit]:
        """What the backend has installed now, as far as it can say (reconciliation)."""

    @abstractmethod
    def clear(self) -> None:
        """Lift every limit this driver installed, and nothing else."""

    def check(self) -> str:
        """A one-line health status; raises DriverError when the backend is not usable."""
        return f"{len(self.installed())} limits installed"

    def faults(self) -> list[str]:
        """What is missing of the driver's own setup, so that limits it lists as installed
        do not bite (rules flushed, a class deleted), one line each; empty when whole.
        Called every cycle, so it must be cheap. A driver with nothing beyond its limits
        (the default) has nothing to miss."""
        return []

    def repair(self, limits: Sequence[Limit]) -> None:
        """Put back what `faults` found missing and re-apply `limits` (the ones in force).
        By default adding them again, which a driver does with whatever setup they need."""
        self.add(limits)

    def keys(self, limit: Limit) -> list[Hashable]:
        """What one installed unit of this driver is, for comparing wanted with installed:
        by default an address (normalized), so a subscriber with two addresses is two."""
        return [normalize_address(a) for a in limit.addresses]

    def needs_addresses(self) -> bool:
        return True


TEMPLATE_FIELDS = ("subscriber", "address", "addresses", "rate", "rate_kbit", "queue",
                   "access_server", "interface", "session")  # fmt: skip
"""The placeholders a command or attribute template may use (exec, radius_coa)."""


def check_placeholders(templates: Iterable[str]) -> None:
    """Raise ValueError naming the first placeholder that is not in TEMPLATE_FIELDS."""
    for template in templates:
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None and name not in TEMPLATE_FIELDS:
                raise ValueError(f"unknown placeholder {{{name}}} "
                                 f"(expected one of: {', '.join(TEMPLATE_FIELDS)})")  # fmt: skip


def template_fields(limit: Limit, address: str) -> dict[str, str]:
    """A limit's values for TEMPLATE_FIELDS; `address` is the caller's choice of address."""
    return {
        "subscriber": limit.subscriber,
        "address": address,
        "addresses": ",".join(limit.addresses),
        "rate": str(limit.rate_bps),
        "rate_kbit": f"{limit.rate_bps / 1000:g}",
        "queue": str(limit.queue_bytes),
        "access_server": limit.access_server,
        "interface": limit.interface,
        "session": limit.session,
    }


def normalize_address(text: str) -> str:
    """ "10.0.0.1" and "10.0.0.1/32" are the same host; prefixes keep their length."""
    network = ipaddress.ip_network(text, strict=False)
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


@dataclass
class Command:
    """How a driver runs its backend's tool: locally, in a namespace, or through a prefix
    such as `ssh router`. Arguments are passed as a list, never through a shell."""

    prefix: Sequence[str] = ()
    driver: str = ""
    runner: Callable[..., subprocess.CompletedProcess[str]] = field(default=subprocess.run)
    timeout: float = 30.0

    def __call__(self, *args: str, input: str | None = None, check: bool = True) -> str:
        return self.result(*args, input=input, check=check).stdout

    def result(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """The finished process (stdout, stderr, status); raises only if `check`."""
        argv = [*self.prefix, *args]
        try:
            done = self.runner(
                argv, input=input, capture_output=True, text=True, timeout=self.timeout
            )
        except FileNotFoundError:
            raise DriverError(self.driver, f"{argv[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise DriverError(
                self.driver, f"{' '.join(argv)} took over {self.timeout:g}s"
            ) from None
        if check and done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            raise DriverError(
                self.driver,
                f"{' '.join(argv[: len(self.prefix) + 2])} failed: "
                + (" / ".join(message[:3]) or f"exit status {done.returncode}"),
            )
        return done


def apply_batch(
    driver: str,
    run: Callable[[list[str]], None],
    setup: list[str],
    per_limit: list[tuple[str, list[str]]],
) -> None:
    """Run a backend's commands as one batch (`run`); if the backend refuses it, run the
    setup and then each subscriber's commands alone, so one bad address costs only its own
    subscriber. Raises DriverError naming those that failed."""
    lines = setup + [line for _, chunk in per_limit for line in chunk]
    if not lines:
        return
    try:
        run(lines)
        return
    except DriverError:
        if len(per_limit) <= 1 and not setup:
            raise
    if setup:
        run(setup)
    failed = {}
    for subscriber, chunk in per_limit:
        if chunk:
            try:
                run(chunk)
            except DriverError as error:
                failed[subscriber or chunk[0]] = str(error).split(": ", 1)[-1]
    if failed:
        raise DriverError(driver, f"{len(failed)} of {len(per_limit)} not done", failed)


def command_prefix(namespace: str | None, prefix: Sequence[str]) -> list[str]:
    """`namespace = "NS"` is shorthand for `prefix = ["ip", "netns", "exec", "NS"]`."""
    return [*(["ip", "netns", "exec", namespace] if namespace else []), *prefix]


def make_driver(name: str, type_name: str, options: Mapping[str, Any]) -> Driver:
    """The driver `name` of `type_name` with these options (secrets already looked up);
    DriverOptionsError names each wrong option as `drivers.NAME.options.KEY`."""
    cls = driver_registry.driver_class(type_name)
    if not issubclass(cls, Driver):
        raise driver_registry.DriverTypeError(
            f"driver type {type_name!r} ({cls.__module__}.{cls.__qualname__}) is not a "
            "subclass of nmsquota.enforcement.driver.Driver"
        )
    try:
        parsed = cls.options_model.model_validate(dict(options))
    except ValidationError as error:
        lines = [
            describe_problem(item, cls.options_model, f"drivers.{name}.options.")
            for item in error.errors()
        ]
        raise DriverOptionsError("\n".join(lines)) from None
    return cls(name, parsed)


def make_drivers(configured: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[Driver]:
    """The drivers configured as (name, type, options) triples, in order; the `log` driver
    alone when there are none, so that a new install changes nothing in the network."""
    drivers = [make_driver(name, type_name, options) for name, type_name, options in configured]
    return drivers or [make_driver("log", "log", {})]
