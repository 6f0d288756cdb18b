"""The configured drivers, each behind its reconciling Enforcer, kept across a reload where
the driver did not change."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from nmsquota.enforcement.driver import Driver
from nmsquota.enforcement.reconcile import Drifting, Enforcer
from nmsquota.ledger.records import HealthRecord

log = logging.getLogger("nmsquota.daemon")


def reload_enforcers(old: Iterable[Enforcer], drivers: Sequence[Driver]) -> list[Enforcer]:
    """Enforcers for `drivers`, keeping those whose driver is unchanged (and with them what
    they know was installed). A driver dropped from the configuration, or pointed elsewhere
    (another namespace, another router): what it installed is no longer anyone's to lift,
    so it is lifted now."""
    previous = {e.driver.name: e for e in old}
    enforcers = []
    for driver in drivers:
        kept = previous.pop(driver.name, None)
        if kept is not None and _same_driver(kept.driver, driver):
            enforcers.append(kept)
        else:
            if kept is not None:
                previous[driver.name] = kept  # changed: cleared below, like one removed
            enforcers.append(Enforcer(driver))
    for gone in previous.values():
        try:
            gone.driver.clear()
            log.info("driver %s removed or changed: its limits lifted", gone.driver.name)
        except Exception as error:  # a driver's own failure: say so, go on
            log.error("driver %s removed or changed, could not lift its limits: %s",
                      gone.driver.name, error)  # fmt: skip
    return enforcers


def _same_driver(old: Driver, new: Driver) -> bool:
    """Whether a reloaded driver is the one already running: same type, same options."""
    return type(old) is type(new) and old.options == new.options


def resume_drift(enforcers: Iterable[Enforcer], health: HealthRecord | None) -> None:
    """The drift the last cycle before a restart kept, for each driver still configured:
    counted on from there (since when, how many cycles) if the first cycle finds it again,
    cleared if that cycle finds none, rather than started over or forgotten."""
    kept = health.drivers if health is not None else {}
    for enforcer in enforcers:
        record = kept.get(enforcer.driver.name)
        if record is not None and record.drifting is not None:
            d = record.drifting
            enforcer.drifting = Drifting(d.since, d.cycles, d.lines)
