"""check_nmsquota run by a real Nagios core (Debian's nagios4), with the service definitions
docs/nagios.md gives: each service checked, its state the plugin's exit status, its output
and perfdata split where the core splits them, the same as the plugin says on its own."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, require
from fixtures.check_ledger import GB, Cycle, Someone, build

from nmsquota.config import load_config
from nmsquota.nms import summarise
from nmsquota.verdict import State

SCRIPT = Path(sys.executable).parent / "check_nmsquota"
OBJECTS = Path("/etc/nagios4/objects")


def documented() -> str:
    """The Nagios object definitions of docs/nagios.md (its first code block after `## Nagios`)."""
    text = (REPO / "docs" / "nagios.md").read_text()
    section = text.split("\n## Nagios\n", 1)[1]
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


@pytest.fixture
def nagios(tmp_path: Path) -> Iterator[Path]:
    """A Nagios core's working directory, the core started on the documented definitions
    (the plugin's path and the test's configuration put in), stopped by PID at the end."""
    require("nagios4")
    data = build(tmp_path / "data", [
        Someone("alice", down=95 * GB // 10, state=State.STEPPED, rate=4_000_000, step_at=90.0),
        Someone("bob", down=12 * GB, state=State.LIMITED, rate=1_000_000),
    ], Cycle(age=30), now=time.time())  # fmt: skip
    ledger = data / "ledger"
    summarise.write(ledger, summarise.read(ledger, load_config(data / "nmsquota.toml")))
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
        core.terminate()
        try:
            core.wait(timeout=10)
        except subprocess.TimeoutExpired:
            core.kill()
            core.wait(timeout=10)


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
    config = nagios.parent / "data" / "nmsquota.toml"
    for name, arguments in services:
        alone = subprocess.run([str(SCRIPT), "--config", str(config), *arguments.split()],
                               capture_output=True, text=True, timeout=30)  # fmt: skip
        text, _, perfdata = alone.stdout.splitlines()[0].partition(" | ")
        fields = checked[name]
        assert int(fields["current_state"]) == alone.returncode, (name, fields)
        # The core keeps the text and the perfdata apart (status.dat writes `;` as `:`).
        # Ages move on between the core's call and this one: numbers compared in kind.
        same = (lambda t: re.sub(r"[0-9.]+", "N", t)) if arguments.split()[0] in (
            "poller", "ledger") else (lambda t: t)  # fmt: skip
        assert same(fields["plugin_output"]) == same(text.replace(";", ":")), name
        assert same(fields["performance_data"]) == same(perfdata.strip()), name
    alice = checked["nmsquota subscriber alice"]
    assert alice["current_state"] == "1"  # 95% of the cap, against -w 90
    assert "alice: 1d 95% of 10.0 GB, limited to 4Mbit" in alice["plugin_output"]
    assert checked["nmsquota poller"]["current_state"] == "0"
    assert checked["nmsquota limited"]["plugin_output"].startswith("NMSQUOTA OK: 2 of 2 ")
