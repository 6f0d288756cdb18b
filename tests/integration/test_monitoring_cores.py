"""check_nmsquota run by real monitoring cores, Nagios 4 and Icinga 2 (Debian's nagios4-core
and icinga2-bin), with the definitions docs/nagios.md gives for each: every service checked,
its state the plugin's exit status, its output and perfdata split where the core splits
them, the same as the plugin says on its own."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO, require
from fixtures.check_ledger import GB, Cycle, Someone, build

from nmsquota.config import load_config
from nmsquota.nms import summarise
from nmsquota.verdict import State

SCRIPT = Path(sys.executable).parent / "check_nmsquota"
OBJECTS = Path("/etc/nagios4/objects")


def documented(core: str = "Nagios") -> str:
    """The definitions docs/nagios.md gives for `core` (the first code block of its section)."""
    text = (REPO / "docs" / "nagios.md").read_text()
    section = text.split(f"\n## {core}\n", 1)[1]
    return section.split("```\n", 2)[1]


def main_config(where: Path, objects: list[Path]) -> str:
    files = "\n".join(f"cfg_file={path}" for path in objects)
    return f"""\
log_file={where}/nagios.log
{files}
object_cache_file={where}/objects.cache
precached_object_file={where}/objects.precache
status_file={where}/status.dat
status_update_interval=1
nagios_user=root
nagios_group=root
check_external_commands=1
command_file={where}/nagios.cmd
lock_file={where}/nagios.pid
temp_file={where}/nagios.tmp
temp_path={where}
use_syslog=0
check_result_path={where}/spool
check_result_reaper_frequency=1
retain_state_information=0
state_retention_file={where}/retention.dat
interval_length=60
check_for_updates=0
enable_notifications=0
"""


HOST = """\
define command {
    command_name    nq-host-up
    command_line    /bin/true
}
define host {
    use             linux-server
    host_name       bras-controller
    address         127.0.0.1
    check_command   nq-host-up
}
"""


def statuses(path: Path) -> dict[str, dict[str, str]]:
    """status.dat's servicestatus blocks, by service description."""
    found = {}
    for block in re.findall(r"servicestatus \{\n(.*?)\n\s*\}", path.read_text(), re.S):
        fields = dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)
        found[fields["service_description"]] = fields
    return found


def ledger_of(tmp_path: Path) -> Path:
    """alice on a step, bob limited; the daemon's summary written. Returns the data dir."""
    data = build(tmp_path / "data", [
        Someone("alice", down=95 * GB // 10, state=State.STEPPED, rate=4_000_000, step_at=90.0),
        Someone("bob", down=12 * GB, state=State.LIMITED, rate=1_000_000),
    ], Cycle(age=30), now=time.time())  # fmt: skip
    ledger = data / "ledger"
    summarise.write(ledger, summarise.read(ledger, load_config(data / "nmsquota.toml")))
    return data


def alone(data: Path, arguments: list[str]) -> tuple[int, str, str]:
    """The plugin run on its own: exit status, text, perfdata."""
    done = subprocess.run([str(SCRIPT), "--config", str(data / "nmsquota.toml"), *arguments],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    text, _, perfdata = done.stdout.splitlines()[0].partition(" | ")
    return done.returncode, text, perfdata.strip()


def same(arguments: list[str]) -> Callable[[str], str]:
    """Ages move on between the core's call and the test's: numbers compared in kind."""
    if arguments[0] in ("poller", "ledger"):
        return lambda text: re.sub(r"[0-9.]+", "N", text)
    return lambda text: text


def stopped(core: subprocess.Popen[bytes]) -> None:
    core.terminate()
    try:
        core.wait(timeout=10)
    except subprocess.TimeoutExpired:
        core.kill()
        core.wait(timeout=10)


@pytest.fixture
def nagios(tmp_path: Path) -> Iterator[Path]:
    """A Nagios core's working directory, the core started on the documented definitions
    (the plugin's path and the test's configuration put in), stopped by PID at the end."""
    require("nagios4")
    data = ledger_of(tmp_path)
    where = tmp_path / "nagios"
    (where / "spool").mkdir(parents=True)
    objects = documented().replace(
        "/usr/lib/nagios/plugins/check_nmsquota $ARG1$",
        f"{SCRIPT} --config {data / 'nmsquota.toml'} $ARG1$",
    )
    assert str(SCRIPT) in objects
    (where / "nmsquota.cfg").write_text(objects)
    (where / "host.cfg").write_text(HOST)
    debian = [OBJECTS / name for name in ("commands.cfg", "contacts.cfg", "timeperiods.cfg",
                                          "templates.cfg")]  # fmt: skip
    config = where / "nagios.cfg"
    config.write_text(main_config(where, [*debian, where / "host.cfg", where / "nmsquota.cfg"]))
    verified = subprocess.run(["nagios4", "-v", str(config)], capture_output=True, text=True,
                              timeout=30)  # fmt: skip
    assert verified.returncode == 0, verified.stdout
    core = subprocess.Popen(["nagios4", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield where
    finally:
        stopped(core)


def test_a_nagios_core_runs_every_documented_service_as_the_plugin_answers_it(
    nagios: Path,
) -> None:
    services = re.findall(r"service_description\s+(.+)\n\s+check_command\s+check_nmsquota!(.+)",
                          documented())  # fmt: skip
    assert len(services) == 5
    deadline = time.monotonic() + 60
    while not (nagios / "nagios.cmd").exists():
        assert time.monotonic() < deadline, "the core did not open its command file"
        time.sleep(0.1)
    now = int(time.time())
    with open(nagios / "nagios.cmd", "w") as commands:
        for name, _ in services:
            commands.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;bras-controller;{name};{now}\n")
    checked: dict[str, dict[str, str]] = {}
    while len(checked) < len(services):
        assert time.monotonic() < deadline, f"checked only {sorted(checked)}"
        time.sleep(0.2)
        if (nagios / "status.dat").exists():
            checked = {name: fields for name, fields in statuses(nagios / "status.dat").items()
                       if fields.get("has_been_checked") == "1"}  # fmt: skip
    for name, arguments in services:
        code, text, perfdata = alone(nagios.parent / "data", arguments.split())
        fields, kind = checked[name], same(arguments.split())
        assert int(fields["current_state"]) == code, (name, fields)
        # The core keeps the text and the perfdata apart (status.dat writes `;` as `:`).
        assert kind(fields["plugin_output"]) == kind(text.replace(";", ":")), name
        assert kind(fields["performance_data"]) == kind(perfdata), name
    alice = checked["nmsquota subscriber alice"]
    assert alice["current_state"] == "1"  # 95% of the cap, against -w 90
    assert "alice: 1d 95% of 10.0 GB, limited to 4Mbit" in alice["plugin_output"]
    assert checked["nmsquota poller"]["current_state"] == "0"
    assert checked["nmsquota limited"]["plugin_output"].startswith("NMSQUOTA OK: 2 of 2 ")


ICINGA = """\
include <itl>
include <plugins>
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "nq-test"
object IcingaApplication "app" { }
object CheckerComponent "checker" { }
object PerfdataWriter "results" {
  service_perfdata_path = "WHERE/results/service"
  service_temp_path = "WHERE/results/service-temp"
  host_perfdata_path = "WHERE/results/host"
  host_temp_path = "WHERE/results/host-temp"
  service_format_template = "FORMAT"
  rotation_interval = 1s
}
object Host "bras-controller" {
  check_command = "dummy"
  vars.nmsquota = true
  vars.nmsquota_watch = [ "alice", "bob" ]
  vars.nmsquota_config = "CONFIG"
}
"""


FORMAT = (
    "NAME=$service.name$\\tSTATE=$service.state_id$\\tOUTPUT=$service.output$"
    "\\tPERF=$service.perfdata$"
)


def icinga_results(results: Path) -> dict[str, dict[str, str]]:
    """Each service's latest result, from the PerfdataWriter's rotated files."""
    found = {}
    for path in sorted(results.glob("service.*")):
        for line in path.read_text().splitlines():
            fields = dict(part.split("=", 1) for part in line.split("\t") if "=" in part)
            if "NAME" in fields:
                found[fields["NAME"]] = fields
    return found


@pytest.fixture
def icinga(tmp_path: Path) -> Iterator[Path]:
    """An Icinga 2 daemon on the documented CheckCommand and apply rules (the plugin's path
    put in, and the rules' intervals made 1 s so every service is checked at once), all its
    directories in the test's, its results written by a PerfdataWriter; stopped by PID."""
    require("icinga2")
    data = ledger_of(tmp_path)
    where = tmp_path / "icinga"
    for name in ("run", "log", "cache", "spool", "lib", "results"):
        (where / name).mkdir(parents=True)
    rules = documented("Icinga 2").replace(
        'command = [ PluginDir + "/check_nmsquota" ]', f'command = [ "{SCRIPT}" ]'
    ).replace("  check_interval = 5m\n", "").replace(
        'check_command = "nmsquota"', 'check_command = "nmsquota"\n  check_interval = 1s'
    )  # fmt: skip
    assert str(SCRIPT) in rules and rules.count("check_interval = 1s") == 2
    head = ICINGA.replace("WHERE", str(where)).replace("FORMAT", FORMAT)
    head = head.replace("CONFIG", str(data / "nmsquota.toml"))
    (where / "icinga2.conf").write_text(head + rules)
    constants = [f"-D{name}={where / folder}" for name, folder in (
        ("InitRunDir", "run"), ("LogDir", "log"), ("CacheDir", "cache"), ("SpoolDir", "spool"),
        ("DataDir", "lib"))]  # fmt: skip
    argv = ["icinga2", "daemon", "-c", str(where / "icinga2.conf"), "-DRunAsUser=root",
            "-DRunAsGroup=root", *constants]  # fmt: skip
    verified = subprocess.run([*argv, "-C"], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout[-2000:]
    core = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield where
    finally:
        stopped(core)


def test_an_icinga_2_daemon_runs_every_documented_service_as_the_plugin_answers_it(
    icinga: Path,
) -> None:
    expected = {f"nmsquota-{mode}": [mode] for mode in ("poller", "drivers", "ledger", "limited")}
    expected |= {f"nmsquota-subscriber-{who}": ["subscriber", who] for who in ("alice", "bob")}
    deadline = time.monotonic() + 60
    found: dict[str, dict[str, str]] = {}
    while set(found) != set(expected):
        assert time.monotonic() < deadline, f"checked only {sorted(found)}"
        time.sleep(0.5)
        found = icinga_results(icinga / "results")
    for name, arguments in expected.items():
        code, text, perfdata = alone(icinga.parent / "data", arguments)
        fields, kind = found[name], same(arguments)
        assert int(fields["STATE"]) == code, (name, fields)
        assert kind(fields["OUTPUT"].strip()) == kind(text), name
        assert kind(fields["PERF"]) == kind(perfdata), name
    assert (
        "alice: 1d 95% of 10.0 GB, limited to 4Mbit" in found["nmsquota-subscriber-alice"]["OUTPUT"]
    )
