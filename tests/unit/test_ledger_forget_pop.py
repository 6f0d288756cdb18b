"""`nmsquota ledger forget-pop NAME` (issue 24): a POP closed for good leaves its last cycle
in a shared ledger, and status, the console and the check plugin would list it as stale for
ever. Forgetting it removes its per-POP records and counter baselines, and nothing the
other POPs wrote or anything it counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.pops_ledger import NOW, PopCycle, configured, write_pops

from nmsquota.cli import main
from nmsquota.ledger import Ledger, Tally
from nmsquota.ledger.backends import shown
from nmsquota.ledger.codec import HEALTH, SESSIONS
from nmsquota.standings import Reader


def pops_of(url: str) -> list[str]:
    with Ledger.open_reader(url) as ledger:
        return sorted(record.pop for record in ledger.records.every_pop(HEALTH))


def test_a_pop_forgotten_is_gone_and_the_rest_stays(
    ledger_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ledger_database
    with Ledger.open_writer(url, [Tally(86400)], pop="adelaide"):
        pass  # the shared day window the deciding POP's commit moves
    write_pops(url, [PopCycle("adelaide", deciding=True, online=("alice",)),
                     PopCycle("darwin", age=7200, online=("bob", "carol"))])  # fmt: skip
    with Ledger.open_writer(url, pop="darwin") as darwin:
        darwin.set_counter_state("bras-darwin", {"ifIndex 3": {"in": 10, "out": 20}})
    with Ledger.open_reader(url) as before:
        totals = before.totals()

    assert main(["ledger", "forget-pop", "darwin", "--ledger", url]) == 0
    assert capsys.readouterr().out == (
        f"forgot POP darwin in {shown(url)}: 1 last cycle, 0 access server records, "
        "2 sessions, counter baselines of 1 access server; the usage it counted stays in "
        "the windows\n"
    )
    assert pops_of(url) == ["adelaide"]
    with Ledger.open_reader(url) as after:
        assert after.totals() == totals and totals["alice"].bytes_in == 10**8
        online = [r.subscriber for r in after.records.every_pop(SESSIONS) if r.online]
        assert online == ["alice"]
    with Ledger.open_writer(url, pop="darwin") as darwin:
        assert darwin.counter_states() == {}
    with Ledger.open_writer(url, pop="adelaide") as adelaide:
        assert adelaide.records.health() is not None


def test_status_lists_a_forgotten_pop_no_more(
    tmp_path: Path, ledger_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ledger_database
    write_pops(url, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=7200)])
    config = configured(tmp_path, url)
    with Reader.open(url, None) as reader:
        assert [pop.name for pop in reader.snapshot().pops] == ["adelaide", "darwin"]
    assert main(["-c", str(config), "ledger", "forget-pop", "darwin"]) == 0
    with Reader.open(url, None) as reader:
        assert [pop.name for pop in reader.snapshot().pops] == ["adelaide"]
    capsys.readouterr()


def test_a_pop_whose_daemon_runs_is_not_forgotten(
    ledger_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ledger_database
    write_pops(url, [PopCycle("adelaide", deciding=True), PopCycle("darwin")])
    with Ledger.open_writer(url, pop="darwin"):  # its daemon
        assert main(["ledger", "forget-pop", "darwin", "--ledger", url]) != 0
    assert "already open for writing" in capsys.readouterr().err
    assert pops_of(url) == ["adelaide", "darwin"]


def test_an_unknown_pop_or_a_directory_is_refused_by_name(
    tmp_path: Path, ledger_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ledger_database
    write_pops(url, [PopCycle("adelaide", deciding=True), PopCycle("darwin")], NOW)
    assert main(["ledger", "forget-pop", "perth", "--ledger", url]) == 2
    assert capsys.readouterr().err == (
        f"nmsquota: ledger {shown(url)} holds nothing of POP 'perth' (the POPs it holds: "
        "adelaide, darwin)\n"
    )
    with Ledger.open_writer(tmp_path / "ledger"):
        pass
    assert main(["ledger", "forget-pop", "darwin", "--ledger", str(tmp_path / "ledger")]) == 2
    assert "is a TinyDB ledger (a directory)" in capsys.readouterr().err
