"""The read API: typed, immutable snapshots of a ledger for every reader.

Any process builds them from a ledger opened for reading (no writer lock) and the
configuration, without the daemon, SNMP, the drivers or Textual:

    reader = Reader.open(directory, config)
    snap = reader.snapshot()
    for view in snap.limited:
        print(view.name, view.reason, [cap.lifts_at for cap in view.caps])

and, after `reader.refresh()`, the next commit. `reader.events(since=seq)` follows the
event log.
"""

from nmsquota.ledger.errors import LedgerCorrupt, LedgerMissing, LedgerRecordError
from nmsquota.ledger.records import (
    CapStanding,
    CheckRecord,
    DeviceRecord,
    DriftRecord,
    EventKind,
    EventRecord,
    Limit,
    MappingProblemRecord,
    OverrideRecord,
    SessionRecord,
)
from nmsquota.standings.reader import Reader
from nmsquota.standings.topups import TopupView
from nmsquota.standings.views import (
    CapView,
    CycleView,
    DeviceView,
    DriverHealth,
    DriverView,
    KeptIn,
    PopView,
    Snapshot,
    SubscriberView,
)
from nmsquota.usage import Sample, Tally, Totals
from nmsquota.verdict import Reason, ReasonKind, State

__all__ = [
    "CapStanding",
    "CapView",
    "CheckRecord",
    "CycleView",
    "DeviceRecord",
    "DeviceView",
    "DriftRecord",
    "DriverHealth",
    "DriverView",
    "EventKind",
    "EventRecord",
    "KeptIn",
    "LedgerCorrupt",
    "LedgerMissing",
    "LedgerRecordError",
    "Limit",
    "MappingProblemRecord",
    "OverrideRecord",
    "PopView",
    "Reader",
    "Reason",
    "ReasonKind",
    "Sample",
    "SessionRecord",
    "Snapshot",
    "State",
    "SubscriberView",
    "Tally",
    "TopupView",
    "Totals",
]
