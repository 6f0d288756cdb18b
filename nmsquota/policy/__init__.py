"""The quota policy: usage in each window against the plan's caps decides who is limited.

Pure: totals, the plan, the operator's overrides and last cycle's standing in; a decision
out. No I/O, no clock of its own (`now` is an argument), so days of simulated time are a
loop in a test.

- Limit when usage reaches the cap, also at session start when already over it (the paper).
- Lift when the window has rolled below the cap, or below cap x (1 - hysteresis) when the
  plan has a hysteresis margin, so nobody flaps at the boundary.
- What counts: download (the default, as in the paper), upload, or both; off-peak free hours
  are already left out of the ledger's window totals.
- Overrides, each with an expiry and a reason: exempt (never limited), force (limited
  whatever the usage), top-up (extra bytes on the cap while it lasts). Of an exempt and a
  force both in force, the later one counts.
- Warnings at thresholds (percent of the cap), once per crossing: a threshold warns again
  only after usage has fallen back below it.
- A plan may have several caps, each with its own window, direction and limit: each is
  decided on its own (with its own standing, hysteresis and warnings), and of the caps
  exceeded the strictest limit applies. An override names one cap or, naming none, holds
  for every cap of the plan.

The package: terms.py the values (Rule, Step, Override, Standing, Decision, Evaluation),
decide.py the deciding.
"""

from nmsquota.policy.decide import decide, decide_plan, evaluate, lifts_at, used
from nmsquota.policy.terms import (
    FRESH,
    Decision,
    Direction,
    Evaluation,
    Override,
    OverrideKind,
    Rule,
    Standing,
    Step,
)

__all__ = [
    "FRESH",
    "Decision",
    "Direction",
    "Evaluation",
    "Override",
    "OverrideKind",
    "Rule",
    "Standing",
    "Step",
    "decide",
    "decide_plan",
    "evaluate",
    "lifts_at",
    "used",
]
