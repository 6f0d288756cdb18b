"""The read API's plan terms: each cap's rule (steps, rates) in the order of a view's caps."""

from __future__ import annotations

from pathlib import Path

from fixtures.check_ledger import Someone, build, write_config, write_ledger

from nmsquota.config import load_config
from nmsquota.ledger.base import Location
from nmsquota.standings import Reader
from nmsquota.standings.terms import plan_terms


def test_the_terms_pair_with_the_views_caps_in_order(tmp_path: Path, ledger_at: Location) -> None:
    config = load_config(write_config(tmp_path), check_drivers=False)
    write_ledger(ledger_at, [Someone("ana", plan="fair")])
    fair = plan_terms(config, "fair")
    view = Reader.open(ledger_at, config).snapshot().subscriber("ana")
    assert view is not None
    assert [cap.name for cap in view.caps] == [rule.name for rule in fair] == ["1h", "1d"]
    assert [rule.cap for rule in fair] == [10**9, 10 * 10**9]
    assert [rule.rate_bps for rule in fair] == [2_000_000, 1_000_000]
    [home] = plan_terms(config, "home")
    assert [(step.at, step.rate_bps) for step in home.steps] == [(90, 4_000_000)]


def test_no_plan_no_configuration_or_an_unknown_plan_has_no_terms(tmp_path: Path) -> None:
    data = build(tmp_path, [])
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    assert plan_terms(config, None) == ()
    assert plan_terms(config, "gone") == ()
    assert plan_terms(None, "home") == ()
