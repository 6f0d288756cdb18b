"""What `nmsquota prune` would take out of the windows that still count the records it
retires: how many records, whose usage in a window drops, and whose limits would lift.

A window is every cap of every plan in the configuration (the plans of subscribers
provisioned in the ledger are among them) and every window the ledger keeps totals for, as
it stands now: a record newer than now - window (or than the start of a monthly period)
still counts, and retiring it lowers its subscriber's usage as surely as a top-up would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nmsquota import units
from nmsquota.config import Config
from nmsquota.ledger import Ledger, Sample, Tally, Totals

Table = dict[str, dict[str, Totals]]
"""Tally key -> subscriber -> usage in that window."""


@dataclass(frozen=True)
class Loss:
    records: int
    """Records at or before the cutoff that some window still counts."""
    window: str
    """The window that reaches furthest back (its key, e.g. "7d")."""
    drops: dict[str, Totals] = field(default_factory=dict)
    """Subscriber -> the bytes of theirs that would leave the windows that count them."""
    lifts: list[str] | None = field(default_factory=list)
    """Subscribers limited now whom the policy would release on the lowered usage; None:
    not known (no configuration, so no plans to decide with)."""

    def describe(self, *, done: bool = False) -> str:
        """`N records still counted in a window (the longest: 7d): usage in window drops
        for a (10 MB in, 1 MB out), b (...); the limits of a would lift`."""
        # The biggest drops first: those are the ones an operator is asked about.
        biggest = sorted(self.drops.items(), key=lambda item: -item[1].bytes_in - item[1].bytes_out)
        shown = [f"{name} ({units.format_bytes(t.bytes_in)} in, {units.format_bytes(t.bytes_out)}"
                 " out)" for name, t in biggest[:5]]  # fmt: skip
        more = f" and {len(self.drops) - 5} more" if len(self.drops) > 5 else ""
        if self.lifts is None:
            lifts = "; which limits lift is not known without the configuration (-c)"
        elif self.lifts:
            when = "lift at the daemon's next cycle" if done else "would lift"
            lifts = f"; the limits of {', '.join(self.lifts)} {when}"
        else:
            lifts = "; no limit lifts" if done else "; no limit would lift"
        return (f"{self.records} records still counted in a window (the longest: "
                f"{self.window}): usage in window drops for {', '.join(shown)}{more}"
                f"{lifts}")  # fmt: skip


def windows(config: Config | None, ledger: Ledger) -> list[Tally]:
    """Every window a record may count in: the configuration's caps and the ledger's own."""
    found = {tally.key: tally for tally in ledger.tallies()}
    if config is not None:
        found.update((tally.key, tally) for tally in config.tallies())
    return list(found.values())


def loss(ledger: Ledger, tallies: Sequence[Tally], cutoff: int, now: int,
         config: Config | None) -> Loss | None:  # fmt: skip
    """What retiring the records at or before `cutoff` would take from `tallies` at `now`;
    None when no window counts any of them."""
    if not tallies:
        return None
    edges = {tally.key: tally.edge_at(now) for tally in tallies}
    oldest = min(edges.values())
    if cutoff <= oldest:
        return None
    counted = [
        sample
        for sample in ledger.samples(after=oldest, until=cutoff)
        if any(sample.time > edges[t.key] and t.counts(sample.time) for t in tallies)
    ]
    if not counted:
        return None
    widest = min(tallies, key=lambda tally: edges[tally.key])
    drops: dict[str, list[int]] = {}
    for sample in counted:
        pair = drops.setdefault(sample.subscriber, [0, 0])
        pair[0] += sample.bytes_in
        pair[1] += sample.bytes_out
    lifts = _lifts(ledger, tallies, edges, counted, now, config) if config else None
    return Loss(len(counted), widest.key, {name: Totals(*pair) for name, pair in drops.items()},
                lifts)  # fmt: skip


def _lifts(ledger: Ledger, tallies: Sequence[Tally], edges: dict[str, int],
           counted: Iterable[Sample], now: int, config: Config) -> list[str]:  # fmt: skip
    """Whom the policy limits on the windows as they are, and would not once `counted`
    are gone: decided as the daemon decides (standings, overrides, plans), at `now`."""
    before: Table = {t.key: ledger.recount(t, edges[t.key]) for t in tallies}
    after: Table = {key: dict(table) for key, table in before.items()}
    for sample in counted:
        for tally in tallies:
            if sample.time > edges[tally.key] and tally.counts(sample.time):
                table = after[tally.key]
                had = table.get(sample.subscriber, Totals())
                table[sample.subscriber] = Totals(had.bytes_in - sample.bytes_in,
                                                  had.bytes_out - sample.bytes_out)  # fmt: skip
    limited_before = _limited(ledger, before, now, config)
    return sorted(limited_before - _limited(ledger, after, now, config))


def _limited(ledger: Ledger, totals: Table, now: int, config: Config) -> set[str]:
    # The daemon's own way of deciding, imported here: prune needs it only to explain a
    # refusal, and the command line should not pay for it on every start.
    from nmsquota.daemon.record import standings_of
    from nmsquota.plans import configured_members, members, roster_of, rules_of
    from nmsquota.policy import Override, evaluate

    online = [session.subscriber for session in ledger.records.sessions()]
    roster = roster_of(config, ledger.records.provisioned(), online)
    overrides = [Override(r.subscriber, r.kind, r.reason, r.since, r.until, r.bytes, r.cap)
                 for r in ledger.records.overrides()]  # fmt: skip
    known = members(configured_members(config), ledger.records.provisioned())
    overrides += [Override(name, "exempt", "exempt in the configuration", since=0)
                  for name, member in known.items() if member.exempt]  # fmt: skip
    evaluation = evaluate(rules_of(config), dict(roster.plans), totals, now,
                          standings_of(ledger), overrides)  # fmt: skip
    return {decision.subscriber for decision in evaluation.limited}
