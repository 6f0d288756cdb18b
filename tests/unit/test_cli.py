"""The command line: usage, export, import, prune and config check on real ledgers."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO
from fixtures.config_file import WriteConfig, access_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.ledger import Ledger, Sample, Tally
from nmsquota.records import TextForm
from nmsquota.sim.paper_week import paper_week

T0 = 997_000_000
NOW = T0 + 7 * 86400
PLANS = {
    "paper": {"cap": "63MB"},
    "daily": {"cap": "1GB", "window": "1d", "direction": "both"},
}
SUBSCRIBERS = {
    "biguser": {"plan": "paper"},
    "davidn": {"plan": "daily"},
    "idle": {"plan": "paper"},
}


def run(capsys: pytest.CaptureFixture[str], *argv: str, now: int = NOW) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv], clock=ManualClock(now))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """A ledger with a week of the paper's subscribers, committed hour by hour."""
    directory = tmp_path / "ledger"
    with Ledger.open_writer(directory, [Tally(7 * 86400), Tally(86400)]) as ledger:
        batch: list[Sample] = []
        for sample in paper_week(T0):
            if batch and sample.time != batch[-1].time and sample.time % 3600 == 0:
                ledger.commit(batch[-1].time, batch)
                batch = []
            batch.append(sample)
        ledger.commit(NOW, batch)
    return directory


@pytest.fixture
def config(config_file: WriteConfig) -> Path:
    return config_file(timezone="UTC", plans=PLANS, subscribers=SUBSCRIBERS)


@pytest.mark.parametrize(
    "command", ["usage", "export", "import", "prune", "rebuild", "poll", "config", "demo"]
)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert f"nmsquota {command}" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["export", "import"])
def test_every_option_of_export_and_import_says_what_it_does(command: str) -> None:
    from nmsquota.cli import build_parser

    subcommands = next(a for a in build_parser()._actions if a.choices and command in a.choices)
    parser = subcommands.choices[command]  # type: ignore[index]
    unexplained = [a.option_strings for a in parser._actions if a.option_strings and not a.help]
    assert unexplained == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("nmsquota 0.")


def test_usage_totals_match_the_ledger_and_use_each_plans_window(
    capsys: pytest.CaptureFixture[str], week: Path, config: Path
) -> None:
    status, out, _ = run(capsys, "--config", config, "usage", "--ledger", week, "--json")
    assert status == 0
    report = {entry["name"]: entry for entry in json.loads(out)["subscribers"]}
    ledger = Ledger.open_reader(week)
    weekly, daily = ledger.totals(Tally(7 * 86400)), ledger.totals(Tally(86400))
    assert report["biguser"]["bytes_in"] == weekly["biguser"].bytes_in
    assert report["biguser"]["window_key"] == "7d"
    assert report["davidn"]["window_key"] == "1d"
    assert report["davidn"]["used"] == daily["davidn"].bytes_in + daily["davidn"].bytes_out
    assert report["idle"]["bytes_in"] == 0  # configured, no usage: still listed
    assert report["susannes"]["bytes_in"] == weekly["susannes"].bytes_in  # usage, no config


def test_usage_prints_a_sorted_table_in_human_units(
    capsys: pytest.CaptureFixture[str], week: Path, config: Path
) -> None:
    status, out, _ = run(capsys, "--config", config, "usage", "--ledger", week, "--sort", "in")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SUBSCRIBER", "IN", "OUT", "WINDOW", "PLAN", "CAP", "USED"]
    assert lines[1].split()[0] == "biguser"
    assert "GB" in lines[1] and lines[1].endswith("%")


def test_usage_verbose_lists_each_record_and_bytes_are_exact(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    status, out, _ = run(
        capsys, "usage", "--ledger", week, "-v", "--bytes", "--tz", "UTC", "davidn"
    )
    assert status == 0
    records = [s for s in Ledger.open_reader(week).samples(["davidn"]) if s.time > NOW - 7 * 86400]
    rows = [line.split() for line in out.splitlines() if line.startswith("davidn ")]
    assert len(rows) == len(records) + 1  # each record, then the total
    assert rows[0][-2:] == [str(records[0].bytes_in), str(records[0].bytes_out)]
    assert rows[0][1:6] == TextForm("display", ZoneInfo("UTC")).stamp(records[0].time).split()
    assert rows[-1][1] == str(sum(r.bytes_in for r in records))


def test_usage_with_another_window_recounts(capsys: pytest.CaptureFixture[str], week: Path) -> None:
    status, out, _ = run(capsys, "usage", "--ledger", week, "--window", "2h", "--json")
    assert status == 0
    expected = Ledger.open_reader(week).recount(Tally(7200), NOW - 7200)
    got = {e["name"]: e["bytes_in"] for e in json.loads(out)["subscribers"]}
    assert got == {name: totals.bytes_in for name, totals in expected.items()}


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("lots", "expected a duration such as 300s, 5m, 1h30m, 7d or 2w (s, m, h, d, w), got "
                 "'lots'"),
        ("-1d", "expected a duration such as 300s"),
        ("0s", "a window must be longer than nothing, got '0s'"),
    ],
)  # fmt: skip
def test_usage_refuses_a_window_that_is_not_one_in_one_line(
    capsys: pytest.CaptureFixture[str], week: Path, window: str, expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "usage", "--ledger", week, f"--window={window}")
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"nmsquota usage: error: argument --window: {expected}")


@pytest.mark.parametrize("form", ["--numeric", "--display"])
def test_export_then_import_then_export_is_byte_for_byte(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path, form: str
) -> None:
    first = tmp_path / "first.txt"
    assert (
        run(capsys, "export", "--ledger", week, form, "--tz", "Australia/Adelaide", "-o", first)[0]
        == 0
    )
    copy = tmp_path / "copy"
    assert run(capsys, "import", "--ledger", copy, "--tz", "Australia/Adelaide", first)[0] == 0
    status, out, _ = run(capsys, "export", "--ledger", copy, form, "--tz", "Australia/Adelaide")
    assert status == 0
    assert out == first.read_text()
    assert len(out.splitlines()) == len(list(Ledger.open_reader(week).samples()))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alice", "bob", "544", "x.y@realm"]),
            st.integers(min_value=0, max_value=3 * 86400),
            st.integers(min_value=0, max_value=10**12),
            st.integers(min_value=0, max_value=10**9),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_import_then_export_gives_back_any_time_ordered_text(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory, rows: list
) -> None:
    rows.sort(key=lambda row: row[1])
    text = "".join(f"{name} {T0 + t} {i} {o}\n" for name, t, i, o in rows)
    directory = tmp_path_factory.mktemp("roundtrip")
    source = directory / "in.txt"
    source.write_text(text)
    assert run(capsys, "import", "--ledger", directory / "ledger", source)[0] == 0
    status, out, _ = run(capsys, "export", "--ledger", directory / "ledger")
    assert (status, out) == (0, text)


def test_a_bad_line_imports_nothing_and_names_the_line(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path
) -> None:
    before = run(capsys, "export", "--ledger", week)[1]
    bad = tmp_path / "bad.txt"
    bad.write_text("davidn 997972561 10 20\ndavidn 997972861 10 20\ndavidn 997973161 ten 20\n")
    status, _, err = run(capsys, "import", "--ledger", week, bad)
    assert status == 2
    assert f"{bad}:3: expected SUBSCRIBER EPOCH IN OUT" in err
    assert run(capsys, "export", "--ledger", week)[1] == before


def test_import_replace_keeps_a_copy_of_what_it_replaced(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path
) -> None:
    before = run(capsys, "export", "--ledger", week)[1]
    fixed = tmp_path / "fixed.txt"
    fixed.write_text(f"davidn {NOW - 60} 10 20\n")
    assert run(capsys, "import", "--ledger", week, "--replace", fixed)[0] == 0
    assert run(capsys, "export", "--ledger", week)[1] == fixed.read_text()
    (backup,) = week.glob("replaced-*.txt")
    assert backup.read_text() == before
    ledger = Ledger.open_reader(week)
    assert ledger.totals(Tally(7 * 86400))["davidn"].bytes_in == 10


def test_importing_the_same_file_twice_counts_it_once_and_says_what_it_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = tmp_path / "records.txt"
    records.write_text(f"davidn {NOW - 600} 1000 10\ndavidn {NOW - 300} 500 5\n")
    directory = tmp_path / "ledger"
    assert run(capsys, "import", "--ledger", directory, records)[0] == 0
    status, _, err = run(capsys, "import", "--ledger", directory, records)
    assert status == 0
    assert "imported 0 records" in err and "skipped 2 already present" in err
    ledger = Ledger.open_reader(directory)
    assert ledger.totals(Tally(7 * 86400))["davidn"].bytes_in == 1500
    assert len(list(ledger.samples())) == 2


def test_an_import_adds_what_is_new_and_skips_what_the_ledger_has(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path
) -> None:
    everything = run(capsys, "export", "--ledger", week)[1]
    more = tmp_path / "more.txt"
    more.write_text(everything + f"davidn {NOW - 1} 7 7\n")
    status, _, err = run(capsys, "import", "--ledger", week, more)
    assert status == 0
    assert f"imported 1 records into {week}; skipped {len(everything.splitlines())}" in err
    after = run(capsys, "export", "--ledger", week)[1]
    assert sorted(after.splitlines()) == sorted(more.read_text().splitlines())


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (["davidn {t} 1000 10", "davidn {t} 999 10"], "other counts"),
        (["davidn {t} 1000 10", "davidn {t} 1000 10"], "one more time than the ledger has it"),
    ],
)
def test_a_record_the_ledger_has_with_other_counts_is_a_conflict_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lines: list[str], says: str
) -> None:
    directory = tmp_path / "ledger"
    first = tmp_path / "first.txt"
    first.write_text(f"davidn {NOW - 600} 1000 10\n")
    assert run(capsys, "import", "--ledger", directory, first)[0] == 0
    second = tmp_path / "second.txt"
    second.write_text(f"alice {NOW - 900} 1 1\n" + "\n".join(lines).format(t=NOW - 600) + "\n")
    status, _, err = run(capsys, "import", "--ledger", directory, second)
    assert status == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"nmsquota: {second}:3: the ledger already has davidn at {NOW - 600}")
    assert "IN OUT 1000 10" in line and says in line and "nothing imported" in line
    assert [s.subscriber for s in Ledger.open_reader(directory).samples()] == ["davidn"]


def test_import_replace_takes_every_record_whether_or_not_the_ledger_has_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    records = tmp_path / "records.txt"
    records.write_text(f"davidn {NOW - 600} 1000 10\n")
    assert run(capsys, "import", "--ledger", directory, records)[0] == 0
    records.write_text(f"davidn {NOW - 600} 999 10\ndavidn {NOW - 300} 1 1\n")
    status, _, err = run(capsys, "import", "--ledger", directory, "--replace", records)
    assert status == 0 and "imported 2 records" in err
    assert run(capsys, "export", "--ledger", directory)[1] == records.read_text()


def test_prune_archives_what_it_retires_and_import_brings_it_back(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path
) -> None:
    everything = run(capsys, "export", "--ledger", week)[1]
    archive = tmp_path / "archive.txt"
    status, _, err = run(
        capsys, "prune", "--ledger", week, "--older-than", "2d", "--archive", archive, "--force"
    )
    assert status == 0 and "retired" in err
    kept = run(capsys, "export", "--ledger", week)[1]
    assert all(int(line.split()[1]) > NOW - 2 * 86400 for line in kept.splitlines())
    assert archive.read_text() + kept == everything
    ledger = Ledger.open_reader(week)
    assert ledger.totals(Tally(7 * 86400)) == ledger.recount(Tally(7 * 86400), NOW - 7 * 86400)
    assert run(capsys, "import", "--ledger", week, archive)[0] == 0
    assert sorted(run(capsys, "export", "--ledger", week)[1].splitlines()) == sorted(
        everything.splitlines()
    )


def test_prune_inside_a_plans_window_is_refused_saying_what_would_be_lost(
    capsys: pytest.CaptureFixture[str], week: Path, config: Path
) -> None:
    before = run(capsys, "export", "--ledger", week)[1]
    status, _, err = run(
        capsys, "-c", config, "prune", "--ledger", week, "--older-than", "3d", "--discard"
    )
    assert status == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    counted = [
        s for s in Ledger.open_reader(week).samples() if NOW - 7 * 86400 < s.time <= NOW - 3 * 86400
    ]
    assert line.startswith(f"nmsquota: not pruning records older than 3d: {len(counted)} records "
                           "still counted in a window (the longest: 7d): usage in window drops "
                           "for biguser (")  # fmt: skip
    assert "nothing retired (--force retires them" in line
    assert run(capsys, "export", "--ledger", week)[1] == before


def test_prune_of_everything_is_refused_and_the_ledger_kept(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    before = run(capsys, "export", "--ledger", week)[1]
    # No configuration: the windows the ledger keeps (7d and 1d) protect their records.
    status, _, err = run(capsys, "prune", "--ledger", week, "--older-than", "0", "--discard")
    assert status == 2 and "not pruning records older than 0s" in err
    assert "which limits lift is not known without the configuration" in err
    assert run(capsys, "export", "--ledger", week)[1] == before


def test_prune_past_every_window_needs_no_force(
    capsys: pytest.CaptureFixture[str], week: Path, config: Path
) -> None:
    everything = run(capsys, "export", "--ledger", week)[1]
    status, _, err = run(
        capsys, "-c", config, "prune", "--ledger", week, "--older-than", "6d", "--discard"
    )
    assert status == 2  # 6d is inside the paper plan's 7d window
    later = NOW + 86400  # a day on, the first day has left every window
    status, _, err = run(capsys, "-c", config, "prune", "--ledger", week, "--older-than", "7d",
                         "--discard", now=later)  # fmt: skip
    assert status == 0 and "still counted" not in err
    first_day = [
        line for line in everything.splitlines() if int(line.split()[1]) <= NOW - 6 * 86400
    ]
    assert f"retired {len(first_day)} records older than 7d" in err


def test_prune_force_retires_what_a_window_counts_and_says_whose_limit_lifts(
    capsys: pytest.CaptureFixture[str], week: Path, config: Path
) -> None:
    usage = run(capsys, "-c", config, "usage", "--ledger", week, "biguser")[1]
    used = usage.splitlines()[1].split()[-1]
    assert int(used.rstrip("%")) > 100  # the paper's biggest user, over 63 MB in the week
    status, _, err = run(capsys, "-c", config, "prune", "--ledger", week, "--older-than", "1h",
                         "--discard", "--force")  # fmt: skip
    assert status == 0
    retired, of_them = err.strip().splitlines()
    assert retired.startswith("retired ")
    assert of_them.startswith("of them, ") and "usage in window drops for biguser (" in of_them
    assert of_them.endswith("the limits of biguser lift at the daemon's next cycle")
    assert all(s.time > NOW - 3600 for s in Ledger.open_reader(week).samples())


def test_prune_needs_an_archive_or_an_explicit_discard(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["prune", "--ledger", str(week), "--older-than", "2d"])
    assert refused.value.code == 2


def test_prune_beside_a_running_writer_leaves_what_still_counts(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    with Ledger.open_writer(week):
        status, _, err = run(capsys, "prune", "--ledger", week, "--older-than", "1d", "--discard")
    assert status == 0
    assert f"held by process {os.getpid()}" in err
    assert "still count in a window" in err
    # The 7-day window still reaches back to the start, so nothing could go.
    assert min(s.time for s in Ledger.open_reader(week).samples()) == T0 + 300


def test_import_while_another_writer_runs_is_refused(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path
) -> None:
    records = tmp_path / "r.txt"
    records.write_text(f"davidn {NOW} 1 1\n")
    with Ledger.open_writer(week):
        status, _, err = run(capsys, "import", "--ledger", week, records)
    assert status == 1
    assert f"already open for writing by process {os.getpid()}" in err


def test_a_corrupt_ledger_is_reported_by_path(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    (week / "state.json").write_text("{not json")
    status, _, err = run(capsys, "usage", "--ledger", week)
    assert status == 1
    assert f"ledger file {week / 'state.json'} is not valid JSON" in err


def test_a_missing_ledger_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "usage", "--ledger", tmp_path / "nowhere")
    assert status == 1 and "no ledger in" in err


def test_config_check_summarises_a_good_file_and_rejects_a_bad_one(
    capsys: pytest.CaptureFixture[str], config_file: WriteConfig
) -> None:
    status, out, _ = run(capsys, "--config", REPO / "nmsquota.example.toml", "config", "check")
    assert status == 0
    assert "plan home: 63.0 MB download per 7d, then 3kbit (queue 10.0 KB)" in out
    assert ("plan fair-use cap 1d: 5.0 GB download per 1d, 02:00-06:00 free, then 50Mbit from "
            "80%, 10Mbit from 100% (queue 128.0 KB)") in out  # fmt: skip
    bad = config_file(name="bad.toml", plans={"home": {"cap": "lots"}})
    status, _, err = run(capsys, "--config", bad, "config", "check")
    assert status == 2
    assert err.startswith(f"nmsquota: {bad}: plans.home.cap: expected a size")


def test_rebuild_brings_back_a_ledger_whose_state_was_lost(
    capsys: pytest.CaptureFixture[str], week: Path
) -> None:
    before = Ledger.open_reader(week).totals(Tally(7 * 86400))
    (week / "state.json").unlink()
    status, _, err = run(capsys, "usage", "--ledger", week)
    assert status == 1
    status, _, err = run(capsys, "export", "--ledger", week)
    assert status == 1
    status, _, err = run(capsys, "rebuild", "--ledger", week)
    assert status == 0 and "7d: 7 subscribers" in err
    # Every record counts until the next commit moves the window; the week is all there.
    assert Ledger.open_reader(week).totals(Tally(7 * 86400)).keys() == before.keys()


def test_prune_of_a_mistyped_ledger_path_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(
        capsys, "prune", "--ledger", tmp_path / "typo", "--older-than", "7d", "--discard"
    )
    assert status == 1 and "no ledger in" in err
    assert not (tmp_path / "typo").exists()


def test_subscribers_are_added_changed_listed_and_removed_without_a_daemon(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(
        plans={"home": {"cap": "63MB"}, "gold": {"cap": "1TB"}},
        subscribers={"davidn": {"plan": "home"}},
    )  # the ledger in data_dir, under tmp_path
    run = ["-c", str(config), "subscribers"]
    assert main([*run, "add", "carol", "--plan", "home", "--addresses", "10.0.0.3"]) == 0
    assert "subscriber carol saved (no daemon running: in the ledger)" in capsys.readouterr().out
    assert main([*run, "set", "carol", "--plan", "gold", "--addresses", "10.0.0.4,10.0.0.5"]) == 0
    assert main([*run, "add", "davidn", "--plan", "home"]) == 2
    assert "davidn is in the configuration file" in capsys.readouterr().err
    assert main([*run, "add", "eve", "--plan", "platinum"]) == 2
    assert "no plan named 'platinum' (plans: gold, home)" in capsys.readouterr().err
    assert main([*run, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SUBSCRIBER", "PLAN", "ADDRESSES", "KEPT", "IN"]
    assert lines[1].split() == ["carol", "gold", "10.0.0.4,10.0.0.5", "ledger"]
    assert lines[2].split() == ["davidn", "home", "-", str(config)]
    assert main([*run, "remove", "carol"]) == 0
    assert main([*run, "remove", "carol"]) == 2


def test_subscribers_add_takes_the_plan_as_set_does_and_refuses_the_old_form_with_the_new(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(plans={"home": {"cap": "63MB"}, "gold": {"cap": "1TB"}})
    run = ["-c", str(config), "subscribers"]
    assert main([*run, "add", "carol", "home", "10.0.0.3", "2001:db8::/64"]) == 2
    assert capsys.readouterr().err == (
        "nmsquota: add: the plan and the addresses are options, as for set: nmsquota "
        "subscribers add carol --plan home --addresses 10.0.0.3,2001:db8::/64\n"
    )
    assert main([*run, "add", "carol"]) == 2
    assert "give the subscriber's plan: nmsquota subscribers add carol --plan PLAN" in (
        capsys.readouterr().err
    )
    assert main([*run, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing was added by the refusals
    assert main([*run, "add", "carol", "--plan", "home", "--addresses", "10.0.0.3"]) == 0
    assert main([*run, "set", "carol", "--plan", "gold"]) == 0
    capsys.readouterr()
    assert main([*run, "list", "--json"]) == 0
    (carol,) = json.loads(capsys.readouterr().out)
    assert (carol["plan"], carol["addresses"]) == ("gold", ["10.0.0.3"])


def test_subscribers_list_json_and_the_configuration_winning_a_name_both_have(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = {"home": {"cap": "63MB"}, "gold": {"cap": "1TB"}}
    config = config_file(plans=plans, subscribers={"davidn": {"plan": "home"}})
    run = ["-c", str(config), "subscribers"]
    assert main([*run, "add", "carol", "--plan", "home", "--addresses", "10.0.0.3"]) == 0
    assert main([*run, "add", "erin", "--plan", "gold"]) == 0
    # carol, provisioned, then written into the file as well: the file's carol counts.
    carol = {"plan": "gold", "exempt": True, "exempt_reason": "staff"}
    config_file(plans=plans, subscribers={"davidn": {"plan": "home"}, "carol": carol})
    capsys.readouterr()
    assert main([*run, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "carol", "plan": "gold", "addresses": [], "exempt": True,
         "exempt_reason": "staff", "source": str(config)},
        {"name": "davidn", "plan": "home", "addresses": [], "exempt": False,
         "exempt_reason": None, "source": str(config)},
        {"name": "erin", "plan": "gold", "addresses": [], "exempt": False,
         "exempt_reason": None, "source": "ledger"},
    ]  # fmt: skip
    assert main([*run, "list"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == [
        "carol", "gold", "(exempt)", "-", str(config)]  # fmt: skip


def test_usage_sorted_keeps_a_subscribers_caps_together() -> None:
    from nmsquota.commands.usage import Line, biggest_first
    from nmsquota.ledger import Tally, Totals

    day, week = Tally(86_400), Tally(7 * 86_400)
    lines = [Line("alice", day, Totals(5, 0)), Line("alice", week, Totals(60, 0)),
             Line("bob", day, Totals(20, 0)), Line("bob", week, Totals(30, 0))]  # fmt: skip
    assert [(line.name, line.tally.key) for line in biggest_first(lines, "in")] == [
        ("alice", "1d"), ("alice", "7d"), ("bob", "1d"), ("bob", "7d")]  # fmt: skip


QUICK = {"timeout": "1s", "retries": 0, "deadline": "2s"}
"""An access server given up on within two seconds."""


def run_cycles(config: Path) -> subprocess.CompletedProcess[str]:
    # A process of its own: `run` installs signal handlers and a log handler for its life.
    argv = [sys.executable, "-m", "nmsquota", "-c", str(config), "run", "--cycles", "1"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_run_of_n_cycles_fails_when_its_last_cycle_polled_nothing(
    config_file: WriteConfig, silent_agent: int
) -> None:
    servers = {"silent": access_server(silent_agent, **QUICK),
               "gone": {"host": "no-such-host.invalid", **QUICK}}  # fmt: skip
    done = run_cycles(config_file(plans=PLANS, subscribers=SUBSCRIBERS, access_servers=servers))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "ERROR nmsquota.daemon: the last cycle polled nothing: every access server failed "
        "(gone, silent)"
    )


def test_run_of_n_cycles_succeeds_when_one_access_server_answered(
    config_file: WriteConfig, silent_agent: int, snmpd_loopback: int
) -> None:
    servers = {"silent": access_server(silent_agent, **QUICK),
               "lo": access_server(snmpd_loopback, interfaces={"lo": "idle"})}  # fmt: skip
    done = run_cycles(config_file(plans=PLANS, subscribers=SUBSCRIBERS, access_servers=servers))
    assert done.returncode == 0, done.stderr
    assert "1/2 devices answered" in done.stderr


def _export_to(stdout: object, week: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "nmsquota", "export", "--ledger", str(week)],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
    )


def test_export_to_a_full_disk_says_so_in_one_line(week: Path) -> None:
    with open("/dev/full", "wb") as full:
        exporting = _export_to(full, week)
        _, err = exporting.communicate(timeout=60)
    assert exporting.returncode == 1
    assert err.decode() == "nmsquota: stdout: cannot write: No space left on device\n"


def test_export_into_a_closed_pipe_ends_quietly_as_head_expects(week: Path) -> None:
    exporting = _export_to(subprocess.PIPE, week)
    assert exporting.stdout is not None
    exporting.stdout.close()  # what `| head -1` does once it has its line
    _, err = exporting.communicate(timeout=60)
    assert (exporting.returncode, err) == (0, b"")


def test_export_that_fails_leaves_the_previous_output_file_whole(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "usage.txt"
    output.write_text("the last good export\n")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("nmsquota.commands.records.os.replace", full)
    status, _, err = run(capsys, "export", "--ledger", week, "-o", output)
    assert status == 1
    assert err == f"nmsquota: {output}: cannot write: No space left on device\n"
    assert output.read_text() == "the last good export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger", "usage.txt"]


@pytest.mark.parametrize(
    "record",
    ["davidn 99999999999999999999 1 2", "davidn -1 1 2", "davidn 1 2 99999999999999999999"],
)
def test_import_of_a_record_out_of_range_names_the_line_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], week: Path, tmp_path: Path, record: str
) -> None:
    before = run(capsys, "export", "--ledger", week)[1]
    bad = tmp_path / "bad.txt"
    bad.write_text(f"davidn 997972561 120505 7555\n{record}\n")
    status, _, err = run(capsys, "import", "--ledger", week, bad)
    assert status == 2
    assert err.startswith(f"nmsquota: {bad}:2: expected ") and err.count("\n") == 1
    assert run(capsys, "export", "--ledger", week)[1] == before


def test_export_of_a_record_with_no_display_date_is_one_line_and_writes_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "ledger"
    with Ledger.open_writer(directory, [Tally(7 * 86400)]) as ledger:
        ledger.commit(NOW, [Sample("a", 253402268399, 1, 2)])  # Dec 31 9999, 14:59:59 UTC
    output = tmp_path / "usage.txt"
    argv = ["export", "--ledger", directory, "-d", "--tz", "Pacific/Kiritimati", "-o", output]
    status, _, err = run(capsys, *argv)
    assert status == 1 and err.count("\n") == 1 and "use --numeric" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger"]


def test_demo_keep_naming_a_file_is_refused_and_the_file_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    status, out, err = run(capsys, "demo", "--headless", "--for", "1h", "--keep", notes)
    assert status == 2 and out == ""
    assert err == (
        f"nmsquota: --keep: {notes} exists and is not a directory (give a directory for the "
        "ledger and configuration)\n"
    )
    assert notes.read_text() == "mine\n" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_keep_below_a_file_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    status, out, err = run(capsys, "demo", "--headless", "--keep", tmp_path / "notes.txt" / "demo")
    assert (status, out) == (1, "")
    assert err.startswith("nmsquota: --keep: cannot create ") and err.count("\n") == 1


def test_demo_keep_into_a_directory_a_demo_already_used_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kept = tmp_path / "demo"
    (kept / "ledger").mkdir(parents=True)
    (kept / "ledger" / "state.json").write_text("{}")
    status, out, err = run(capsys, "demo", "--headless", "--for", "1h", "--keep", kept)
    assert (status, out) == (2, "")
    assert err == (
        f"nmsquota: --keep: {kept} already holds a demo's ledger (give a new directory, or "
        "remove that one)\n"
    )
    assert [p.name for p in kept.rglob("*")] == ["ledger", "state.json"]


def test_run_of_n_cycles_fails_when_the_ledger_refused_its_last_cycle(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from nmsquota.commands.run import _bounded_run_status
    from nmsquota.daemon.report import CycleReport

    full = "ledger: cannot write usage: No space left on device"
    refused = CycleReport(
        number=2, started=600.0, due=600.0, devices_ok=["bras"], ledger_error=full
    )
    args = argparse.Namespace(cycles=2, log_file="daemon.log")
    assert _bounded_run_status(args, refused) == 1
    assert capsys.readouterr().err == (
        "nmsquota: the last cycle was not recorded: "
        "ledger: cannot write usage: No space left on device\n"
    )
    recorded = CycleReport(number=2, started=600.0, due=600.0, devices_ok=["bras"])
    assert _bounded_run_status(args, recorded) == 0
    # A daemon stopped by a signal (no --cycles) exits 0 whatever its last cycle did.
    assert _bounded_run_status(argparse.Namespace(cycles=None, log_file=None), refused) == 0
