"""Projected crossings: when to look at a subscriber between cycles.

A subscriber whose rate would carry them over a cap before the next cycle gets a targeted
look (a GET of just their interfaces) at the projected crossing, and again as it closes in
(nmsquota.projection). This module keeps the schedule; the daemon does the looking.

The rate a look is timed from is taken since the subscriber's counters were last read (by
the cycle or a look since it), so bytes a look already charged are not spread over the
whole interval. A span shorter than the agent's cache, or one in which the counters did not
move, says nothing about the rate (the agent may have served the same refresh twice): the
rate is then taken since the last cycle, with the looks' bytes in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nmsquota.plans import Rules
from nmsquota.policy import Decision, Evaluation, Rule, used
from nmsquota.projection import MIN_GAP, min_lead, next_look
from nmsquota.usage import Sample, Totals


@dataclass
class Looks:
    targets: dict[str, float] = field(default_factory=dict)
    """Subscriber -> when to look at them next."""
    last_cycle_at: float | None = None
    last_look: dict[str, float] = field(default_factory=dict)
    """When each subscriber's counters were last read, by a cycle or a look."""
    looked: dict[str, Totals] = field(default_factory=dict)
    """What looks since the last cycle charged each subscriber."""

    def copy(self) -> Looks:
        """A copy to go back to (when the cycle that changes this could not be recorded)."""
        return Looks(dict(self.targets), self.last_cycle_at, dict(self.last_look))

    def due_before(self, moment: float) -> tuple[str, float] | None:
        """The earliest look due before `moment`, if any."""
        if not self.targets:
            return None
        name, when = min(self.targets.items(), key=lambda item: item[1])
        return (name, when) if when < moment else None

    def after_cycle(self, evaluation: Evaluation, moved: Mapping[str, Totals], now: float,
                    polled: Iterable[str], plans: Mapping[str, str], rules: Rules,
                    interval: float, enabled: bool) -> None:  # fmt: skip
        """Schedule the looks before the next cycle, from what each subscriber moved since
        their counters were last read (by this cycle or a look since the last one)."""
        previous, self.last_cycle_at = self.last_cycle_at, now
        self.targets = {}
        polled = list(polled)
        since = {name: self.last_look.get(name, previous) for name in polled}
        self.last_look = {name: now for name in polled}
        looked, self.looked = self.looked, {}
        if not enabled or previous is None:
            return
        for name, decision in evaluation.decisions.items():
            start = since.get(name)
            if decision.limited or name not in moved or start is None or now <= start:
                continue
            seconds, bytes_moved = _rate_span(now - start, moved[name], now - previous,
                                              looked.get(name))  # fmt: skip
            when = _next_look(rules[plans[name]], decision, bytes_moved, seconds, now,
                              now + interval, min_lead(interval))  # fmt: skip
            if when is not None:
                self.targets[name] = when

    def after_look(self, subscriber: str, decision: Decision, samples: Iterable[Sample],
                   now: float, plan: str, rules: Rules, interval: float) -> None:  # fmt: skip
        """Still under after a look: look again where the rate since the last look says,
        before the next cycle."""
        mine = [s for s in samples if s.subscriber == subscriber]
        moved = Totals(sum(s.bytes_in for s in mine), sum(s.bytes_out for s in mine))
        cycle_at = self.last_cycle_at if self.last_cycle_at is not None else now
        since = self.last_look.get(subscriber, cycle_at)
        self.last_look[subscriber] = now
        earlier = self.looked.get(subscriber)
        self.looked[subscriber] = _plus(earlier, moved)
        seconds, bytes_moved = _rate_span(now - since, moved, now - cycle_at, earlier)
        when = _next_look(rules[plan], decision, bytes_moved, seconds, now, cycle_at + interval,
                          min_lead(interval))  # fmt: skip
        if when is not None:
            self.targets[subscriber] = when


def _rate_span(seconds: float, moved: Totals, since_cycle: float,
               looked: Totals | None) -> tuple[float, Totals]:  # fmt: skip
    """The span and the bytes to take a rate from: since the last read, unless that read is
    too recent (or the counters did not move) for the agent to have shown anything new;
    then since the last cycle, with what looks charged in between."""
    if (seconds >= MIN_GAP and moved != Totals()) or since_cycle <= seconds:
        return seconds, moved
    return since_cycle, _plus(looked, moved)


def _plus(a: Totals | None, b: Totals) -> Totals:
    return b if a is None else Totals(a.bytes_in + b.bytes_in, a.bytes_out + b.bytes_out)


def _next_look(rules: Sequence[Rule], decision: Decision, moved: Totals, seconds: float,
               now: float, before: float, lead: float) -> float | None:  # fmt: skip
    """When to look at a subscriber again: the earliest any cap of theirs is projected to be
    crossed at the rate they moved `moved` in the last `seconds`."""
    looks = []
    # decision.caps are in the plan's order, one per rule.
    for rule, cap in zip(rules, decision.caps, strict=True):
        rate = used(moved, rule.direction) / seconds if seconds > 0 else 0.0
        when = next_look(cap.used, cap.cap, rate, now, before, lead)
        if when is not None:
            looks.append(when)
    return min(looks, default=None)
