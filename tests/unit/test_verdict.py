"""A decision's reason is a value (kind, cap, figures) that renders to the text operators
have always read; whether two reasons hold the same limit is asked of the values."""

from __future__ import annotations

import pytest

from nmsquota.verdict import Reason, ReasonKind, State

OVER = ReasonKind.OVER


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (Reason(OVER, "", None, 63_000_000, 63_000_000), "over cap: 63000000 of 63000000 bytes"),
        (Reason(OVER, "30d", None, 101, 100), "over cap 30d: 101 of 100 bytes"),
        (Reason(OVER, "", 80.0, 85, 100), "over 80% of cap: 85 of 100 bytes"),
        (Reason(OVER, "1d", 62.5, 70, 100), "over 62.5% of cap 1d: 70 of 100 bytes"),
        (Reason(ReasonKind.FORCED, note="abuse ticket 17"), "forced: abuse ticket 17"),
        (Reason(ReasonKind.EXEMPT, note="the mayor"), "exempt: the mayor"),
    ],
)
def test_a_reason_renders_as_the_policy_always_wrote_it(reason: Reason, text: str) -> None:
    assert reason.text == text == str(reason)


def test_a_limit_is_the_same_while_it_is_the_same_step_of_the_same_cap() -> None:
    at_cap = Reason(OVER, "1d", None, 101, 100)
    assert at_cap.same_limit(Reason(OVER, "1d", None, 150, 120))  # other figures: same limit
    assert not at_cap.same_limit(Reason(OVER, "30d", None, 101, 100))  # another cap
    assert not at_cap.same_limit(Reason(OVER, "1d", 80.0, 90, 100))  # a step of it
    assert not at_cap.same_limit(None)
    forced = Reason(ReasonKind.FORCED, note="ticket 1")
    assert forced.same_limit(Reason(ReasonKind.FORCED, note="ticket 2"))
    assert not forced.same_limit(at_cap)


def test_only_steps_limits_and_forced_limits_hold_a_subscriber() -> None:
    assert {state for state in State if state.limited} == {
        State.STEPPED,
        State.LIMITED,
        State.FORCED,
    }
