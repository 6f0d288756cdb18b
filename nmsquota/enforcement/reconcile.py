"""Reconciliation: the ledger says who should be limited, the driver says who is; fix the
difference, and say so when the difference was not of nmsquota's making.

Run on start and every cycle. A limit deleted by hand comes back, a stale one goes, and a
driver restart or a router reboot heals by itself on the next cycle. `plan` is pure; the
Enforcer applies a plan through one driver and remembers what it believes is installed, so
that it can tell drift (something changed behind its back) from ordinary changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nmsquota.enforcement.driver import Driver, DriverError, Limit

T = TypeVar("T")

log = logging.getLogger("nmsquota.enforcement")


@dataclass
class Plan:
    add: list[Limit] = field(default_factory=list)
    """Wanted and missing, or installed at another rate."""
    remove: list[Limit] = field(default_factory=list)
    """Installed and not wanted."""
    unenforceable: list[Limit] = field(default_factory=list)
    """Wanted, but this driver has nothing to key them on (no address known)."""
    drift: list[str] = field(default_factory=list)
    """What changed outside nmsquota, one line each."""
    drifted: list[Limit] = field(default_factory=list)
    """The limits that drift is about: wanted ones found missing, unwanted ones found."""


def plan(
    wanted: Sequence[Limit],
    installed: Sequence[Limit],
    keys: Callable[[Limit], list[Hashable]],
    believed: set[Hashable] | None = None,
) -> Plan:
    """What to do so that `installed` becomes `wanted`.

    `believed` is what this process installed last cycle (None on start): a believed key
    that is missing was removed by someone else; an installed key that is neither wanted
    nor believed was put there by someone else (or by a run before a restart).
    """
    result = Plan()
    have: dict[Hashable, Limit] = {}
    for limit in installed:
        for key in keys(limit):
            have[key] = limit
    want: dict[Hashable, Limit] = {}
    for limit in wanted:
        limit_keys = keys(limit)
        if not limit_keys:
            result.unenforceable.append(limit)
            continue
        for key in limit_keys:
            want[key] = limit
        missing = [k for k in limit_keys if k not in have]
        # An installed rate of 0 is one the backend cannot report: not a difference.
        other_rate = [
            k for k in limit_keys if k in have and have[k].rate_bps not in (0, limit.rate_bps)
        ]
        if missing or other_rate:
            result.add.append(limit)
        for key in missing:
            if believed is not None and key in believed:
                result.drift.append(f"limit on {limit.subscriber} [{key}] was missing: reinstalled")
                result.drifted.append(limit)
    stale: dict[int, Limit] = {}
    for key, limit in have.items():
        if key not in want:
            stale[id(limit)] = limit
            if believed is None:
                result.drift.append(
                    f"limit on {limit.describe()} found at start, not wanted: lifted"
                )
                result.drifted.append(limit)
            elif key not in believed:
                result.drift.append(f"limit on {limit.describe()} not made by nmsquota: lifted")
                result.drifted.append(limit)
    result.remove = list(stale.values())
    return result


@dataclass(frozen=True)
class Drifting:
    """Drift that is still there or still being found: kept from the cycle that first found
    it until one finds none and has nothing of it left to put right, so an operator who
    looks between cycles still sees it, and sees a fight with another tool as one."""

    since: float | None
    """When it was first found (the time the daemon gave that cycle)."""
    cycles: int
    """Reconciliations in a row that found it or could not put it right."""
    lines: tuple[str, ...]
    """What the last of them found."""


@dataclass
class Outcome:
    """One cycle of one driver: what was done, what failed, what drifted."""

    driver: str
    added: list[Limit] = field(default_factory=list)
    removed: list[Limit] = field(default_factory=list)
    unenforceable: list[Limit] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drifting: Drifting | None = None
    """Drift kept across cycles until put right (see Drifting); None: none."""


class Enforcer:
    """Keeps one driver's installed limits equal to the wanted ones, cycle after cycle."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.believed: set[Hashable] | None = None
        self._unaddressed: set[str] = set()
        self.drifting: Drifting | None = None
        self._unrepaired: set[str] = set()
        """Subscribers whose drift was found and whose repair failed."""

    def cycle(self, wanted: Sequence[Limit], now: float | None = None) -> Outcome:
        """One reconciliation at `now` (the daemon's clock: when drift was first found)."""
        outcome = Outcome(self.driver.name, drifting=self.drifting)
        try:
            installed = self._call(self.driver.installed)
        except DriverError as error:
            # Cannot see the backend: change nothing, try again next cycle.
            outcome.errors.append(str(error))
            log.error("%s", error)
            return outcome
        faults = self._faults(outcome)
        todo = plan(wanted, installed, self.driver.keys, self.believed)
        outcome.unenforceable = todo.unenforceable
        outcome.drift = todo.drift
        for line in todo.drift:
            log.warning("%s: %s", self.driver.name, line)
        # Said once per subscriber, not every cycle, until an address turns up.
        unaddressed = {limit.subscriber for limit in todo.unenforceable}
        for name in sorted(unaddressed - self._unaddressed):
            log.warning("%s: cannot limit %s: no address known", self.driver.name, name)
        self._unaddressed = unaddressed
        failed: set[str] = set()
        for action, limits, done in (
            (self.driver.remove, todo.remove, outcome.removed),
            (self.driver.add, todo.add, outcome.added),
        ):
            if not limits:
                continue
            try:
                self._call(action, limits)
            except DriverError as error:
                outcome.errors.append(str(error))
                log.error("%s", error)
                failed |= set(error.failed) if error.failed else {lim.subscriber for lim in limits}
            done.extend(limit for limit in limits if limit.subscriber not in failed)
        if faults:
            in_force = [lim for lim in wanted
                        if self.driver.keys(lim) and lim.subscriber not in failed]  # fmt: skip
            self._repair(faults, in_force, outcome)
        # Drift whose repair failed is not found again (a failed limit is not believed):
        # it is kept while its subscriber keeps failing.
        self._unrepaired = {lim.subscriber for lim in todo.drifted} | self._unrepaired
        self._unrepaired &= failed
        self.drifting = outcome.drifting = self._drifting(outcome.drift, now)
        # What is believed installed now: the wanted limits that did not fail. A failed one
        # is not believed, so its absence next cycle is not reported as drift again.
        self.believed = {
            key
            for limit in wanted
            if limit.subscriber not in failed
            for key in self.driver.keys(limit)
        }
        return outcome

    def _faults(self, outcome: Outcome) -> list[str]:
        """What the driver says is missing of its own setup (rules flushed, say): the
        limits it lists do not bite. Asked every cycle, before anything is changed."""
        try:
            return self._call(self.driver.faults)
        except DriverError as error:
            outcome.errors.append(str(error))
            log.error("%s", error)
            return []

    def _repair(self, faults: list[str], limits: list[Limit], outcome: Outcome) -> None:
        """Reinstall the driver's setup and re-apply the limits in force; then ask again,
        so a repair that did not take is an error (the driver is failing), not drift."""
        found = "; ".join(faults)
        log.warning("%s: %s: reinstalling its rules", self.driver.name, found)
        try:
            self._call(self.driver.repair, limits)
            left = self._call(self.driver.faults)
        except DriverError as error:
            left = [str(error)]
        outcome.drift.append(f"{found}: rules reinstalled, limits re-applied"
                             if not left else f"{found}: repair failed")  # fmt: skip
        if left:
            failed = f"driver {self.driver.name!r}: rules missing, repair failed: {'; '.join(left)}"
            outcome.errors.append(failed)
            log.error("%s", failed)
        else:
            log.warning("%s: rules reinstalled, limits in force re-applied (%d)",
                        self.driver.name, len(limits))  # fmt: skip

    def _drifting(self, found: list[str], now: float | None) -> Drifting | None:
        """The drift kept after this cycle: started, counted on, or put right."""
        before = self.drifting
        if not found and not self._unrepaired:
            if before is not None:
                log.info("%s: drift put right after %d cycles", self.driver.name, before.cycles)
            return None
        if before is None:
            return Drifting(now, 1, tuple(found))
        return Drifting(before.since, before.cycles + 1, tuple(found) or before.lines)

    def _call(self, action: Callable[..., T], *args: Any) -> T:
        """A driver call; a driver's own bug (any other exception) becomes a DriverError, so
        one plugin that breaks costs its limits, not the cycle's commit or the daemon."""
        try:
            return action(*args)
        except DriverError:
            raise
        except Exception as error:
            log.exception("%s: unexpected error", self.driver.name)
            raise DriverError(self.driver.name, f"unexpected {type(error).__name__}: {error}",
                              {limit.subscriber: "" for limit in args[0]} if args else None,
                              ) from error  # fmt: skip
