"""The quota ledger: usage samples, rolling-window totals and enforcement state."""

from nmsquota.ledger.errors import (
    LedgerCorrupt,
    LedgerError,
    LedgerLocked,
    LedgerMissing,
    LedgerReadOnly,
)
from nmsquota.ledger.ledger import Ledger, Limit, PruneResult
from nmsquota.ledger.lock import writer_pid
from nmsquota.usage import FreeHours, Monthly, Sample, Tally, Totals

__all__ = [
    "FreeHours",
    "Ledger",
    "LedgerCorrupt",
    "LedgerError",
    "LedgerLocked",
    "LedgerMissing",
    "LedgerReadOnly",
    "Limit",
    "Monthly",
    "PruneResult",
    "Sample",
    "Tally",
    "Totals",
    "writer_pid",
]
