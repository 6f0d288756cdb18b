"""Python's cyclic garbage collector (gc), held off while a daemon cycle works.

A cycle allocates hundreds of thousands of small objects (sample rows, totals, decisions),
and each 700 allocations start a collection; the oldest generation's collections walk every
object the ledger keeps in memory (the windows' rows), about 100 ms each for 5,000
subscribers. Measured with bench/bench_caps.py, collections were 40% of a cycle's commit
and decision, and more with more caps (bench/RESULTS.md). Almost nothing a cycle makes is
cyclic garbage (refcounting frees it), so the collector is paused for the cycle and runs
after it, at its own pace, on what survived. The same holds for reading a ledger (millions
of parsed documents, records and views at 100,000 subscribers, none of them garbage: the
collector walking them again and again was a third of the read), and for the check plugin's
short run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collections inside the block; as before after it (also on error). Nested
    blocks, or a block while another thread holds one, leave the collector as they found it:
    only the block that turned it off turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
