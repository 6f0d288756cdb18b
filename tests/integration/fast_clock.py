"""Runs `nmsquota ARGS` on a test's accelerated timeline: fast_clock.py START SPEED ARGS...

Every process given the same START and SPEED reads the same time, START plus SPEED times the
wall-clock seconds since START: a daemon and the commands run beside it agree on the order
of what they write to the ledger, while the daemon's interval passes SPEED times faster.
"""

from __future__ import annotations

import sys
import time

from nmsquota.cli import main
from nmsquota.clock import AcceleratedClock

start, speed = float(sys.argv[1]), float(sys.argv[2])
sys.exit(main(sys.argv[3:], clock=AcceleratedClock(start + (time.time() - start) * speed, speed)))
