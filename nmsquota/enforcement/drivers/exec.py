"""`exec`: runs command templates for anything no other driver covers.

Each template is a list of arguments; placeholders in them are filled from the limit and the
command runs directly, never through a shell, so a value can never become shell syntax:

    options = { add = ["/usr/local/sbin/shape", "on", "{address}", "{rate}"],
                remove = ["/usr/local/sbin/shape", "off", "{address}"],
                per_address = true }

Placeholders: {subscriber} {address} {addresses} (comma-separated) {rate} (bit/s)
{rate_kbit} {queue} (bytes) {access_server} {interface} {session}. With `installed`, that
command prints one installed limit per line, "SUBSCRIBER [RATE]" (or "ADDRESS [RATE]" with
per_address); without it, the driver remembers what it ran since it started. `add` also
runs when a limited subscriber moves to another rate (a cap's next step): the command must
change the limit in place, not lift it first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from pydantic import Field, field_validator

from nmsquota.enforcement.driver import (
    Command,
    Driver,
    DriverError,
    Limit,
    Options,
    check_placeholders,
    template_fields,
)


class ExecOptions(Options):
    add: list[str] = Field(min_length=1)
    remove: list[str] = Field(min_length=1)
    installed: list[str] | None = None
    clear: list[str] | None = None
    per_address: bool = False
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("add", "remove", "installed", "clear")
    @classmethod
    def _placeholders(cls, template: list[str] | None) -> list[str] | None:
        check_placeholders(template or [])
        return template


class ExecDriver(Driver):
    type = "exec"
    options_model = ExecOptions
    options: ExecOptions

    def __init__(self, name: str, options: ExecOptions) -> None:
        super().__init__(name, options)
        self.run = Command(driver=name, timeout=options.timeout)
        self._ran: dict[Hashable, Limit] = {}

    def _units(self, limit: Limit) -> list[tuple[Hashable, dict[str, str]]]:
        if not self.options.per_address:
            return [(limit.subscriber, template_fields(limit, ",".join(limit.addresses)))]
        return [(address, template_fields(limit, address)) for address in limit.addresses]

    def _each(self, template: list[str], limits: Sequence[Limit], adding: bool) -> None:
        failed = {}
        for limit in limits:
            for key, fields in self._units(limit):
                try:
                    self.run(*(argument.format_map(fields) for argument in template))
                except DriverError as error:
                    failed[limit.subscriber] = str(error).split(": ", 1)[-1]
                    continue
                if adding:
                    self._ran[key] = limit
                else:
                    self._ran.pop(key, None)
        if failed:
            raise DriverError(self.name, f"{len(failed)} of {len(limits)} not done", failed)

    def add(self, limits: Sequence[Limit]) -> None:
        self._each(self.options.add, limits, adding=True)

    def remove(self, limits: Sequence[Limit]) -> None:
        self._each(self.options.remove, limits, adding=False)

    def installed(self) -> list[Limit]:
        if self.options.installed is None:
            return sorted(set(self._ran.values()))
        limits = []
        for line in self.run(*self.options.installed).splitlines():
            words = line.split()
            if not words:
                continue
            rate = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            if self.options.per_address:
                limits.append(Limit("", (words[0],), rate_bps=rate))
            else:
                limits.append(Limit(words[0], rate_bps=rate))
        return limits

    def clear(self) -> None:
        if self.options.clear is not None:
            self.run(*self.options.clear)
        else:
            self.remove(sorted(set(self._ran.values())))
        self._ran.clear()

    def keys(self, limit: Limit) -> list[Hashable]:
        if self.options.per_address:
            return super().keys(limit)
        return [limit.subscriber]

    def needs_addresses(self) -> bool:
        return self.options.per_address
