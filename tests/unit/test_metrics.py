"""`nmsquota metrics`: the ledger's standing as the Prometheus text format (and OpenMetrics),
read by prometheus_client's own parsers and by `promtool check metrics`, with names after
Prometheus' conventions and label values that no subscriber name can break."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO, require
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.nms.metrics import escape_label, exported_names, exposition
from nmsquota.standings import Reader, Snapshot

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
NOW = T0 + 12 * 300 + 60
DASHBOARD = REPO / "contrib" / "grafana" / "nmsquota.json"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


def snapshot_of(data: Path) -> Snapshot:
    return Reader.open(data / "ledger", load_config(data / "nmsquota.toml")).snapshot()


def printed(data: Path, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    argv = ["-c", str(data / "nmsquota.toml"), "metrics", "--ledger", str(data / "ledger")]
    assert main([*argv, *more], clock=ManualClock(NOW)) == 0
    return capsys.readouterr().out


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


def test_the_command_prints_each_subscribers_usage_cap_state_and_limit(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = samples(printed(data, capsys))
    snap = snapshot_of(data)
    carol = snap.by_name["carol"]
    hour = carol.caps[0]
    window = (("cap", "1h"), ("direction", "download"), ("subscriber", "carol"), ("window", "1h"))
    assert found[("nmsquota_subscriber_used_bytes", window)] == hour.used == 1_200_000
    assert found[("nmsquota_subscriber_cap_bytes", window)] == hour.cap == 1_000_000
    state = (("state", "limited"), ("subscriber", "carol"))
    assert found[("nmsquota_subscriber_state", state)] == 1
    assert found[("nmsquota_subscriber_state", (("state", "ok"), ("subscriber", "carol")))] == 0
    assert carol.limit is not None and carol.limit.rate_bps
    rate = found[("nmsquota_subscriber_limit_bytes_per_second", (("subscriber", "carol"),))]
    assert rate == carol.limit.rate_bps / 8
    assert found[("nmsquota_subscribers_limited", ())] == len(snap.limited)


def test_the_last_cycle_and_the_drivers_health_are_there(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = samples(printed(data, capsys))
    cycle = snapshot_of(data).cycle
    assert cycle is not None
    assert found[("nmsquota_cycle_duration_seconds", ())] == pytest.approx(cycle.seconds)
    assert found[("nmsquota_cycle_age_seconds", ())] == pytest.approx(NOW - cycle.started)
    assert found[("nmsquota_devices", (("outcome", "failed"),))] == len(cycle.devices_failed)
    assert found[("nmsquota_cycles_total", ())] == cycle.number
    assert found[("nmsquota_cycle_varbinds", ())] == cycle.varbinds
    for driver in cycle.drivers:
        health = (("driver", driver.name), ("health", driver.health))
        assert found[("nmsquota_driver_health", health)] == 1
        not_effective = (("driver", driver.name),)
        assert (found[("nmsquota_driver_not_effective_limits", not_effective)]
                == len(driver.not_effective))  # fmt: skip


def test_every_family_has_help_and_type_and_is_named_by_the_conventions(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = printed(data, capsys)
    families = list(text_string_to_metric_families(text))
    assert {f.name for f in families} >= {"nmsquota_subscriber_used_bytes", "nmsquota_cycles"}
    for family in families:
        assert family.name.startswith("nmsquota_")
        assert family.documentation, family.name
        assert family.type in ("gauge", "counter"), family.name
        # _total on counters and on nothing else.
        sample_names = {s.name for s in family.samples}
        if family.type == "counter":
            assert all(n.endswith("_total") for n in sample_names), family.name
        else:
            assert not any(n.endswith("_total") for n in sample_names), family.name
    typed = re.findall(r"^# TYPE (\S+) ", text, re.M)
    assert len(typed) == len(set(typed)) == len(re.findall(r"^# HELP (\S+) ", text, re.M))


def test_promtool_finds_nothing_wrong(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    promtool = require("promtool")
    text = printed(data, capsys)
    checked = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                             capture_output=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_openmetrics_is_the_same_families_in_its_own_spelling(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = printed(data, capsys, "--openmetrics")
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(text)}
    # A counter's family is named without the _total its sample carries.
    assert families["nmsquota_cycles"].type == "counter"
    assert [s.name for s in families["nmsquota_cycles"].samples] == ["nmsquota_cycles_total"]
    assert samples(printed(data, capsys)) == {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values() for s in family.samples
    }  # fmt: skip


@pytest.mark.parametrize("openmetrics", [False, True])
def test_a_subscriber_name_with_a_quote_backslash_or_newline_cannot_break_the_text(
    data: Path, openmetrics: bool
) -> None:
    snap = snapshot_of(data)
    odd = 'quo"te\\back\nline'
    views = tuple(replace(view, name=odd) if view.name == "carol" else view
                  for view in snap.subscribers)  # fmt: skip
    text = exposition(replace(snap, subscribers=views), NOW, openmetrics=openmetrics)
    parse = openmetrics_families if openmetrics else text_string_to_metric_families
    named = {s.labels.get("subscriber") for f in parse(text) for s in f.samples}
    assert odd in named and "carol" not in named
    assert 'subscriber="quo\\"te\\\\back\\nline"' in text


def test_label_escaping_follows_the_exposition_format() -> None:
    assert escape_label('a"b') == 'a\\"b'
    assert escape_label("a\\b") == "a\\\\b"
    assert escape_label("a\nb") == "a\\nb"
    assert escape_label("plain-name@isp.example") == "plain-name@isp.example"


def test_no_ledger_is_one_line_and_exit_status_2(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["-c", str(data / "nmsquota.toml"), "metrics", "--ledger", str(data / "none")]
    assert main(argv, clock=ManualClock(NOW)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no ledger" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_the_grafana_dashboard_uses_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", ())]  # fmt: skip
    exprs += [variable["definition"] for variable in dashboard["templating"]["list"]
              if variable["type"] == "query"]  # fmt: skip
    assert exprs
    exported = exported_names()
    for expr in exprs:
        named = set(re.findall(r"\bnmsquota_[a-z0-9_]+", expr))
        assert named, expr
        assert named <= exported, f"{expr}: {sorted(named - exported)} not exported"
