"""An access server's walk settings: max_repetitions, bulk and transport, checked and handed to
the poller."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.config import ConfigError, load_config, settings
from nmsquota.daemon.devices import devices_from

BASE = """
[plans.home]
cap = "63MB"
[access_servers.bras]
host = "192.0.2.1"
"""


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "nmsquota.toml"
    path.write_text(BASE + extra)
    return path


def test_the_example_sets_max_repetitions_and_the_poller_gets_it() -> None:
    config = load_config(REPO / "nmsquota.example.toml")
    bras1 = config.settings.access_servers["bras1"]
    assert (bras1.max_repetitions, bras1.bulk) == (25, True)
    (device,) = devices_from(config, ["bras1"])
    assert (device.agent.max_repetitions, device.agent.bulk) == (25, True)


def test_max_repetitions_and_bulk_reach_the_agent(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "max_repetitions = 8\nbulk = false\n"))
    (device,) = devices_from(config)
    assert (device.agent.max_repetitions, device.agent.bulk) == (8, False)


@pytest.mark.parametrize("value", ["0", "201", "-3", '"many"', "12.5", "true"])
def test_a_bad_max_repetitions_names_the_file_the_key_and_the_value(
    tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, f"max_repetitions = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    shown = {"true": "True", '"many"': "'many'"}.get(value, value)
    assert str(error.value) == (
        f"{path}: access_servers.bras.max_repetitions: expected a whole number of rows "
        f"from 1 to 200, got {shown}"
    )


@pytest.mark.parametrize(("value", "shown"), [('"off"', "'off'"), ("0", "0")])
def test_a_bulk_that_is_not_true_or_false_is_named(tmp_path: Path, value: str, shown: str) -> None:
    path = write(tmp_path, f"bulk = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: access_servers.bras.bulk: expected true or false, got {shown}"
    )


def test_transport_is_pysnmp_unless_the_server_names_netsnmp(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert [d.agent.transport for d in devices_from(config)] == ["pysnmp"]
    config = load_config(write(tmp_path, 'transport = "netsnmp"\nversion = "1"\n'))
    (device,) = devices_from(config)
    assert (device.agent.transport, device.agent.version) == ("netsnmp", "1")


def test_netsnmp_with_snmpv3_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    v3 = 'version = "3"\nuser = "nms"\nauth = "sha"\nauth_key = "k"\ntransport = "netsnmp"\n'
    path = write(tmp_path, v3)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    assert str(error.value) == (
        f'{path}: access_servers.bras.transport: transport = "netsnmp" cannot send SNMPv3 '
        '(netsnmp-cffi has no USM): use transport = "pysnmp" for version = "3"'
    )


def test_an_unknown_transport_is_named_with_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, 'transport = "ezsnmp"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: access_servers.bras.transport: ")
    assert "'pysnmp' or 'netsnmp'" in str(error.value)


def test_netsnmp_without_its_extra_installed_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine where nmsquota was installed without [netsnmp]: the binding is absent.
    monkeypatch.setattr(settings, "find_spec", lambda name: None)
    path = write(tmp_path, 'transport = "netsnmp"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f'{path}: access_servers.bras.transport: transport = "netsnmp" needs netsnmp-cffi, '
        "which is not installed: pip install 'nmsquota[netsnmp]'"
    )
