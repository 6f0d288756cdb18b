"""The quota ledger: usage samples, rolling-window totals and enforcement state."""

from nmsquota.ledger.errors import (
    LedgerCorrupt,
    LedgerError,
    LedgerLocked,
    LedgerMissing,
    LedgerReadOnly,
    LedgerRecordError,
    LedgerUnusable,
)
from nmsquota.ledger.ledger import Ledger, PruneResult
from nmsquota.ledger.lock import writer_pid
from nmsquota.ledger.records import Limit
from nmsquota.usage import FreeHours, Monthly, Sample, Tally, Totals

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
    "Sample",
    "Tally",
    "Totals",
    "writer_pid",
]
