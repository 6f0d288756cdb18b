"""The exec driver: templates filled per limit and run without a shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nmsquota.enforcement.driver import DriverError, DriverOptionsError, Limit, make_driver

RECORD = "import json,sys; open(sys.argv[1],'a').write(json.dumps(sys.argv[2:])+'\\n')"


def recorded(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_placeholder_is_one_argument_and_no_shell_sees_it(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    driver = make_driver("shape", "exec", {
        "add": [sys.executable, "-c", RECORD, str(log), "on", "{address}", "{rate_kbit}",
                "{interface}"],
        "remove": [sys.executable, "-c", RECORD, str(log), "off", "{address}"],
        "per_address": True,
    })  # fmt: skip
    alice = Limit("alice", ("10.0.0.7", "2001:db8::7"), rate_bps=64_000,
                  interface="<pppoe-alice $(reboot)>")  # fmt: skip
    driver.add([alice])
    driver.remove([alice])
    assert recorded(log) == [
        ["on", "10.0.0.7", "64", "<pppoe-alice $(reboot)>"],
        ["on", "2001:db8::7", "64", "<pppoe-alice $(reboot)>"],
        ["off", "10.0.0.7"],
        ["off", "2001:db8::7"],
    ]
    assert driver.installed() == []


def test_a_failing_command_names_the_subscriber_and_the_rest_run(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    fail_for_bob = ("import sys; sys.exit(3 if sys.argv[2] == 'bob' else "
                    "open(sys.argv[1],'a').write(sys.argv[2]+'\\n') and 0)")  # fmt: skip
    driver = make_driver("hook", "exec", {
        "add": [sys.executable, "-c", fail_for_bob, str(log), "{subscriber}"],
        "remove": ["true"],
    })  # fmt: skip
    with pytest.raises(DriverError, match=r"driver 'hook': 1 of 3 not done \(bob: "):
        driver.add([Limit("alice"), Limit("bob"), Limit("carol")])
    assert log.read_text().split() == ["alice", "carol"]
    assert [lim.subscriber for lim in driver.installed()] == ["alice", "carol"]


def test_an_unknown_placeholder_is_a_configuration_error() -> None:
    with pytest.raises(DriverOptionsError, match=r"drivers.hook.options.add: .*\{user\}"):
        make_driver("hook", "exec", {"add": ["x", "{user}"], "remove": ["y"]})
