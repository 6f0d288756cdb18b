"""An access server's host: an IP address or a DNS name, never with the port in it; a name
that does not resolve is a warning at `config check` and a failing device when polled."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import ConfigError, load_config

NOWHERE = "no-such-host.invalid"
"""RFC 6761: a name under .invalid never resolves, with or without a network."""


def servers_at(config_file: WriteConfig, host: str) -> Path:
    return config_file(
        plans={"home": {"cap": "1MB"}},
        subscribers={"alice": {"plan": "home"}},
        access_servers={"bras": {"host": host, "timeout": "1s", "retries": 0}},
    )


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    assert str(error.value).startswith(f"{path}: ")
    return error.value.problems


@pytest.mark.parametrize(
    ("host", "alone"),
    [("127.0.0.1:1161", "127.0.0.1"), ("bras1.example.net:1161", "bras1.example.net"),
     ("bras1:1161", "bras1"), ("[::1]:1161", "::1"), ("[2001:db8::1]:1161", "2001:db8::1")],
)  # fmt: skip
def test_a_host_with_a_port_in_it_is_refused_saying_to_use_the_port_key(
    config_file: WriteConfig, host: str, alone: str
) -> None:
    assert problems(servers_at(config_file, host)) == [
        f"access_servers.bras.host: {host!r} has a port in it: "
        f'write host = "{alone}" and port = 1161'
    ]


@pytest.mark.parametrize(
    "host",
    ["", "bras_1", "-bras.example.net", "bras..example.net", "bras 1", "127.0.0.256",
     "10.1.2", "[::1]", "http://bras1", "a" * 64 + ".example.net"],
)  # fmt: skip
def test_a_host_that_is_neither_an_address_nor_a_name_is_refused(
    config_file: WriteConfig, host: str
) -> None:
    assert problems(servers_at(config_file, host)) == [
        f"access_servers.bras.host: {host!r} is not an IP address or a DNS name"
    ]


@pytest.mark.parametrize(
    "host",
    ["192.0.2.1", "::1", "2001:db8::1", "fe80::1%eth0", "bras1", "bras-1.example.net",
     "bras1.example.net.", NOWHERE],
)  # fmt: skip
def test_addresses_and_names_are_accepted(config_file: WriteConfig, host: str) -> None:
    assert load_config(servers_at(config_file, host)).settings.access_servers["bras"].host == host


def test_config_check_warns_of_a_name_that_does_not_resolve_and_still_passes(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = servers_at(config_file, NOWHERE)
    assert main(["-c", str(path), "config", "check"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{path}: OK\n")
    [warning] = captured.err.splitlines()
    assert warning.startswith(
        f"{path}: warning: access_servers.bras.host: {NOWHERE!r} does not resolve ("
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_config_check_says_nothing_of_an_address_or_a_name_that_resolves(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    assert main(["-c", str(servers_at(config_file, host)), "config", "check"]) == 0
    assert capsys.readouterr().err == ""


def test_poll_shows_a_host_that_does_not_resolve_as_a_failing_device(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = servers_at(config_file, NOWHERE)
    status = main(["-c", str(path), "poll", "--once"], clock=ManualClock(1_000_000))
    out = capsys.readouterr().out
    assert status == 1
    [row] = [line for line in out.splitlines() if line.startswith("bras ")]
    assert f"error: bras: cannot resolve host {NOWHERE!r}: " in row
