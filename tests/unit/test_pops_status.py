"""Every POP's last cycle (issue 24): each POP's daemon says in its health record which POP
it is, whether it decided and a fingerprint of the plans it runs; the read API gives a view
of each POP; `nmsquota status` and the check plugin name a POP whose daemon stopped, whose
access servers fail or which runs other plans than the deciding POP. A ledger with one
daemon shows what it always showed (the byte-for-byte tests in test_standings.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.check_ledger import Cycle, write_ledger
from fixtures.pops_ledger import CONFIG, NOW, OTHER_CAP, PopCycle, configured, fingerprint_of
from fixtures.pops_ledger import write_pops as write
from unit.test_check_plugin import CRITICAL, OK, WARNING, perfdata

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.ledger import Ledger
from nmsquota.ledger.base import Location
from nmsquota.ledger.codec import HEALTH, parse
from nmsquota.ledger.fingerprint import fingerprint, quota_records
from nmsquota.nms import summarise, summary
from nmsquota.nms.check import main as check_main
from nmsquota.standings import Reader, Snapshot

STALE = 3 * 300 + 60
"""A last cycle older than three intervals: its POP is stale."""


@pytest.fixture
def database(ledger_database: str) -> str:
    return ledger_database


def snapshot(location: Location, tmp_path: Path) -> Snapshot:
    return Reader.open(location, None).snapshot()


def status(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str]:
    code = main(["-c", str(config), "status", *argv], clock=ManualClock(NOW + 30))
    return code, capsys.readouterr().out


def poller(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        check_main(["poller", "-v", "--config", str(config)], now=NOW + 30)
    return int(exited.value.code or 0), capsys.readouterr().out.splitlines()


# -- the health record ---------------------------------------------------------------------


def test_a_health_record_from_before_pops_reads_as_one_deciding_daemon_of_no_pop() -> None:
    doc = {"number": 3, "started": 1.0, "due": 1.0, "seconds": 0.5, "devices_failed": {},
           "drivers": {}, "version": 1}  # fmt: skip
    (record,) = parse(HEALTH, [doc], "state.json")
    assert (record.pop, record.deciding, record.plans_fingerprint) == ("", True, "")


def test_the_plans_fingerprint_is_the_configurations_whatever_the_order_and_moves_with_a_cap(
    tmp_path: Path,
) -> None:
    subscribers, plans = quota_records(
        load_config(configured(tmp_path / "a", "postgresql:///unused", CONFIG))
    )
    same = fingerprint(subscribers, plans)
    assert fingerprint(subscribers[::-1], plans[::-1]) == same
    assert len(same) == 12 and same == fingerprint_of(CONFIG)
    assert fingerprint_of(OTHER_CAP) != same
    renamed = CONFIG.replace("[subscribers.carol]", "[subscribers.dave]")
    assert fingerprint_of(renamed) != same


# -- the read API ----------------------------------------------------------------------------


def test_a_ledger_one_daemon_writes_has_one_pop_with_no_name(
    ledger_at: Location, tmp_path: Path
) -> None:
    write_ledger(ledger_at, [], Cycle(age=60))
    with Ledger.open_reader(ledger_at) as reader:
        (health,) = reader.records.healths()
    snap = snapshot(ledger_at, tmp_path)
    assert health.pop == "" and [pop.name for pop in snap.pops] == [""]
    assert not snap.several_pops
    assert snap.pops[0].deciding and snap.pops[0].devices_ok == ("bras-1", "bras-2")


def test_every_pops_last_cycle_is_read_with_who_decides_and_who_runs_other_plans(
    database: str, tmp_path: Path
) -> None:
    write(database, [
        PopCycle("darwin", age=STALE, online=("bob", "carol"), other_plans=True),
        PopCycle("adelaide", deciding=True, online=("alice",)),
        PopCycle("perth", age=30, devices_failed={"bras-perth-2": "no answer"}),
    ])  # fmt: skip
    snap = snapshot(database, tmp_path)
    assert snap.several_pops
    assert [pop.name for pop in snap.pops] == ["adelaide", "darwin", "perth"]
    perth = snap.pops[2]
    assert [pop.deciding for pop in snap.pops] == [True, False, False]
    assert [pop.stale(NOW) for pop in snap.pops] == [False, True, False]
    assert [pop.sessions for pop in snap.pops] == [1, 2, 0]
    assert [pop.other_plans for pop in snap.pops] == [False, True, False]
    assert perth.devices_failed == {"bras-perth-2": "no answer"}
    # The latest cycle is still the one cycle shown first, and says whose it is.
    assert snap.cycle is not None and snap.cycle.pop == "perth"
    # Every POP's access servers, as the cycle of the POP polling each saw it.
    answered = {device.name: device.answered for device in snap.devices}
    assert answered == {"bras-adelaide": True, "bras-darwin": True, "bras-perth": True,
                        "bras-perth-2": False}  # fmt: skip


def test_a_pop_that_died_deciding_does_not_set_the_plans_the_others_are_judged_by(
    database: str, tmp_path: Path
) -> None:
    # Darwin decided until it died; Adelaide took over and runs other plans than Darwin.
    write(database, [PopCycle("darwin", deciding=True, age=STALE),
                     PopCycle("adelaide", deciding=True, other_plans=True)])  # fmt: skip
    darwin = next(pop for pop in snapshot(database, tmp_path).pops if pop.name == "darwin")
    assert darwin.other_plans  # judged against Adelaide's, the latest deciding


def test_a_summary_keeps_every_pop_as_the_read_api_has_them(database: str, tmp_path: Path) -> None:
    write(database, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=STALE)])
    snap = snapshot(database, tmp_path)
    made = summarise.summary_of(snap, (1, 2, 3))
    read = summary._summary_from(json.loads(made.encode().splitlines()[0]), b"")
    assert [pop.name for pop in read.pops] == ["adelaide", "darwin"]
    assert read.pops == made.pops
    assert [pop.stale(NOW) for pop in read.pops] == [False, True]


# -- nmsquota status -----------------------------------------------------------------------


def test_status_has_a_line_per_pop_naming_the_stale_one_and_the_one_with_other_plans(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [
        PopCycle("adelaide", deciding=True, online=("alice",)),
        PopCycle("darwin", age=STALE, online=("bob", "carol"), other_plans=True),
        PopCycle("perth", age=30, devices_failed={"bras-perth-2": "no answer"}),
    ])  # fmt: skip
    code, out = status(capsys, configured(tmp_path, database))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "last cycle 7 (POP perth) at 2027-01-15 07:59:30 (1m ago): 1.5s, 0.0s late"
    assert [line for line in lines if line.startswith("POP ")] == [
        "POP adelaide: deciding, cycle 7 1m30s ago; access servers: 1 ok, 0 failed",
        "POP darwin: following, cycle 7 16m30s ago; access servers: 1 ok, 0 failed; STALE (its "
        "daemon down?): 2 sessions on its access servers not counted; runs other plans than the "
        "deciding POP",
        "POP perth: following, cycle 7 1m ago; access servers: 1 ok, 1 failed (bras-perth-2)",
    ]


def test_status_is_well_when_every_pop_cycles_on_the_same_plans(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=200)])
    code, out = status(capsys, configured(tmp_path, database))
    assert code == 0
    assert "POP darwin: following, cycle 7 3m50s ago; access servers: 1 ok, 0 failed\n" in out
    # One POP alone is named too: it is a POP of a shared ledger.
    write(database, [PopCycle("darwin", age=STALE)])
    code, out = status(capsys, configured(tmp_path, database))
    assert code == 1 and "POP darwin: following" in out and "STALE (its daemon down?)" in out


def test_status_json_lists_every_pop(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True, online=("alice",)),
                     PopCycle("darwin", age=STALE, other_plans=True)])  # fmt: skip
    code, out = status(capsys, configured(tmp_path, database), "--json")
    assert code == 1
    pops = json.loads(out)["pops"]
    assert [(p["pop"], p["deciding"], p["stale"], p["sessions"], p["other_plans"])
            for p in pops] == [("adelaide", True, False, 1, False),
                               ("darwin", False, True, 0, True)]  # fmt: skip
    assert pops[0]["plans_fingerprint"] == fingerprint_of(CONFIG)
    assert pops[1]["age"] == STALE + 30 and pops[1]["devices_ok"] == ["bras-darwin"]


def test_status_of_one_daemon_has_no_pop_lines_nor_pops_in_its_json(
    capsys: pytest.CaptureFixture[str], ledger_at: Location, tmp_path: Path
) -> None:
    write_ledger(ledger_at, [], Cycle(age=60))
    config = configured(tmp_path, "postgresql:///unused")
    for argv in ([], ["--json"]):
        code = main(["-c", str(config), "status", "--ledger", str(ledger_at), *argv],
                    clock=ManualClock(NOW + 30))  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0 and "POP" not in out and '"pops"' not in out


# -- the check plugin ------------------------------------------------------------------------


def test_the_poller_check_is_critical_for_a_stale_pop_whose_access_servers_carry_sessions(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True),
                     PopCycle("darwin", age=STALE, online=("bob",))])  # fmt: skip
    code, lines = poller(capsys, configured(tmp_path, database))
    assert code == CRITICAL
    assert lines[0].startswith(
        "NMSQUOTA CRITICAL: POP darwin stale: its last cycle (7) was 16m30s ago (its daemon "
        "down?), 1 sessions on its access servers not counted; cycle 7 1m30s ago"
    )
    found = perfdata(lines[0])
    assert (found["pops"], found["pops_stale"], found["pops_other_plans"]) == (
        "2;;;0", "1;;;0;2", "0;;;0;2")  # fmt: skip
    assert "POP darwin: following, cycle 7 16m30s ago, STALE, 1 access servers answered, " \
        "0 failed, 1 sessions" in lines  # fmt: skip


def test_the_poller_check_warns_of_a_stale_pop_with_no_sessions_and_of_other_plans(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=STALE),
                     PopCycle("perth", other_plans=True)])  # fmt: skip
    code, lines = poller(capsys, configured(tmp_path, database))
    assert code == WARNING
    assert lines[0].startswith(
        "NMSQUOTA WARNING: POP darwin stale: its last cycle (7) was 16m30s ago (its daemon "
        "down?); POP perth runs other plans or subscribers than the deciding POP; cycle 7"
    )
    assert "POPs: 3, deciding: adelaide, stale: darwin, other plans: perth |" in lines[0]
    perfdata(lines[0])


def test_the_poller_check_counts_every_pops_access_servers(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(
        database,
        [
            PopCycle("adelaide", deciding=True, age=30),
            PopCycle("darwin", devices_ok=(), devices_failed={"bras-darwin": "x"}),
        ],
    )
    code, lines = poller(capsys, configured(tmp_path, database))
    # Darwin's access server failed in a cycle older than Adelaide's: still a warning.
    assert code == WARNING
    assert "1 of 2 access servers answered, failed: bras-darwin" in lines[0]
    assert perfdata(lines[0])["devices_failed"] == "1;0;1;0;2"


def test_the_poller_check_is_ok_when_every_pop_cycles_on_the_same_plans(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True), PopCycle("darwin", age=200)])
    code, lines = poller(capsys, configured(tmp_path, database))
    assert code == OK and "POPs: 2, deciding: adelaide |" in lines[0]
    assert perfdata(lines[0])["pops_stale"] == "0;;;0;2"


# -- the drivers check -----------------------------------------------------------------------


def drivers(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        check_main(["drivers", "-v", "--config", str(config)], now=NOW + 30)
    return int(exited.value.code or 0), capsys.readouterr().out.splitlines()


def test_the_drivers_check_reads_every_pops_drivers_where_a_following_pop_s_fail(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    """A following POP's driver that fails is CRITICAL, though the latest cycle (the
    deciding POP's) is clean: its drivers hold the limits of the subscribers online there."""
    write(database, [PopCycle("adelaide", deciding=True, age=30),
                     PopCycle("darwin", driver_errors=("nft: table missing",))])  # fmt: skip
    code, lines = drivers(capsys, configured(tmp_path, database))
    assert code == CRITICAL
    assert "adelaide/nftables ok, darwin/nftables failing" in lines[0]
    assert "errors: darwin/nftables: nft: table missing" in lines[0]
    assert perfdata(lines[0])["driver_errors"].startswith("1;")
    assert "driver darwin/nftables: failing" in lines


def test_the_drivers_check_says_a_stale_pop_s_drivers_are_not_known(
    capsys: pytest.CaptureFixture[str], database: str, tmp_path: Path
) -> None:
    write(database, [PopCycle("adelaide", deciding=True, age=30),
                     PopCycle("darwin", age=STALE, driver_errors=("old news",))])  # fmt: skip
    code, lines = drivers(capsys, configured(tmp_path, database))
    assert code == OK
    assert lines[0].startswith("NMSQUOTA OK: cycle 7: adelaide/nftables ok; ")
    assert "not known at stale POP darwin (see the poller check)" in lines[0]
    assert "old news" not in lines[0]


def test_a_summary_keeps_every_pop_s_drivers(database: str, tmp_path: Path) -> None:
    write(database, [PopCycle("adelaide", deciding=True),
                     PopCycle("darwin", driver_errors=("nft: table missing",))])  # fmt: skip
    made = summarise.summary_of(snapshot(database, tmp_path), (1, 2, 3))
    read = summary._summary_from(json.loads(made.encode().splitlines()[0]), b"")
    assert [[d.errors for d in pop.drivers] for pop in read.pops] == [
        [()], [("nft: table missing",)]]  # fmt: skip
