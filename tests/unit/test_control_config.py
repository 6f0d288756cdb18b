"""`[control]` in the configuration: the control socket's group."""

from __future__ import annotations

import grp

import pytest
from fixtures.config_file import WriteConfig

from nmsquota.config import ConfigError, load_config

PLANS = {"home": {"cap": "63MB"}}


def test_the_control_group_is_optional(config_file: WriteConfig) -> None:
    path = config_file(plans=PLANS)
    assert load_config(path).settings.control.group is None


def test_a_group_of_this_machine_is_taken(config_file: WriteConfig) -> None:
    group = grp.getgrgid(0).gr_name
    path = config_file(control={"group": group}, plans=PLANS)
    assert load_config(path).settings.control.group == group


def test_an_unknown_group_is_a_configuration_error_naming_file_and_key(
    config_file: WriteConfig,
) -> None:
    path = config_file(control={"group": "no-such-group"}, plans=PLANS)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    assert (
        str(error.value) == f"{path}: control.group: no group named 'no-such-group' on this machine"
    )


def test_an_unknown_key_under_control_names_the_keys_there_are(config_file: WriteConfig) -> None:
    path = config_file(control={"mode": "0666"}, plans=PLANS)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems == ["control.mode: unknown key (expected one of: group)"]
