"""A following POP's daemon hears the limits the deciding POP commits, and enforces them at
once (issue 24).

Several POPs' daemons share one database ledger; one decides (Ledger.lead()) and the others
bring their drivers to its limits at each of their own cycles (Daemon._follow). Told through
the ledger's listener (Ledger.limits_listener(): LISTEN/NOTIFY on PostgreSQL) that another
POP's writer committed changed limits, a following daemon does the same at once
(Daemon.follow_notices), so a limit on a subscriber online here waits for no cycle.

The listening connection lost (a server restart) is said once in the log and opened again
after the daemon's next cycle, which meanwhile follows every limit as it always did: a
notice missed costs at most an interval, never a limit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nmsquota.ledger.errors import LedgerError

if TYPE_CHECKING:
    from nmsquota.daemon.core import Daemon

log = logging.getLogger("nmsquota.daemon")


async def follow_limits(daemon: Daemon) -> None:
    """Listen for limits committed at other POPs and follow each burst of them, until
    cancelled (Daemon.run cancels it when it stops). Returns at once where the ledger has
    no listener (TinyDB: one daemon)."""
    listener = daemon.ledger.limits_listener()
    if listener is None:
        return
    lost = False
    try:
        while True:
            try:
                await listener.listen()
                if lost:
                    log.info("POP %s hears other POPs' limits as they commit again",
                             daemon.ledger.pop)  # fmt: skip
                    lost = False
                notices = await listener.changed()
            except LedgerError as error:
                log.warning("POP %s does not hear other POPs' limits as they commit (%s): "
                            "listening again after its next cycle, which follows them",
                            daemon.ledger.pop, error)  # fmt: skip
                lost = True
                await daemon.next_cycle()
                continue
            try:
                await daemon.follow_notices(notices)
            except Exception:  # a bug here must not end the listening: the cycles go on
                log.exception("following the limits committed at another POP failed")
    finally:
        await listener.close()
