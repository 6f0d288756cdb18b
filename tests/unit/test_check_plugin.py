"""check_nmsquota, the Monitoring Plugins check: each mode against ledgers built through the
ledger API (tests/fixtures/check_ledger.py), every threshold range form of the guidelines,
the one-line output, the timeout, and a ledger that cannot be read.

Every test runs twice: with the NMS summary the daemon writes after each commit (the plugin
must then not read the ledger at all), and with none (the plugin reads the ledger itself).
The two must say the same."""

from __future__ import annotations

import gc
import os
import re
import sys
from pathlib import Path

import pytest
from fixtures.check_ledger import GB, NOW, Cycle, Someone, build
from fixtures.control_server import Recorder, served

from nmsquota.config import load_config
from nmsquota.control import socket_path
from nmsquota.errors import NmsquotaError
from nmsquota.ledger import Ledger
from nmsquota.ledger.records import DriftRecord, DriverOutcomeRecord
from nmsquota.nms import summarise
from nmsquota.nms.check import main
from nmsquota.verdict import State

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
PERFDATA = re.compile(
    r"^(?:'[^'=]+'|[^' =]+)=-?[0-9.]+(?:[a-zA-Z%]+)?"  # 'label'=value[UOM]
    r"(?:;[~@0-9.:-]*){0,4}$"  # ;[warn];[crit];[min];[max]
)


SUMMARISED = False
"""Set by `read_from`: write the summary before each check, as the daemon does."""


@pytest.fixture(autouse=True, params=["summary", "ledger"])
def read_from(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys.modules[__name__], "SUMMARISED", request.param == "summary")
    return str(request.param)


def summarised(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Write `ledger`'s summary as the daemon's writer does (with the configuration beside
    it), and forbid the plugin to read the ledger itself. False if the ledger cannot be
    read (the daemon would have written no summary of it)."""
    if not (ledger / "state.json").is_file():  # none, or the timeout test's FIFO
        return False
    try:
        config = load_config(ledger.parent / "nmsquota.toml", check_drivers=False)
        summarise.write(ledger, summarise.read(ledger, config))
    except (NmsquotaError, OSError):
        return False

    def forbidden(*_args: object) -> None:
        raise AssertionError("the plugin read the ledger though a current summary was there")

    monkeypatch.setattr(summarise, "read", forbidden)
    return True


def check(capsys: pytest.CaptureFixture[str], data: Path, *argv: str,
          now: float = NOW + 30) -> tuple[int, list[str]]:  # fmt: skip
    """Run the plugin in this process: its exit status and its output lines."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        if SUMMARISED:
            summarised(data / "ledger", monkeypatch)
        return _run(capsys, data, *argv, now=now)


def _run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str,
         now: float) -> tuple[int, list[str]]:  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--config", str(data / "nmsquota.toml")], now=now)
    return int(exited.value.code or 0), capsys.readouterr().out.splitlines()


def perfdata(line: str) -> dict[str, str]:
    """The perfdata items of a first line, by label, each checked against the guidelines'
    `'label'=value[UOM];[warn];[crit];[min];[max]`."""
    _, _, items = line.partition(" | ")
    found = {}
    for item in items.split():
        assert PERFDATA.match(item), item
        label, _, rest = item.partition("=")
        found[label.strip("'")] = rest
    return found


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """Usage at 5, 10, 15, 25, 85 and 120% of the day cap; a plan of two caps; stepped,
    limited, limited and measured not to bite, warned."""
    return build(tmp_path, [
        Someone("p05", down=GB // 2), Someone("p10", down=GB), Someone("p15", down=15 * GB // 10),
        Someone("p25", down=25 * GB // 10),
        Someone("warned", down=85 * GB // 10, state=State.WARNED),
        Someone("stepped", down=95 * GB // 10, state=State.STEPPED, rate=4_000_000, step_at=90.0),
        Someone("over", down=12 * GB, state=State.LIMITED, rate=1_000_000),
        Someone("fair", plan="fair", down=GB // 2),
    ])  # fmt: skip


# -- subscriber: every range form of the guidelines --------------------------------------

RANGES = [
    # range, {percent of the cap: alert?}
    ("10", {5: False, 10: False, 15: True}),  # outside 0..10
    ("10:", {5: True, 10: False, 15: False}),  # below 10
    ("~:10", {5: False, 10: False, 15: True}),  # above 10
    ("10:20", {5: True, 15: False, 25: True}),  # outside 10..20
    ("@10:20", {5: False, 10: True, 15: True, 25: False}),  # inside 10..20
]


@pytest.mark.parametrize(("flag", "state"), [("-w", WARNING), ("-c", CRITICAL)])
@pytest.mark.parametrize(("given", "alerts"), RANGES, ids=[r for r, _ in RANGES])
def test_a_threshold_range_alerts_as_the_guidelines_say(
    capsys: pytest.CaptureFixture[str], people: Path, flag: str, state: int, given: str,
    alerts: dict[int, bool],
) -> None:  # fmt: skip
    for percent, alert in alerts.items():
        code, lines = check(capsys, people, flag, given, "subscriber", f"p{percent:02d}")
        assert code == (state if alert else OK), (percent, lines)
        status = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}[code]
        assert lines[0].startswith(f"NMSQUOTA {status}: ")


def test_a_subscriber_is_warned_from_80_and_critical_from_100_percent_by_default(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    assert check(capsys, people, "subscriber", "p25")[0] == OK
    code, lines = check(capsys, people, "subscriber", "warned")
    assert code == WARNING
    assert lines[0].startswith("NMSQUOTA WARNING: usage_1d at 85% (outside range 0:80)")
    code, lines = check(capsys, people, "subscriber", "over")
    assert code == CRITICAL
    assert perfdata(lines[0])["usage_1d"] == "120.0%;80;100;0"


def test_a_subscriber_shows_each_cap_in_percent_and_bytes_and_the_limit_in_force(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    code, lines = check(capsys, people, "subscriber", "fair")
    assert code == OK
    assert lines == [lines[0]]
    assert "fair: 1h 50% of 1.0 GB, 1d 5% of 10.0 GB, not limited" in lines[0]
    found = perfdata(lines[0])
    assert found["usage_1h"] == "50.0%;80;100;0"
    assert found["used_1h"] == "500000000B;;;0;1000000000"
    assert found["usage_1d"] == "5.0%;80;100;0"
    assert found["limit_bps"] == "0;;;0"
    _, lines = check(capsys, people, "subscriber", "stepped")
    assert "limited to 4Mbit (over the 1d cap), on the 1d step at 90%" in lines[0]
    assert perfdata(lines[0])["limit_bps"] == "4000000;;;0"


def test_a_limit_measured_not_to_bite_is_in_the_subscribers_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [Someone("leaky", down=GB, state=State.LIMITED, rate=1_000_000,
                                    flagged=True)])  # fmt: skip
    _, lines = check(capsys, data, "subscriber", "leaky")
    assert "LIMIT NOT EFFECTIVE: measured 9.0Mbit" in lines[0]


def test_a_subscriber_not_known_is_unknown(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    code, lines = check(capsys, people, "subscriber", "nobody")
    assert (code, lines) == (UNKNOWN, ["NMSQUOTA UNKNOWN: no subscriber nobody in the ledger "
                                       "or the configuration"])  # fmt: skip


@pytest.mark.parametrize("name", ["evil\nCRITICAL", "pipe|x=1", "bidi\u202eright", "tab\there"])
def test_a_name_with_a_newline_or_control_character_is_escaped_on_the_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    # Provisioned in the ledger and limited (usage samples take login names only).
    data = build(tmp_path, [Someone(name, state=State.LIMITED, rate=1_000_000)])
    for argv in (["subscriber", name], ["-v", "limited"]):
        code, lines = check(capsys, data, *argv)
        assert code == OK
        first = lines[0]
        assert first.count("|") == 1 and first.isprintable()
        assert all(line.isprintable() for line in lines)
    _, lines = check(capsys, data, "subscriber", name)
    escaped = name.encode("unicode_escape").decode().replace("\\n", "\\x0a").replace(
        "\\t", "\\x09").replace("|", "\\x7c")  # fmt: skip
    assert lines[0].startswith(f"NMSQUOTA OK: {escaped}: 1d 0%")


# -- poller ----------------------------------------------------------------------------


def test_a_recent_cycle_is_ok_with_its_age_and_the_default_ranges_in_perfdata(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = check(capsys, build(tmp_path, [], Cycle(age=60)), "poller")
    assert code == OK
    assert lines[0].startswith("NMSQUOTA OK: cycle 42 1m30s ago, took 1.5s of its 300s "
                               "interval; 2 of 2 access servers answered |")  # fmt: skip
    found = perfdata(lines[0])
    assert found["age"] == "90.0s;600;900;0"
    assert found["devices_failed"] == "0;0;1;0;2"


@pytest.mark.parametrize(("age", "state"), [(500, OK), (700, WARNING), (1000, CRITICAL)])
def test_a_cycle_late_by_two_intervals_warns_and_stale_by_three_is_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, age: float, state: int
) -> None:
    code, _ = check(capsys, build(tmp_path, [], Cycle(age=age)), "poller", now=NOW)
    assert code == state


def test_the_cycles_age_ranges_can_be_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [], Cycle(age=90))
    code, lines = check(capsys, data, "-w", "60", "-c", "120", "poller", now=NOW)
    assert code == WARNING
    assert lines[0].startswith("NMSQUOTA WARNING: last cycle 90s old (outside range 0:60)")
    assert check(capsys, data, "-w", "60", "-c", "80", "poller", now=NOW)[0] == CRITICAL


def test_a_cycle_that_overran_its_interval_warns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = check(capsys, build(tmp_path, [], Cycle(seconds=400)), "poller")
    assert code == WARNING
    assert "the cycle took 400s, longer than its interval" in lines[0]


def test_an_access_server_failing_warns_and_all_failing_is_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    one = build(tmp_path / "one", [], Cycle(devices_ok=("bras-1",),
                                            devices_failed={"bras-2": "no answer"}))  # fmt: skip
    code, lines = check(capsys, one, "-v", "poller")
    assert code == WARNING
    assert "1 of 2 access servers answered, failed: bras-2" in lines[0]
    assert lines[1:] == ["bras-2: timeout: no answer"]
    every = build(tmp_path / "all", [], Cycle(devices_ok=(), devices_failed={"a": "x", "b": "y"}))
    assert check(capsys, every, "poller")[0] == CRITICAL


def test_no_cycle_recorded_is_critical(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines = check(capsys, build(tmp_path, [], cycle=None), "poller")
    assert (code, lines) == (CRITICAL, ["NMSQUOTA CRITICAL: no cycle recorded: the daemon has "
                                        "not run on this ledger"])  # fmt: skip


def test_a_demos_simulated_cycle_is_never_late(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [], Cycle(age=86400, simulated=True))
    code, lines = check(capsys, data, "poller")
    assert code == OK
    assert "on a simulated clock" in lines[0] and "age" not in perfdata(lines[0])


# -- limited ---------------------------------------------------------------------------


def test_limited_counts_the_limited_the_stepped_and_the_warned(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    code, lines = check(capsys, people, "limited")
    assert code == OK
    assert lines[0].startswith("NMSQUOTA OK: 2 of 8 subscribers limited (25.0%), 1 of them on "
                               "a step; 1 warned |")  # fmt: skip
    found = perfdata(lines[0])
    assert (found["limited"], found["stepped"], found["warned"]) == ("2;;;0;8", "1;;;0;8",
                                                                    "1;;;0;8")  # fmt: skip


def test_limited_thresholds_are_on_the_number_limited(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    assert check(capsys, people, "-w", "1", "-c", "5", "limited")[0] == WARNING
    code, lines = check(capsys, people, "-w", "1", "-c", "1", "limited")
    assert code == CRITICAL
    assert perfdata(lines[0])["limited"] == "2;1;1;0;8"


# -- drivers ---------------------------------------------------------------------------


def test_drivers_that_reconciled_cleanly_are_ok(
    capsys: pytest.CaptureFixture[str], people: Path
) -> None:
    code, lines = check(capsys, people, "drivers")
    assert code == OK
    assert lines[0].startswith("NMSQUOTA OK: cycle 42: nftables ok; 1 limits added, 0 removed, "
                               "2 in force |")  # fmt: skip


def test_a_limited_subscriber_still_above_the_limit_is_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [Someone("leaky", down=GB, state=State.LIMITED, rate=1_000_000,
                                    flagged=True)])  # fmt: skip
    code, lines = check(capsys, data, "drivers")
    assert code == CRITICAL
    assert lines[0].startswith("NMSQUOTA CRITICAL: 1 limits measured not effective")
    assert "limit not effective on leaky" in lines[0]
    # -c raises the bar: one such limit is tolerated.
    assert check(capsys, data, "-c", "1", "drivers")[0] == OK


def test_a_driver_error_is_critical_and_drift_warns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    failing = {"nftables": DriverOutcomeRecord(errors=("nft: table missing",))}
    code, lines = check(capsys, build(tmp_path / "e", [], Cycle(drivers=failing)), "drivers")
    assert code == CRITICAL
    assert "errors: nftables: nft: table missing" in lines[0]
    kept = DriftRecord(since=NOW - 600, cycles=2)
    drifting = {"tc": DriverOutcomeRecord(drift=("class 1:5 removed",), drifting=kept)}
    code, lines = check(capsys, build(tmp_path / "d", [], Cycle(drivers=drifting)), "-v", "drivers")
    assert code == WARNING
    assert lines[0].startswith("NMSQUOTA WARNING: 1 drivers drifting")
    assert lines[1] == "driver tc: drifting"


def test_drivers_of_a_stale_cycle_are_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = check(capsys, build(tmp_path, [], Cycle(age=3600)), "drivers", now=NOW)
    assert code == UNKNOWN
    assert lines[0].startswith("NMSQUOTA UNKNOWN: the last cycle (42) is stale, 1h ago")


# -- ledger ----------------------------------------------------------------------------


def test_a_ledger_with_its_writer_running_is_ok(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [])
    with Ledger.open_writer(data / "ledger"):
        code, lines = check(capsys, data, "ledger")
    assert code == OK
    assert f"readable, written by process {os.getpid()}, last commit 30s ago" in lines[0]
    assert perfdata(lines[0])["commit_age"] == "30.0s;;;0"


def test_a_ledger_without_its_writer_is_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = check(capsys, build(tmp_path, []), "ledger")
    assert code == CRITICAL
    assert lines[0].startswith("NMSQUOTA CRITICAL: no writer: no process holds its writer lock "
                               "(the daemon is not running)")  # fmt: skip


def test_a_daemon_whose_writes_fail_is_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [])
    failing = {"failing_since": NOW - 600, "error": "No space left on device", "cycles": 2}
    with Ledger.open_writer(data / "ledger"), served(
        socket_path(data / "ledger"), Recorder({"ok": True, "ledger_write_failure": failing})
    ):  # fmt: skip
        code, lines = check(capsys, data, "ledger")
    assert code == CRITICAL
    assert lines[0].startswith("NMSQUOTA CRITICAL: ledger: writes failing since 10m30s ago (2 not "
                               "recorded;")  # fmt: skip
    assert "No space left on device" in lines[0]


def test_a_corrupt_ledger_is_critical_in_ledger_mode_and_unknown_in_the_others(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [Someone("alice", down=GB)])
    (data / "ledger" / "state.json").write_text('{"_default": {"1": ')
    code, lines = check(capsys, data, "ledger")
    assert code == CRITICAL
    assert lines[0].startswith("NMSQUOTA CRITICAL: cannot read the ledger: ledger file ")
    assert "state.json" in lines[0] and len(lines) == 1
    for mode in (["poller"], ["limited"], ["drivers"], ["subscriber", "alice"]):
        code, lines = check(capsys, data, *mode)
        assert code == UNKNOWN
        assert lines[0].startswith("NMSQUOTA UNKNOWN: cannot read the ledger: ledger file ")


def test_a_missing_ledger_is_critical_in_ledger_mode_and_unknown_in_the_others(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "nmsquota.toml").write_text(f'data_dir = "{tmp_path / "nowhere"}"\n')
    code, lines = check(capsys, tmp_path, "ledger")
    assert (code, lines[0][:48]) == (CRITICAL, "NMSQUOTA CRITICAL: cannot read the ledger: no le")
    assert check(capsys, tmp_path, "poller")[0] == UNKNOWN


def test_a_bad_configuration_is_unknown_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "nmsquota.toml").write_text('interval = "soon"\n[plans.x]\ncap = "lots"\n')
    for mode in ("ledger", "poller"):
        code, lines = check(capsys, tmp_path, mode)
        assert code == UNKNOWN and len(lines) == 1
        assert lines[0].startswith("NMSQUOTA UNKNOWN: configuration: ")


# -- timeout and usage ---------------------------------------------------------------------


def test_a_read_that_outlasts_the_timeout_is_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = build(tmp_path, [])
    state = data / "ledger" / "state.json"
    state.unlink()
    os.mkfifo(state)  # opening it for reading waits for a writer that never comes
    code, lines = check(capsys, data, "-t", "1", "poller")
    assert (code, lines) == (UNKNOWN, ["NMSQUOTA UNKNOWN: Timeout: check execution aborted "
                                       "after 1s"])  # fmt: skip


@pytest.mark.parametrize("argv", [["-w", "20:10", "poller"], ["-w", "x", "poller"],
                                  ["subscriber"], ["poller", "extra"], ["-t", "0", "poller"],
                                  ["nonsense"]])  # fmt: skip
def test_bad_usage_is_unknown_on_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          argv: list[str]) -> None:  # fmt: skip
    code, lines = check(capsys, tmp_path, *argv)
    assert code == UNKNOWN and len(lines) == 1
    assert lines[0].startswith("NMSQUOTA UNKNOWN: ") and lines[0].endswith("--help)")


def test_help_shows_the_modes_and_the_range_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    assert exited.value.code == UNKNOWN
    for text in ("subscriber NAME", "poller", "limited", "drivers", "ledger", "@10:20",
                 "~:10", "-t SECONDS", "--config FILE"):  # fmt: skip
        assert text in out


def test_version_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert re.fullmatch(r"check_nmsquota v\S+ \(nmsquota \S+\)\n", capsys.readouterr().out)


def test_the_plugin_leaves_the_garbage_collector_on_for_a_caller_in_the_same_process() -> None:
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        main(["--version"])
    assert gc.isenabled()
