"""Notification hooks: a command template and a webhook, told of warnings and limit changes.

Both run in a background thread so a slow hook never delays a cycle; a failing one is
logged and forgotten. The command's arguments are filled from the event and run without a
shell: {subscriber} {event} {used} {cap} {percent} {reason} {cap_name} {step} {rate}. The
webhook gets the same fields as a JSON POST.

Events: "warning 80%" (with " of CAP" in a plan of several caps), "limited" (the cap's own
limit, or forced), "step 80%" (a cap's graded step, " of CAP" likewise: each step is its own
event, so a hook can tell "slowed at 80%" from "limited at the cap"), "released", and
"limit not effective". {step} is the step's threshold ("80%", empty at the cap itself) and
{rate} the limit now in force in bit/s (empty when released).
"""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nmsquota.policy import Decision

log = logging.getLogger("nmsquota.notify")


def fields(subscriber: str, event: str, decision: Decision) -> dict[str, str]:
    """What a hook is told: config.NOTIFY_FIELDS, each a string."""
    return {
        "subscriber": subscriber,
        "event": event,
        "used": str(decision.used),
        "cap": str(decision.cap),
        "percent": f"{decision.percent:.0f}",
        "reason": decision.reason,
        "cap_name": decision.cap_name,
        "step": f"{decision.step_at:g}%" if decision.step is not None else "",
        "rate": str(decision.rate_bps) if decision.limited else "",
    }


class Notifier:
    def __init__(self, settings: Any) -> None:
        self.command: list[str] = list(settings.command)
        self.webhook: str | None = settings.webhook
        self.timeout: float = settings.timeout
        self._pool: ThreadPoolExecutor | None = None

    def send(self, subscriber: str, event: str, decision: Decision) -> None:
        if not self.command and not self.webhook:
            return
        if self._pool is None:
            # One worker: hooks hear of a subscriber's changes in the order they happened
            # ("step 80%" before "limited"), which two workers did not promise. A slow hook
            # delays the ones after it by at most its timeout.
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")
        self._pool.submit(self._deliver, fields(subscriber, event, decision))

    def _deliver(self, told: dict[str, str]) -> None:
        try:
            self._run_hooks(told)
        except Exception:  # the pool would swallow it: a hook lost must say so
            log.exception("notify %s for %s failed", told["event"], told["subscriber"])

    def _run_hooks(self, told: dict[str, str]) -> None:
        if self.command:
            argv = [part.format_map(told) for part in self.command]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout)
                if done.returncode:
                    log.warning("notify command %s failed: %s", argv[0], done.stderr.strip())
            except (OSError, subprocess.TimeoutExpired) as error:
                log.warning("notify command %s failed: %s", argv[0], error)
        if self.webhook:
            request = urllib.request.Request(
                self.webhook, data=json.dumps(told).encode(), method="POST",
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
            except OSError as error:
                log.warning("notify webhook %s failed: %s", self.webhook, error)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
