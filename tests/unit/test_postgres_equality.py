"""The PostgreSQL store gives the TinyDB store's numbers to the byte: the same commits on
both (random samples, the clock moving forward and sometimes back, late samples, reopened
writers, prunes and replaces) leave the same totals, edges, samples and recounts for every
window."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

from fixtures import postgres
from fixtures.commit_plans import commit_plans
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmsquota.ledger import FreeHours, Ledger, Monthly, Sample, Tally

T0 = 1_700_000_000  # 2023-11-14, a Tuesday
TALLIES = [
    Tally(7 * 86400),
    Tally(3600),
    Tally(2 * 3600, FreeHours(0, 6 * 60, "Australia/Adelaide")),
    # Resets on the 15th, local time: a day after T0, so the commits cross a reset.
    Tally(31 * 86400, period=Monthly(15, "Australia/Adelaide")),
    Tally(86400, FreeHours(22 * 60, 2 * 60)),
]

steps = commit_plans(
    st.sampled_from(["", "", "", "reopen", "prune", "replace"]),
    names=("alice", "bob", "carol", "dave@isp"),
    per_cycle=5,
    commits=12,
)


@contextlib.contextmanager
def database(server: postgres.Server) -> Iterator[str]:
    with postgres.fresh_ledger_database(server) as url:
        yield url


def same(tiny: Ledger, pg: Ledger) -> None:
    assert pg.seq == tiny.seq
    assert pg.as_of == tiny.as_of
    assert [t.key for t in pg.tallies()] == [t.key for t in tiny.tallies()]
    for tally in TALLIES:
        assert pg.edge(tally) == tiny.edge(tally), tally.key
        assert pg.totals(tally) == tiny.totals(tally), tally.key
        assert pg.recount(tally, pg.edge(tally)) == tiny.recount(tally, tiny.edge(tally))
    assert list(pg.samples()) == list(tiny.samples())
    assert list(pg.samples(["bob"], after=T0 - 3600, until=T0 + 86400)) == list(
        tiny.samples(["bob"], after=T0 - 3600, until=T0 + 86400)
    )
    times = sorted({sample.time for sample in tiny.samples()})
    if times:  # bounds on a sample's own time: after excludes it, until includes it
        middle = times[len(times) // 2]
        assert list(pg.samples(after=middle)) == list(tiny.samples(after=middle))
        assert list(pg.samples(until=middle)) == list(tiny.samples(until=middle))
    columns, expected = pg.sample_columns(), tiny.sample_columns()
    assert {n: list(c) for n, c in columns.items()} == {n: list(c) for n, c in expected.items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(plan=steps)
def test_both_stores_keep_the_same_totals_for_the_same_commits(
    postgres_server: postgres.Server, plan: list
) -> None:
    with tempfile.TemporaryDirectory() as directory, database(postgres_server) as url:
        tiny, pg = Ledger.open_writer(directory, TALLIES), Ledger.open_writer(url, TALLIES)
        now = T0
        try:
            for move, rows, then in plan:
                now += move
                samples = [Sample(name, now - age, i, o) for name, age, i, o in rows]
                assert pg.commit(now, samples) == tiny.commit(now, samples)
                if then == "reopen":
                    tiny.close()
                    pg.close()
                    tiny, pg = (
                        Ledger.open_writer(directory, TALLIES),
                        Ledger.open_writer(url, TALLIES),
                    )
                elif then == "prune":
                    cutoff = now - 2 * 3600
                    kept_tiny: list[Sample] = []
                    kept_pg: list[Sample] = []
                    tiny.prune(cutoff, kept_tiny.extend)
                    pg.prune(cutoff, kept_pg.extend)
                    assert kept_pg == kept_tiny
                elif then == "replace":  # every sample but bob's, as `records import --replace`
                    kept = [sample for sample in tiny.samples() if sample.subscriber != "bob"]
                    old_tiny: list[Sample] = []
                    old_pg: list[Sample] = []
                    seq = tiny.replace(now, kept, old_tiny.extend)
                    assert pg.replace(now, kept, old_pg.extend) == seq
                    assert old_pg == old_tiny
                same(tiny, pg)
            with Ledger.open_reader(url) as reader:
                same(Ledger.open_reader(directory), reader)
        finally:
            tiny.close()
            pg.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(plan=steps, kept=st.lists(st.sampled_from(TALLIES), min_size=1, max_size=3))
def test_a_new_window_and_a_rebuild_recount_the_same_on_both(
    postgres_server: postgres.Server, plan: list, kept: list[Tally]
) -> None:
    with tempfile.TemporaryDirectory() as directory, database(postgres_server) as url:
        with Ledger.open_writer(directory, kept) as tiny, Ledger.open_writer(url, kept) as pg:
            now = T0
            for move, rows, _ in plan:
                now += move
                samples = [Sample(name, now - age, i, o) for name, age, i, o in rows]
                tiny.commit(now, samples)
                pg.commit(now, samples)
        # Every window now, some of them new: each new one recounted at its edge.
        with Ledger.open_writer(directory, TALLIES) as tiny, Ledger.open_writer(url, TALLIES) as pg:
            same(tiny, pg)
        with (
            Ledger.open_writer(directory, TALLIES, rebuild=True) as tiny,
            Ledger.open_writer(url, TALLIES, rebuild=True) as pg,
        ):
            same(tiny, pg)
