"""The policy over simulated days: limit at the cap, lift when the window rolls below it."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nmsquota.policy import Override, Rule, Standing, Step, decide, decide_plan, evaluate
from nmsquota.usage import Totals

MB = 10**6
DAY = 86_400
HOME = Rule(cap=63 * MB, warn_at=(80, 100))


FRESH = Standing()


def step(rule: Rule, down: int, standing: Standing = FRESH, now: int = 0, overrides=()):
    return decide("biguser", rule, Totals(down, 0), now, standing, overrides)


def test_the_limit_lands_at_the_cap_and_lifts_below_it() -> None:
    under = step(HOME, 63 * MB - 1)
    assert not under.limited and under.warnings == (80,)
    at = step(HOME, 63 * MB, under.standing(), now=300)
    assert at.limited and at.changed and at.since == 300 and at.warnings == (100,)
    assert at.reason == "over cap: 63000000 of 63000000 bytes"
    held = step(HOME, 70 * MB, at.standing(), now=600)
    assert held.limited and not held.changed and held.since == 300 and held.warnings == ()
    lifted = step(HOME, 63 * MB - 1, held.standing(), now=900)
    assert not lifted.limited and lifted.changed and lifted.since is None


def test_hysteresis_keeps_a_limit_until_usage_is_below_the_margin() -> None:
    rule = Rule(cap=100 * MB, hysteresis=0.05)
    limited = step(rule, 100 * MB).standing()
    assert step(rule, 96 * MB, limited).limited
    assert step(rule, 95 * MB + 1, limited).limited
    assert not step(rule, 95 * MB, limited).limited
    # The margin only holds a limit: an unlimited subscriber at 99% stays unlimited.
    assert not step(rule, 99 * MB).limited


def test_what_counts_follows_the_plans_direction() -> None:
    totals = Totals(bytes_in=40 * MB, bytes_out=30 * MB)
    assert not decide("a", Rule(cap=63 * MB), totals, 0).limited
    assert not decide("a", Rule(cap=63 * MB, direction="upload"), totals, 0).limited
    assert decide("a", Rule(cap=63 * MB, direction="both"), totals, 0).limited


def test_overrides_apply_while_they_last() -> None:
    exempt = Override("biguser", "exempt", "the mayor", since=0, until=1000)
    assert not step(HOME, 90 * MB, now=500, overrides=[exempt]).limited
    assert step(HOME, 90 * MB, now=1000, overrides=[exempt]).limited  # expired
    force = Override("biguser", "force", "abuse ticket 17", since=0)
    forced = step(HOME, 0, now=5, overrides=[force])
    assert forced.limited and forced.reason == "forced: abuse ticket 17"
    topup = Override("biguser", "topup", "bought 1 GB", since=0, until=DAY, bytes=1000 * MB)
    topped = step(HOME, 90 * MB, now=10, overrides=[topup])
    assert not topped.limited and topped.cap == 1063 * MB
    other = Override("someone", "exempt", "not biguser", since=0)
    assert step(HOME, 90 * MB, overrides=[other]).limited
    # Exempt and force both in force: the later one counts.
    later_force = Override("biguser", "force", "changed my mind", since=600)
    assert step(HOME, 0, now=700, overrides=[exempt, later_force]).limited
    later_exempt = Override("biguser", "exempt", "sorry", since=800)
    assert not step(HOME, 90 * MB, now=900, overrides=[force, later_exempt]).limited


def test_a_forced_limit_that_ends_falls_back_to_the_cap() -> None:
    force = Override("biguser", "force", "ticket", since=0, until=100)
    forced = step(HOME, 10 * MB, now=50, overrides=[force])
    after = step(HOME, 10 * MB, forced.standing(), now=100, overrides=[force])
    assert not after.limited and after.changed


def test_a_warning_is_sent_once_per_crossing() -> None:
    rule = Rule(cap=100 * MB, warn_at=(80,))
    sent = []
    standing = Standing()
    for usage in (79, 80, 85, 90, 70, 81, 82):
        decision = step(rule, usage * MB, standing)
        sent.append(decision.warnings)
        standing = decision.standing()
    assert sent == [(), (80,), (), (), (), (80,), ()]


def test_evaluate_covers_everyone_with_a_plan_and_reports_those_without() -> None:
    rules = {"home": HOME}
    plans = {"davidn": "home", "biguser": "home"}
    totals = {"home": {"biguser": Totals(64 * MB, 0), "stranger": Totals(5, 0)}}
    result = evaluate(rules, plans, totals, 0, {})
    assert [d.subscriber for d in result.limited] == ["biguser"]
    assert result.decisions["davidn"].used == 0
    assert result.no_plan == ["stranger"]


def heavy_user_days(rule: Rule, days: int) -> tuple[list[int], list[int]]:
    """The paper's biggest user: online 20 hours a day downloading at full speed (about
    180 MB a day), held to the limited rate while limited; 5-minute cycles, rolling 7 days.
    Returns the MB downloaded each day and the cycles at which the limit changed."""
    full = 180 * MB // (20 * 3600)  # bytes per second while online and not limited
    window: deque[tuple[int, int]] = deque()
    total, standing, per_day, changes = 0, Standing(), [0] * days, []
    for cycle in range(days * DAY // 300):
        now = (cycle + 1) * 300
        online = (now % DAY) < 20 * 3600
        rate = (rule.rate_bps // 8 if standing.limited else full) if online else 0
        window.append((now, rate * 300))
        total += rate * 300
        per_day[(now - 1) // DAY] += rate * 300
        while window[0][0] <= now - 7 * DAY:
            total -= window.popleft()[1]
        decision = decide("biguser", rule, Totals(total, 0), now, standing)
        if decision.changed:
            changes.append(cycle)
        standing = decision.standing()
    return [round(day / MB) for day in per_day], changes


def test_the_papers_heavy_user_is_held_near_the_limited_rate() -> None:
    per_day, changes = heavy_user_days(Rule(cap=63 * MB, rate_bps=2_400), days=14)
    # Day 1: 63 MB at full speed (about 7 hours), then 300 bytes/s for the rest of the day.
    assert (changes[0] + 1) * 300 == 63 * MB // 2_500  # the cycle ending at 7 h (25,200 s)
    assert 63 <= per_day[0] <= 80
    # Held all the time after that: the paper's "about 20 MB a day" at 300 bytes/s.
    assert all(20 <= day <= 22 for day in per_day[1:])
    assert len(changes) == 1  # 7 days of 21.6 MB stay above 63 MB: never released


def test_a_window_that_rolls_below_the_cap_releases_and_hysteresis_damps_flapping() -> None:
    # A 160 MB cap: held at 21.6 MB a day, the user's week (151 MB) falls below the cap once
    # day one's full-speed hours leave the window: released, over again at full speed soon
    # after, limited again... A 20% margin releases only below 128 MB: held throughout.
    plain = heavy_user_days(Rule(cap=160 * MB, rate_bps=2_400), days=14)[1]
    damped = heavy_user_days(Rule(cap=160 * MB, rate_bps=2_400, hysteresis=0.2), days=14)[1]
    assert len(plain) > 2 and plain[1] * 300 > 7 * DAY  # released after the first week
    assert damped == plain[:1]


GB = 10**9
DAILY = Rule(cap=5 * GB, rate_bps=10_000_000, name="1d", tally="day")
MONTHLY = Rule(cap=100 * GB, rate_bps=1_000_000, name="30d", tally="month")
FAIR = (DAILY, MONTHLY)


def fair(day: int, month: int, standing: Standing = FRESH, now: int = 0, overrides=()):
    totals = {"day": Totals(day, 0), "month": Totals(month, 0)}
    return decide_plan("biguser", FAIR, totals, now, standing, overrides)


def test_the_strictest_limit_of_the_caps_exceeded_applies_and_lifts_in_order() -> None:
    steps = [(4, 50), (5, 60), (6, 100), (1, 101), (6, 99), (0, 98)]
    seen, standing = [], FRESH
    for now, (day, month) in enumerate(steps):
        decision = fair(day * GB, month * GB, standing, now=now)
        seen.append((decision.limited, decision.cap_name, decision.rate_bps if decision.limited
                     else 0, decision.changed))  # fmt: skip
        standing = decision.standing()
    assert seen == [
        (False, "1d", 0, False),  # 80% of the daily cap, nearer than 50% of the monthly
        (True, "1d", 10_000_000, True),  # the daily cap: 10 Mbit/s
        (True, "30d", 1_000_000, True),  # then the monthly as well: the stricter 1 Mbit/s
        (True, "30d", 1_000_000, False),  # the day rolled: the daily cap lifts on its own
        (True, "1d", 10_000_000, True),  # the month rolled below its cap: back to 10 Mbit/s
        (False, "30d", 0, True),
    ]
    over = fair(6 * GB, 101 * GB)
    assert over.reason == "over cap 30d: 101000000000 of 100000000000 bytes"
    assert [(c.cap_name, c.limited) for c in over.caps] == [("1d", True), ("30d", True)]


def test_a_top_up_or_exemption_on_one_cap_leaves_the_other_in_force() -> None:
    topup_day = Override("biguser", "topup", "bought 10 GB", since=0, bytes=10 * GB, cap="1d")
    decision = fair(6 * GB, 101 * GB, overrides=[topup_day])
    assert decision.limited and decision.cap_name == "30d"
    assert [c.cap for c in decision.caps] == [15 * GB, 100 * GB]
    topup_month = Override("biguser", "topup", "bought 10 GB", since=0, bytes=10 * GB, cap="30d")
    decision = fair(6 * GB, 101 * GB, overrides=[topup_month])
    assert decision.limited and (decision.cap_name, decision.rate_bps) == ("1d", 10_000_000)
    exempt_day = Override("biguser", "exempt", "tv event", since=0, cap="1d")
    assert not fair(6 * GB, 50 * GB, overrides=[exempt_day]).limited
    assert fair(6 * GB, 101 * GB, overrides=[exempt_day]).cap_name == "30d"
    # An override naming no cap holds for the whole plan: forced to the strictest limit.
    forced = fair(0, 0, overrides=[Override("biguser", "force", "abuse", since=0)])
    assert forced.limited and forced.rate_bps == 1_000_000
    assert forced.reason == "forced: abuse"


def test_each_cap_keeps_its_own_standing_and_hysteresis() -> None:
    damped = (replace(DAILY, hysteresis=0.2), MONTHLY)
    totals = {"day": Totals(5 * GB, 0), "month": Totals(10 * GB, 0)}
    limited = decide_plan("biguser", damped, totals, 0).standing()
    assert limited.of("1d").limited and not limited.of("30d").limited
    totals = {"day": Totals(int(4.5 * GB), 0), "month": Totals(10 * GB, 0)}
    assert decide_plan("biguser", damped, totals, 300, limited).limited  # above 4 GB: held
    totals = {"day": Totals(4 * GB, 0), "month": Totals(10 * GB, 0)}
    assert not decide_plan("biguser", damped, totals, 600, limited).limited


def test_evaluate_reads_each_caps_own_totals() -> None:
    totals = {"day": {"biguser": Totals(6 * GB, 0)}, "month": {"biguser": Totals(GB, 0)}}
    result = evaluate({"fair": FAIR}, {"biguser": "fair"}, totals, 0, {})
    (decision,) = result.limited
    assert (decision.cap_name, decision.used, decision.cap) == ("1d", 6 * GB, 5 * GB)


RULES = st.lists(
    st.builds(
        Rule,
        cap=st.sampled_from([0, 1, 100, 1_000, 10**6]),  # equal caps: ties to break alike
        direction=st.sampled_from(["download", "upload", "both"]),
        rate_bps=st.integers(1_000, 10**8),
        warn_at=st.sampled_from([(), (80,), (50, 100)]),
        steps=st.sampled_from([(), (Step(at=50.0, rate_bps=10**7),)]),
    ),
    min_size=1,
    max_size=3,
).map(lambda rules: tuple(replace(r, name=f"c{i}", tally=f"c{i}") for i, r in enumerate(rules)))


@settings(max_examples=400)  # about 1 ms each
@given(RULES, st.lists(st.tuples(st.integers(0, 2_000), st.integers(0, 2_000)),
                       min_size=3, max_size=3))  # fmt: skip
@example((Rule(cap=100, name="c0", tally="c0"), Rule(cap=100, name="c1", tally="c1")),
         [(0, 0), (0, 0), (0, 0)])  # a tie: the first cap binds, as max() picks  # fmt: skip
def test_the_fast_path_for_quiet_subscribers_decides_as_the_full_one(rules, usage) -> None:
    totals = {r.tally: Totals(*pair) for r, pair in zip(rules, usage, strict=False)}
    fast = decide_plan("alice", rules, totals, 100)
    # Another subscriber's override: changes nothing, but takes every cap the long way.
    bystander = Override("bob", "force", "not alice", since=0)
    assert fast == decide_plan("alice", rules, totals, 100, overrides=[bystander])


def test_quiet_subscribers_take_the_fast_path_and_others_do_not() -> None:
    from nmsquota.policy.decide import _quiet

    rules = (Rule(cap=100, name="1d", warn_at=(80,)), Rule(cap=1_000, name="30d"))
    assert _quiet("alice", rules, [Totals(79, 0), Totals(500, 0)]) is not None
    assert _quiet("alice", rules, [Totals(80, 0), Totals(500, 0)]) is None  # a warning
    assert _quiet("alice", rules, [Totals(10, 0), Totals(1_000, 0)]) is None  # a limit
    stepped = (Rule(cap=100, steps=(Step(at=50.0, rate_bps=10**7),)),)
    assert _quiet("alice", stepped, [Totals(50, 0)]) is None  # the step


def test_the_state_is_a_field_the_policy_sets() -> None:
    from nmsquota.verdict import State

    warned = Rule(cap=100 * MB, warn_at=(80,), steps=(Step(at=90.0, rate_bps=10**6),))
    assert step(warned, 10 * MB).state is State.OK
    assert step(warned, 85 * MB).state is State.WARNED
    assert step(warned, 95 * MB).state is State.STEPPED
    assert step(warned, 100 * MB).state is State.LIMITED
    force = Override("biguser", "force", "ticket", since=0)
    assert step(warned, 0, overrides=[force]).state is State.FORCED
    exempt = Override("biguser", "exempt", "mayor", since=0)
    assert step(warned, 100 * MB, overrides=[exempt]).state is State.EXEMPT
    topup = Override("biguser", "topup", "bought", since=0, bytes=100 * MB)
    assert step(warned, 100 * MB, overrides=[topup]).state is State.TOPPED_UP
    # A plan: the binding cap's state, and each cap's own.
    decision = fair(6 * GB, 50 * GB)
    assert decision.state is State.LIMITED
    assert [cap.state for cap in decision.caps] == [State.LIMITED, State.OK]


def test_the_reason_is_a_value_with_the_figures_it_was_limited_at() -> None:
    from nmsquota.verdict import Reason, ReasonKind

    over = fair(6 * GB, 101 * GB)
    assert over.why == Reason(ReasonKind.OVER, "30d", None, 101 * GB, 100 * GB)
    held = fair(6 * GB, 120 * GB, over.standing(), now=300)
    assert held.why == over.why and held.since == 0  # held: the reason it was limited with
    stepped = step(Rule(cap=100, steps=(Step(at=80.0, rate_bps=10**6),)), 85)
    assert stepped.why == Reason(ReasonKind.OVER, "", 80.0, 85, 100)
    assert step(HOME, 0).why is None
