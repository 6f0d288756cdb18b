"""The quota ledger: usage samples, rolling-window totals and enforcement state.

Names load on first use (nmsquota.lazy): `from nmsquota.ledger import writer_pid` reads no
record schema and opens no TinyDB.
"""

from typing import TYPE_CHECKING

from nmsquota.lazy import exports

if TYPE_CHECKING:
    from nmsquota.ledger.base import (
        Ledger,
        PruneResult,
        Records,
    )
    from nmsquota.ledger.errors import (
        LedgerCorrupt,
        LedgerError,
        LedgerLocked,
        LedgerMissing,
        LedgerReadOnly,
        LedgerRecordError,
        LedgerUnusable,
    )
    from nmsquota.ledger.lock import (
        writer_pid,
    )
    from nmsquota.ledger.records import (
        Limit,
    )
    from nmsquota.usage import (
        FreeHours,
        Monthly,
        Sample,
        Tally,
        Totals,
    )

_WHERE = {
    "LedgerCorrupt": "nmsquota.ledger.errors",
    "LedgerError": "nmsquota.ledger.errors",
    "LedgerLocked": "nmsquota.ledger.errors",
    "LedgerMissing": "nmsquota.ledger.errors",
    "LedgerReadOnly": "nmsquota.ledger.errors",
    "LedgerRecordError": "nmsquota.ledger.errors",
    "LedgerUnusable": "nmsquota.ledger.errors",
    "Ledger": "nmsquota.ledger.base",
    "PruneResult": "nmsquota.ledger.base",
    "Records": "nmsquota.ledger.base",
    "writer_pid": "nmsquota.ledger.lock",
    "Limit": "nmsquota.ledger.records",
    "FreeHours": "nmsquota.usage",
    "Monthly": "nmsquota.usage",
    "Sample": "nmsquota.usage",
    "Tally": "nmsquota.usage",
    "Totals": "nmsquota.usage",
}
__getattr__ = exports(__name__, _WHERE)
__all__ = [
    "FreeHours",
    "Ledger",
    "LedgerCorrupt",
    "LedgerError",
    "LedgerLocked",
    "LedgerMissing",
    "LedgerReadOnly",
    "LedgerRecordError",
    "LedgerUnusable",
    "Limit",
    "Monthly",
    "PruneResult",
    "Records",
    "Sample",
    "Tally",
    "Totals",
    "writer_pid",
]
