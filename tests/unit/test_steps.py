"""Graded limits: a cap's steps slow a subscriber before the cap (at 80%, 50 Mbit/s), each
with its own hysteresis; the cap's own limit is the last step."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from unit.test_config import problems, write

from nmsquota.config import load_config
from nmsquota.policy import Rule, Standing, Step, decide_plan
from nmsquota.usage import Totals

MB = 10**6
STEP = Step(at=80.0, rate_bps=50_000_000, queue_bytes=64_000, hysteresis=0.05)
GRADED = Rule(cap=100 * MB, rate_bps=3_000, steps=(STEP,))


def walk(rule: Rule, usages: list[int]) -> list[tuple[int, str]]:
    """(rate, reason kind) at each usage in turn, carrying the standing."""
    standing, seen = Standing(), []
    for now, usage in enumerate(usages):
        decision = decide_plan("alice", (rule,), {"": Totals(usage * MB, 0)}, now, standing)
        seen.append((decision.rate_bps if decision.limited else 0,
                     decision.reason.split(":")[0]))  # fmt: skip
        standing = decision.standing()
    return seen


def test_a_step_slows_before_the_cap_and_the_cap_slows_further() -> None:
    assert walk(GRADED, [79, 80, 99, 100, 90, 79]) == [
        (0, ""),
        (50_000_000, "over 80% of cap"),
        (50_000_000, "over 80% of cap"),
        (3_000, "over cap"),
        (50_000_000, "over 80% of cap"),  # the window rolled below the cap: back a step
        (50_000_000, "over 80% of cap"),  # held: above 80% less its 5% margin (76 MB)
    ]


def test_a_steps_hysteresis_keeps_it_from_flapping_at_its_boundary() -> None:
    # Usage wobbling around 80%: entered once, held while above 76 MB, then lifted.
    seen = walk(GRADED, [80, 79, 80, 78, 77, 76, 79])
    assert [rate for rate, _ in seen] == [50_000_000] * 5 + [0, 0]


def test_the_change_of_step_is_one_change_and_names_the_step() -> None:
    standing = Standing()
    changes = []
    for now, usage in enumerate([80, 90, 100, 100]):
        decision = decide_plan("alice", (GRADED,), {"": Totals(usage * MB, 0)}, now, standing)
        changes.append(decision.changed)
        standing = decision.standing()
    assert changes == [True, False, True, False]
    assert standing.step is None  # the cap itself


def test_each_change_of_step_is_its_own_event() -> None:
    two = (Rule(cap=100 * MB, name="1d", steps=(STEP,)), Rule(cap=10**12, name="30d"))
    standing, events = Standing(), []
    for now, usage in enumerate([80, 100, 90, 70, 70]):
        decision = decide_plan("alice", two, {"": Totals(usage * MB, 0)}, now, standing)
        if decision.changed:
            events.append(decision.event)
        standing = decision.standing()
    assert events == ["step 80% of 1d", "limited", "step 80% of 1d", "released"]
    one = decide_plan("alice", (GRADED,), {"": Totals(80 * MB, 0)}, 0, Standing())
    assert one.event == "step 80%"  # a one-cap plan's cap has no name to give


FAIR = """
[plans.fair]
[[plans.fair.caps]]
cap = "5GB"
window = "1d"
limit = { rate = "1Mbit" }
steps = [{ at = "80%", rate = "50Mbit", hysteresis = "5%" }]
"""


def test_steps_are_configured_per_cap(tmp_path: Path) -> None:
    (cap,) = load_config(write(tmp_path, FAIR)).settings.plans["fair"].all_caps()
    (step,) = cap.steps
    assert (step.at, step.rate, step.hysteresis, step.queue) == (80.0, 50_000_000, 5.0, None)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ('{ at = "80%", rate = "50Mbit", burst = "1MB" }', "plans.fair.caps.0.steps.0.burst: "
         "unknown key (expected one of: at, rate, queue, hysteresis)"),
        ('{ at = "0%", rate = "50Mbit" }', "plans.fair.caps.0.steps.0.at: expected a positive "
         "percentage, got '0%'"),
        ('{ at = "80", rate = "50Mbit" }', 'plans.fair.caps.0.steps.0.at: expected a percentage '
         "such as \"80%\", got '80'"),
        ('{ at = "100%", rate = "50Mbit" }', "plans.fair.caps.0.steps.0.at: a step comes before "
         "the cap: under 100% (the cap's own limit is the last step)"),
        ('{ at = "80%" }', "plans.fair.caps.0.steps.0.rate: missing (required)"),
    ],
)  # fmt: skip
def test_bad_steps_are_rejected_with_the_key(tmp_path: Path, step: str, expected: str) -> None:
    text = FAIR.replace('[{ at = "80%", rate = "50Mbit", hysteresis = "5%" }]', f"[{step}]")
    assert problems(write(tmp_path, text)) == [expected]


def test_two_steps_at_the_same_threshold_are_rejected(tmp_path: Path) -> None:
    two = '[{ at = "80%", rate = "50Mbit" }, { at = "80%", rate = "10Mbit" }]'
    text = FAIR.replace('[{ at = "80%", rate = "50Mbit", hysteresis = "5%" }]', two)
    assert problems(write(tmp_path, text)) == [
        "plans.fair.caps.0.steps: two steps at 80%: each step needs its own threshold"
    ]


def test_when_a_level_lifts_if_nothing_more_is_downloaded() -> None:
    from nmsquota.policy import lifts_at

    samples = [(1000, 30 * MB), (2000, 40 * MB), (3000, 40 * MB)]  # 110 MB in the window
    day = 86_400
    # The cap (100 MB, no margin) lifts once the first 30 MB leave: below 100 MB.
    assert lifts_at(GRADED, None, 110 * MB, 100 * MB, samples, day) == 1000 + day
    # The 80% step (5% margin: at most 76 MB) needs the next 40 MB gone too.
    assert lifts_at(GRADED, 0, 110 * MB, 100 * MB, samples, day) == 2000 + day
    # Already below: nothing to wait for.
    assert lifts_at(GRADED, None, 90 * MB, 100 * MB, samples, day) is None


def test_status_names_the_step_a_cap_is_at() -> None:
    from dataclasses import replace

    from nmsquota.commands.status import _cap_line
    from nmsquota.ledger.records import CapStanding
    from nmsquota.verdict import State

    cap = CapStanding(cap_name="1d", used=4_500_000_000, cap=5_000_000_000,
                      state=State.STEPPED, rate=50_000_000, step=0, step_at=80.0)  # fmt: skip
    utc = ZoneInfo("UTC")
    assert _cap_line(cap, None, utc) == (
        "  cap 1d: 4.5 GB of 5.0 GB (90%), limited to 50Mbit (step at 80%)"
    )
    assert _cap_line(replace(cap, step_at=None), None, utc).endswith("limited to 50Mbit")
