"""The JSON envelope LibreNMS reads from an application through Net-SNMP `extend`:

    {"version": 1, "error": 0, "errorString": "", "data": {...}}

LibreNMS' JSON application helper looks at `error` and `errorString` first and graphs what
is in `data`; `data` is an object even when the ledger cannot be read (then empty, with
`error` non-zero and the reason in `errorString`), so the poller never meets a null.

Error codes: 1 no ledger at the directory, 2 a ledger that cannot be read (corrupt, a record
of an unknown kind, permissions), 3 a configuration that does not load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nmsquota.errors import NmsquotaError, UsageError
from nmsquota.nms.counts import counts
from nmsquota.standings import CycleView, LedgerMissing, Snapshot

VERSION = 1
NO_LEDGER, UNREADABLE, BAD_CONFIG = 1, 2, 3


def envelope_of(read: Callable[[], Snapshot], now: float) -> dict[str, Any]:
    """The envelope for whatever `read` finds (it loads the configuration and opens the
    ledger): the data, or an error code and the reason with an empty `data`."""
    try:
        snap = read()
    except LedgerMissing as error:
        return failure(NO_LEDGER, str(error))
    except UsageError as error:  # ConfigError: every line names the file and the key
        return failure(BAD_CONFIG, " ".join(str(error).splitlines()))
    except NmsquotaError as error:  # corrupt, a record of an unknown kind, unreadable
        return failure(UNREADABLE, str(error))
    except OSError as error:
        return failure(UNREADABLE, f"cannot read the ledger: {error}")
    return {"version": VERSION, "error": 0, "errorString": "", "data": data_of(snap, now)}


def failure(code: int, reason: str) -> dict[str, Any]:
    return {"version": VERSION, "error": code, "errorString": reason, "data": {}}


def data_of(snap: Snapshot, now: float) -> dict[str, Any]:
    found = counts(snap)
    return {
        "subscribers": found.subscribers,
        "online": found.online,
        "limited": found.limited,
        "stepped": found.stepped,
        "not_effective": found.not_effective,
        "cycle": _cycle(snap.cycle, now),
        "drivers": _drivers(snap.cycle),
    }


def _cycle(cycle: CycleView | None, now: float) -> dict[str, Any]:
    """The last cycle; every figure null (and `recorded` 0) when no daemon has cycled."""
    if cycle is None:
        return {"recorded": 0, "number": None, "age": None, "duration": None,
                "lateness": None, "stale": None, "devices_ok": None, "devices_failed": None,
                "devices_skipped": None}  # fmt: skip
    return {
        "recorded": 1,
        "number": cycle.number,
        "age": round(cycle.age(now), 3),
        "duration": round(cycle.seconds, 3),
        "lateness": round(cycle.lateness, 3),
        "stale": int(cycle.stale(now)),
        "devices_ok": len(cycle.devices_ok),
        "devices_failed": len(cycle.devices_failed),
        "devices_skipped": len(cycle.devices_skipped),
    }


def _drivers(cycle: CycleView | None) -> dict[str, Any]:
    if cycle is None:
        return {}
    return {
        driver.name: {
            "health": driver.health,
            "ok": int(driver.ok),
            "errors": len(driver.errors),
            "repairs": len(driver.drift),
            "not_effective": len(driver.not_effective),
        }
        for driver in cycle.drivers
    }
