"""`[control]` in the configuration: the control socket's group."""

from __future__ import annotations

import grp
from pathlib import Path

import pytest

from nmsquota.config import ConfigError, load_config

BASE = '[plans.home]\ncap = "63MB"\n'


def test_the_control_group_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text(BASE)
    assert load_config(path).settings.control.group is None


def test_a_group_of_this_machine_is_taken(tmp_path: Path) -> None:
    group = grp.getgrgid(0).gr_name
    path = tmp_path / "nmsquota.toml"
    path.write_text(f'[control]\ngroup = "{group}"\n' + BASE)
    assert load_config(path).settings.control.group == group


def test_an_unknown_group_is_a_configuration_error_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('[control]\ngroup = "no-such-group"\n' + BASE)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    assert (
        str(error.value) == f"{path}: control.group: no group named 'no-such-group' on this machine"
    )


def test_an_unknown_key_under_control_names_the_keys_there_are(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('[control]\nmode = "0666"\n' + BASE)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems == ["control.mode: unknown key (expected one of: group)"]
