"""The `sim` enforcement driver: limits land in the simulated world, whose limited
subscribers then download at the limited rate (the demo's and the simulator's feedback)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from nmsquota.enforcement.driver import Driver, Limit, Options
from nmsquota.sim.world import World


class SimDriver(Driver):
    type = "sim"

    def __init__(self, world: World, name: str = "sim", active_from: float = 0.0) -> None:
        super().__init__(name, Options())
        self.world = world
        self.active_from = active_from
        """Before this simulated time nothing is limited (the simulator's "before" days)."""
        self.events: list[tuple[float, str, str]] = []
        """(simulated time, subscriber, "limited" or "released")."""

    def add(self, limits: Sequence[Limit]) -> None:
        if self.world.now < self.active_from:
            return
        for limit in limits:
            self.world.limit(limit.subscriber, limit.rate_bps)
            self.events.append((self.world.now, limit.subscriber, "limited"))

    def remove(self, limits: Sequence[Limit]) -> None:
        for limit in limits:
            self.world.limit(limit.subscriber, None)
            self.events.append((self.world.now, limit.subscriber, "released"))

    def installed(self) -> list[Limit]:
        return [
            Limit(s.name, (s.address,), rate_bps=s.limited_bps)
            for s in self.world.subscribers
            if s.limited_bps is not None
        ]

    def clear(self) -> None:
        self.remove(self.installed())

    def keys(self, limit: Limit) -> list[Hashable]:
        return [limit.subscriber]

    def needs_addresses(self) -> bool:
        return False
