"""What the daemon keeps of its decisions: every subscriber's standing each cycle, the
records of the standings that did not change carried over as they were."""

from __future__ import annotations

import json
from pathlib import Path

from nmsquota.daemon.record import record_decisions, standings_of
from nmsquota.ledger import Ledger, Tally
from nmsquota.ledger.codec import STANDINGS
from nmsquota.policy import Rule, evaluate
from nmsquota.usage import Totals

MB = 1_000_000
HOME = Rule(cap=63 * MB, warn_at=(80, 100))
PLANS = {"alice": "home", "bob": "home", "carol": "home"}
T0 = 1_800_000_000


def cycle(ledger: Ledger, used: dict[str, int], now: int) -> None:
    """One decision on `used` (megabytes), recorded as the daemon does."""
    totals = {"home": {name: Totals(mb * MB, 0) for name, mb in used.items()}}
    evaluation = evaluate({"home": HOME}, PLANS, totals, now, standings_of(ledger))
    with ledger.batch():
        record_decisions(ledger, evaluation, {}, ["sim"], now)


def test_a_standing_that_did_not_change_is_kept_as_the_same_record(ledger_dir: Path) -> None:
    with Ledger.open_writer(ledger_dir, [Tally(86400)]) as ledger:
        cycle(ledger, {"alice": 10, "bob": 70}, T0)
        first = {r.subscriber: r for r in ledger.records.standings()}
        # Only alice moved bytes: bob (still limited) and carol (nothing) stand as they did.
        cycle(ledger, {"alice": 20, "bob": 70}, T0 + 300)
        second = {r.subscriber: r for r in ledger.records.standings()}
        assert second["bob"] is first["bob"] and second["carol"] is first["carol"]
        assert second["alice"] is not first["alice"] and second["alice"].used == 20 * MB
        assert second["bob"].limited and second["bob"].since == T0
        # What the next decision starts from is what a reader of the records would make.
        from nmsquota.daemon.record import _standing

        assert standings_of(ledger) == {name: _standing(r) for name, r in second.items()}
    stored = json.loads((ledger_dir / "state.json").read_text())["standings"]
    expected = STANDINGS.adapter.dump_python(list(second.values()), mode="json")
    assert list(stored.values()) == expected
    assert Ledger.open_reader(ledger_dir).records.standings() == list(second.values())
