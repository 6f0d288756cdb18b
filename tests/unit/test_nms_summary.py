"""The NMS summary the daemon writes beside the ledger after each commit, and what
check_nmsquota makes of it: used only while it describes the state.json on disk, ignored
(the ledger read instead) when stale, foreign or broken, and kept current by the daemon's
writer thread."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.check_ledger import GB, NOW, Someone, build

from nmsquota.config import load_config
from nmsquota.ledger import Ledger, Sample
from nmsquota.nms import summarise, summary
from nmsquota.nms.check import main
from nmsquota.standings import Reader
from nmsquota.verdict import State


def check(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--config", str(data / "nmsquota.toml")], now=NOW + 30)
    return int(exited.value.code or 0), capsys.readouterr().out.splitlines()[0]


def write_summary(data: Path) -> summary.Summary:
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    made = summarise.read(data / "ledger", config)
    summarise.write(data / "ledger", made)
    return made


def people(tmp_path: Path) -> Path:
    return build(tmp_path, [
        Someone("alice", down=2 * GB),
        Someone("over", down=12 * GB, state=State.LIMITED, rate=1_000_000, flagged=True),
        Someone("stepped", down=95 * GB // 10, state=State.STEPPED, rate=4_000_000, step_at=90.0),
        Someone("fair", plan="fair", down=GB // 2),
    ])  # fmt: skip


def test_a_summary_read_back_holds_what_the_read_api_says(tmp_path: Path) -> None:
    data = people(tmp_path)
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    snap = Reader.open(data / "ledger", config).snapshot()
    write_summary(data)
    found = summary.current(data / "ledger")
    assert found is not None and found.as_of == snap.as_of == NOW
    for view in snap.subscribers:
        assert found.subscriber(view.name) == summarise.facts_of(view)
    over = found.subscriber("over")
    assert over is not None and over.limit == summary.LimitFacts(1_000_000, "over the 1d cap")
    assert over.measured_bps == 9_000_000
    fair = found.subscriber("fair")
    assert fair is not None and [(c.label, c.used, c.cap) for c in fair.caps] == [
        ("1h", GB // 2, GB), ("1d", GB // 2, 10 * GB)]  # fmt: skip
    assert found.counts == summary.Counts(subscribers=4, online=0, limited=2, stepped=1,
                                          warned=0, not_effective=1)  # fmt: skip
    assert found.limits == (("over", "over the 1d cap"), ("stepped", "over the 1d cap"))
    assert found.cycle is not None and found.cycle.not_effective == ("over",)
    assert found.subscriber("nobody") is None


def test_a_summary_read_for_its_head_only_has_the_same_head_and_no_subscribers(
    tmp_path: Path,
) -> None:
    data = people(tmp_path)
    write_summary(data)
    whole = summary.current(data / "ledger")
    head = summary.current(data / "ledger", subscribers=False)
    assert whole is not None and head is not None
    assert head._replace(lines=whole.lines) == whole
    with pytest.raises(ValueError, match="without its subscribers"):
        head.subscriber("alice")


def test_a_summary_of_an_earlier_commit_is_not_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = people(tmp_path)
    write_summary(data)
    assert check(capsys, data, "subscriber", "alice")[1].startswith("NMSQUOTA OK: alice: 1d 20%")
    with Ledger.open_writer(data / "ledger") as ledger:
        ledger.commit(NOW + 10, [Sample("alice", NOW + 10, 7 * GB, 0)])
    assert summary.current(data / "ledger") is None
    code, line = check(capsys, data, "subscriber", "alice")
    assert (code, line[:30]) == (1, "NMSQUOTA WARNING: usage_1d at ")
    assert "alice: 1d 90% of 10.0 GB" in line


def test_a_ledger_corrupted_after_its_summary_is_still_found_corrupt(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = people(tmp_path)
    write_summary(data)
    (data / "ledger" / "state.json").write_text('{"_default": {"1": ')
    code, line = check(capsys, data, "ledger")
    assert code == 2 and line.startswith("NMSQUOTA CRITICAL: cannot read the ledger: ledger file ")


@pytest.mark.parametrize("spoil", [
    lambda doc: {**doc, "format": 99},
    lambda doc: {**doc, "counts": {"subscribers": 4}},
    lambda doc: {**doc, "state": doc["state"][:2]},
    lambda doc: [doc],
], ids=["another format", "a field of another shape", "not a state's identity",
        "a list"])  # fmt: skip
def test_a_summary_of_another_format_or_shape_is_ignored_and_the_ledger_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spoil: object
) -> None:
    data = people(tmp_path)
    write_summary(data)
    path = summary.path_in(data / "ledger")
    head, rest = path.read_text().split("\n", 1)
    spoilt = json.dumps(spoil(json.loads(head)))  # type: ignore[operator]
    path.write_text(spoilt + "\n" + rest)
    assert summary.current(data / "ledger") is None
    code, line = check(capsys, data, "limited")
    assert (code, line[:47]) == (0, "NMSQUOTA OK: 2 of 4 subscribers limited (50.0%)")


def test_a_summary_that_is_not_json_is_ignored(tmp_path: Path) -> None:
    data = people(tmp_path)
    summary.path_in(data / "ledger").write_bytes(b"\x00garbage")
    assert summary.current(data / "ledger") is None


@pytest.mark.parametrize("name", ["new\nline", "tab\tbed", 'quo"te', "\u00e9l\u00e8ve", "a"])
def test_a_name_of_any_characters_is_found_on_its_own_line(tmp_path: Path, name: str) -> None:
    # Provisioned only (usage samples take login names only), told apart by plan.
    data = build(tmp_path, [Someone("b" + name), Someone(name, plan="fair"),
                            Someone(name + "b")])  # fmt: skip
    write_summary(data)
    found = summary.current(data / "ledger")
    assert found is not None
    for who, plan in ((name, "fair"), ("b" + name, "home"), (name + "b", "home")):
        facts = found.subscriber(who)
        assert facts is not None and (facts.name, facts.plan) == (who, plan)
    assert found.subscriber(name[:-1] or "?") is None
    assert found.subscriber(name + "\t") is None


def test_stepped_counts_only_the_limited_held_at_a_step(tmp_path: Path) -> None:
    # Warned on one cap while another's step holds them is stepped; a standing of
    # "stepped" with no limit in force (the drivers hold none) is not.
    data = build(tmp_path, [
        Someone("held", down=95 * GB // 10, state=State.STEPPED, rate=4_000_000, step_at=90.0),
        Someone("warned", down=85 * GB // 10, state=State.WARNED),
    ])  # fmt: skip
    assert write_summary(data).counts.stepped == 1


def test_the_daemons_writer_summarises_each_commit_once(tmp_path: Path) -> None:
    data = people(tmp_path)
    ledger_dir = data / "ledger"
    config = load_config(data / "nmsquota.toml", check_drivers=False)
    writer = summarise.SummaryWriter(ledger_dir, lambda: config, every=0.02).start()
    try:
        wait_for(lambda: writer.written == 1)
        assert summary.current(ledger_dir) is not None
        time.sleep(0.1)
        assert writer.written == 1  # no commit since: not rewritten
        with Ledger.open_writer(ledger_dir) as ledger:
            ledger.commit(NOW + 10, [Sample("alice", NOW + 10, GB, 0)])
        wait_for(lambda: writer.written == 2)
        found = summary.current(ledger_dir)
        assert found is not None and found.as_of == NOW + 10
        alice = found.subscriber("alice")
        assert alice is not None and alice.caps[0].used == 3 * GB
    finally:
        writer.close()


def test_the_writer_logs_a_ledger_it_cannot_read_once_and_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = people(tmp_path)
    ledger_dir = data / "ledger"
    state = ledger_dir / "state.json"
    good = state.read_bytes()
    state.write_text('{"_default": {"1": ')
    writer = summarise.SummaryWriter(ledger_dir, lambda: None)
    with caplog.at_level(logging.WARNING, logger="nmsquota.nms.summarise"):
        assert writer.once() is False
        state.write_text('{"_default": {"1": ')  # another bad commit: the same error
        assert writer.once() is False
    (logged,) = caplog.records
    assert "was not written: LedgerCorrupt: " in logged.getMessage()
    assert not summary.path_in(ledger_dir).exists()
    state.write_bytes(good)
    assert writer.once() is True and summary.current(ledger_dir) is not None


def test_the_writer_leaves_the_summary_of_the_last_commit_when_closed(tmp_path: Path) -> None:
    data = people(tmp_path)
    writer = summarise.SummaryWriter(data / "ledger", lambda: None, every=3600).start()
    wait_for(lambda: writer.written == 1)
    with Ledger.open_writer(data / "ledger") as ledger:
        ledger.commit(NOW + 10, [])
    writer.close()
    found = summary.current(data / "ledger")
    assert found is not None and found.as_of == NOW + 10


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_check_of_a_summarised_ledger_loads_no_schema_and_no_ledger_code(
    tmp_path: Path,
) -> None:
    # What keeps a call within its 150 ms (bench/bench_check.py): no pydantic, no TinyDB,
    # no read API on the path when the daemon's summary is current.
    data = people(tmp_path)
    write_summary(data)
    probe = (
        "import sys\n"
        "from nmsquota.nms.check import main\n"
        "for mode in (['limited'], ['subscriber', 'alice'], ['poller'], ['drivers'],\n"
        "             ['ledger']):\n"
        "    try:\n"
        f"        main([*mode, '--config', {str(data / 'nmsquota.toml')!r}])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'tinydb')\n"
        "               or m.startswith(('nmsquota.standings', 'nmsquota.ledger.ledger',\n"
        "                                'nmsquota.control.protocol', 'nmsquota.config.load')))\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert "NMSQUOTA OK: 2 of 4 subscribers limited" in done.stdout
    assert done.stdout.splitlines()[-1] == "HEAVY []"
