"""NMSQUOTA-MIB's notifications as SNMPv2c traps to `[notify] traps`: nqLimitApplied when a
subscriber is limited or held to another step, nqLimitLifted when released.

Sent from the daemon's event loop, after the ledger is written, fire and forget: a trap has
no answer, and a receiver that cannot be reached is logged and costs the cycle nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from nmsquota.config import Config
from nmsquota.config.settings import host_and_port
from nmsquota.nms.mib import limit_notification
from nmsquota.policy import Decision
from nmsquota.snmp.traps import TrapBinding, send_trap

log = logging.getLogger(__name__)


def kind_of(event: str) -> bool | None:
    """True for a limit applied (or changed), False for one lifted, None for the events the
    MIB has no notification for (warnings, a limit not effective)."""
    if event == "limited" or event.startswith("step "):
        return True
    return False if event == "released" else None


class Traps:
    def __init__(self, config: Config, started: float) -> None:
        settings = config.settings.notify
        self.receivers = [host_and_port(receiver) for receiver in settings.traps]
        self.community = config.secret(settings.trap_community) or "public"
        self.started = started
        """When the daemon started: the traps' sysUpTime counts from it."""
        self._sending: set[asyncio.Task[list[str]]] = set()

    def tell(self, engine: Callable[[], Any], now: float, subscriber: str, event: str,
             decision: Decision) -> None:  # fmt: skip
        """Send the notification for `event` to every receiver, if the MIB has one."""
        applied = kind_of(event)
        if not self.receivers or applied is None:
            return
        found = limit_notification(subscriber, applied=applied, state=decision.state,
                                   percent=decision.percent, since=decision.since,
                                   rate_bps=decision.rate_bps, reason=decision.reason)  # fmt: skip
        if found is None:
            log.warning("no trap for %r: the name is too long for an SNMP index", subscriber)
            return
        trap, bindings = found
        values: list[TrapBinding] = [(oid, value.type, value.value) for oid, value in bindings]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # told outside the daemon's loop (a test driving it by hand)
            return
        task = loop.create_task(send_trap(engine(), self.receivers, self.community,
                                          now - self.started, trap, values))  # fmt: skip
        self._sending.add(task)  # held until sent: the loop keeps only weak references
        task.add_done_callback(self._sending.discard)

    async def drain(self) -> None:
        """Wait for the traps being sent (the daemon's stop, a test)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
