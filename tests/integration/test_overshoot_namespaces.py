"""Projected looks bound the overshoot in a real run: `nmsquota run` at a 10 s interval,
snmpd on the router counting sub1's download, nftables on the router limiting it, and a
stream at a known rate crossing the cap just after the second cycle (integration/overshoot.py).

Without looks the crossing waits for the third cycle: about a whole interval of the stream
past the cap (9 to 13 s of it: bench/RESULTS.md). With them, a look 3.5 s after the second
cycle (the gap snmpd's 3 s counter refresh needs) sees the crossing: 3.5 to 4.5 s of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Namespaces, require
from integration.overshoot import OvershootRig

INTERVAL = 10.0
RATE = 1e6  # bytes/s


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_look_limits_a_fast_subscriber_well_within_an_interval_of_the_crossing(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    require("nft")
    require("ethtool")
    rig = OvershootRig(namespaces, tmp_path)
    run = rig.run(INTERVAL, RATE, cross_after=INTERVAL - 0.5, projection=True)
    assert 0.7 * RATE < run.rate < 1.3 * RATE  # the stream ran at about its rate
    # Limited before the third cycle was due, by a look (or by the second cycle, if its
    # read of the agent's counters already showed the crossing)...
    assert run.limited_after < 2 * INTERVAL - 1, run
    # ... with at most 0.6 of an interval's worth of the stream past the cap: the look's
    # 3.5 s after the cycle and its own time, and 2 s for a busy machine's timers.
    assert run.overshoot < 0.6 * INTERVAL * run.rate, (run, run.seconds)
