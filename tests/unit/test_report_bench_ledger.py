"""The report benchmark's ledger (bench/report_ledger.py), built small: it must look like a
daemon's week (most subscribers light, the ones over a threshold stepped or limited, with
their records) and its extra cycle must move only the few subscribers it says, or the
incremental figure it times means nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from nmsquota.ledger import Ledger
from nmsquota.ledger.records import EventKind
from nmsquota.verdict import State

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_ledger", REPO / "bench/report_ledger.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def week(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("week")
    bench.build(data, count=200)
    return data


def caps_of(bench: ModuleType, data: Path) -> dict[str, int]:
    ledger = Ledger.open_reader(data / "ledger")
    return {record.name: bench.PLANS[record.plan] for record in ledger.records.provisioned()}


def test_most_subscribers_are_light_and_some_reach_their_cap(bench: ModuleType, week: Path) -> None:
    ledger = Ledger.open_reader(week / "ledger")
    caps = caps_of(bench, week)
    totals = ledger.totals()
    shares = sorted(
        totals[name].bytes_in / cap if name in totals else 0 for name, cap in caps.items()
    )

    assert len(caps) == 200
    assert shares[len(shares) // 2] < 0.25
    assert any(share >= 1 for share in shares)
    assert ledger.as_of == bench.AS_OF


def test_standings_limits_and_events_follow_the_counted_usage(
    bench: ModuleType, week: Path
) -> None:
    ledger = Ledger.open_reader(week / "ledger")
    caps = caps_of(bench, week)
    totals = ledger.totals()
    standings = {s.subscriber: s for s in ledger.records.standings()}
    applied = {e.subscriber for e in ledger.records.events() if e.kind is EventKind.LIMIT_APPLIED}

    for name, cap in caps.items():
        used = totals[name].bytes_in if name in totals else 0
        state = standings[name].state if name in standings else State.OK
        if used >= cap:
            assert state is State.LIMITED, name
        elif used * 100 >= bench.STEP_AT * cap:
            assert state is State.STEPPED, name
        else:
            assert state is State.OK, name
    assert {limit.subscriber for limit in ledger.records.limits()} == set(standings)
    assert applied == set(standings)


def test_the_extra_cycle_moves_only_its_few_subscribers(bench: ModuleType, tmp_path: Path) -> None:
    # A whole week: the window's edge moves with the cycle, and must drop nobody's usage.
    bench.build(tmp_path, count=100)
    before = Ledger.open_reader(tmp_path / "ledger").totals()

    movers = bench.add_cycle(tmp_path)

    ledger = Ledger.open_reader(tmp_path / "ledger")
    after = ledger.totals()
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert 0 < len(movers) < 0.05 * 100
    assert changed == set(movers)
    assert ledger.as_of == bench.AS_OF + bench.INTERVAL
