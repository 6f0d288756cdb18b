"""`log`: records what it would do and touches nothing. The default, so that a new install
changes nothing in the network until the operator configures a real driver."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence

from nmsquota.enforcement.driver import Driver, Limit, Options
from nmsquota.units import format_rate

log = logging.getLogger("nmsquota.drivers.log")


class LogDriver(Driver):
    type = "log"

    def __init__(self, name: str, options: Options) -> None:
        super().__init__(name, options)
        self._limits: dict[str, Limit] = {}

    def add(self, limits: Sequence[Limit]) -> None:
        for limit in limits:
            if self._limits.get(limit.subscriber) != limit:
                log.info("%s: would limit %s to %s", self.name, limit.describe(),
                         format_rate(limit.rate_bps))  # fmt: skip
                self._limits[limit.subscriber] = limit

    def remove(self, limits: Sequence[Limit]) -> None:
        for limit in limits:
            if self._limits.pop(limit.subscriber, None) is not None:
                log.info("%s: would lift the limit on %s", self.name, limit.describe())

    def installed(self) -> list[Limit]:
        return sorted(self._limits.values())

    def clear(self) -> None:
        if self._limits:
            log.info("%s: would lift all %d limits", self.name, len(self._limits))
        self._limits.clear()

    def keys(self, limit: Limit) -> list[Hashable]:
        # Keyed by subscriber: it needs no addresses to say what it would do.
        return [limit.subscriber]

    def needs_addresses(self) -> bool:
        return False
