"""The driver registry: every driver, nmsquota's own and third parties', is an entry point in
the group `nmsquota.drivers`; the configuration asks the registry, never the drivers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO
from fixtures.config_file import WriteConfig

from nmsquota import driver_registry
from nmsquota.cli import main
from nmsquota.config import ConfigError, load_config
from nmsquota.enforcement.driver import Driver, Limit, Options, make_driver, make_drivers

BUILT_IN = ("exec", "ipfw", "limit", "log", "nftables", "radius_coa", "tc")

CONFIG = {
    "plans": {"home": {"cap": "63MB"}},
    "subscribers": {"bob": {"plan": "home", "addresses": ["10.0.0.2"]}},
}
"""The tables every configuration here has besides its drivers."""


class Parrot(Driver):
    """A driver only this module registers (with a monkeypatched entry-point list)."""

    type = "parrot"

    def add(self, limits: Sequence[Limit]) -> None:
        pass

    def remove(self, limits: Sequence[Limit]) -> None:
        pass

    def installed(self) -> list[Limit]:
        return []

    def clear(self) -> None:
        pass


class NotADriver:
    options_model = Options


def register(monkeypatch: pytest.MonkeyPatch, **points: str) -> None:
    """Add entry points `name = "module:object"` to the installed ones, for one test."""
    installed = list(metadata.entry_points(group=driver_registry.GROUP))
    extra = [
        metadata.EntryPoint(name, value, driver_registry.GROUP) for name, value in points.items()
    ]
    monkeypatch.setattr(metadata, "entry_points", lambda group: [*installed, *extra])


def test_the_built_in_drivers_are_entry_points_of_nmsquota() -> None:
    points = {p.name: p for p in metadata.entry_points(group=driver_registry.GROUP)}
    for name in BUILT_IN:
        assert points[name].dist is not None and points[name].dist.name == "nmsquota"
        cls = driver_registry.driver_class(name)
        assert issubclass(cls, Driver) and cls.type == name
        assert cls.__module__ == f"nmsquota.enforcement.drivers.{name}"
    assert set(BUILT_IN) <= set(driver_registry.driver_types())


def test_an_unknown_type_lists_the_registered_ones_and_the_closest() -> None:
    with pytest.raises(driver_registry.DriverTypeError) as error:
        driver_registry.driver_class("nftabels")
    known = ", ".join(driver_registry.driver_types())
    assert str(error.value) == (
        f"no driver of type 'nftabels' (known: {known}); did you mean 'nftables'?"
    )
    assert error.value.exit_status == 2


def test_without_nmsquotas_own_entry_points_the_error_says_to_reinstall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metadata, "entry_points", lambda group: [])
    with pytest.raises(driver_registry.DriverTypeError, match=r"\(known: none\); .* reinstall"):
        driver_registry.driver_class("log")


def test_a_third_party_entry_point_is_found_checked_and_built(
    monkeypatch: pytest.MonkeyPatch, config_file: WriteConfig
) -> None:
    register(monkeypatch, parrot="test_driver_registry:Parrot")
    assert "parrot" in driver_registry.driver_types()
    assert driver_registry.driver_class("parrot") is Parrot
    config = load_config(config_file(**CONFIG, drivers={"polly": {"type": "parrot"}}))
    (driver,) = make_drivers(config.configured_drivers())
    assert isinstance(driver, Parrot) and driver.name == "polly"


def test_an_entry_point_that_fails_to_import_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, config_file: WriteConfig
) -> None:
    register(monkeypatch, shaper="nmsquota_no_such_module:Shaper")
    path = config_file(**CONFIG, drivers={"core": {"type": "shaper"}})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: drivers.core.type: driver type 'shaper' (nmsquota_no_such_module:Shaper) "
        "could not be loaded: ModuleNotFoundError: No module named 'nmsquota_no_such_module'"
    )


def test_an_entry_point_that_is_no_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    register(
        monkeypatch, thing="test_driver_registry:CONFIG", half="test_driver_registry:NotADriver"
    )
    with pytest.raises(
        driver_registry.DriverTypeError, match=r"'thing' .* is not an nmsquota driver"
    ):
        driver_registry.options_model("thing")
    # It has an options model, so the configuration accepts it; building it is refused.
    assert driver_registry.options_model("half") is Options
    with pytest.raises(driver_registry.DriverTypeError, match=r"'half' .* not a subclass of"):
        make_driver("x", "half", {})


def test_a_type_registered_twice_is_refused_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, log="test_driver_registry:Parrot")
    with pytest.raises(driver_registry.DriverTypeError) as error:
        driver_registry.driver_class("log")
    assert "driver type 'log' is registered twice (" in str(error.value)
    assert "nmsquota.enforcement.drivers.log:LogDriver from nmsquota " in str(error.value)
    assert "test_driver_registry:Parrot)" in str(error.value)


def test_drivers_are_built_in_the_files_order_and_log_alone_when_none() -> None:
    (default,) = make_drivers([])
    assert (default.name, default.type) == ("log", "log")
    built = make_drivers([("b", "log", {}), ("a", "exec", {"add": ["true"], "remove": ["true"]})])
    assert [(d.name, d.type) for d in built] == [("b", "log"), ("a", "exec")]


def test_importing_the_configuration_imports_no_driver_nor_the_enforcement_layer() -> None:
    probe = (
        "import sys, json, nmsquota.config, nmsquota.driver_registry\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('nmsquota.enforcement')\n"
        "                  or m == 'nmsquota_listfile' or m.split('.')[0] == 'plugins']))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=REPO)  # fmt: skip
    assert json.loads(done.stdout) == []


def test_checking_a_configuration_loads_only_the_drivers_it_names(
    config_file: WriteConfig,
) -> None:
    path = config_file(**CONFIG, drivers={"edge": {"type": "nftables"}})
    probe = (
        "import sys, json\nfrom nmsquota.config import load_config\n"
        f"load_config({str(path)!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.startswith('nmsquota.enforcement.drivers.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=REPO)  # fmt: skip
    assert json.loads(done.stdout) == ["nmsquota.enforcement.drivers.nftables"]


# The example out-of-tree driver in plugins/, installed by .ci/setup as a distribution of
# its own: found through its entry point like any third party's.


def test_the_example_third_party_driver_is_installed_and_registered() -> None:
    (point,) = [p for p in metadata.entry_points(group=driver_registry.GROUP)
                if p.name == "listfile"]  # fmt: skip
    assert point.dist is not None and point.dist.name == "nmsquota-listfile", (
        "plugins/nmsquota-listfile is not installed: run bash .ci/setup"
    )
    cls = driver_registry.driver_class("listfile")
    assert issubclass(cls, Driver) and cls.__module__ == "nmsquota_listfile"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_example_driver_is_checked_and_driven_like_a_built_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config_file: WriteConfig
) -> None:
    limits = tmp_path / "limited.txt"
    outbox = {"type": "listfile", "options": {"path": limits}}
    config = config_file(**CONFIG, drivers={"outbox": outbox})
    assert run(capsys, "--config", config, "config", "check")[0] == 0
    status, out, _ = run(capsys, "--config", config, "driver", "add", "outbox", "10.0.0.2",
                         "2001:db8::2/128", "--rate", "64kbit", "--subscriber", "bob")  # fmt: skip
    assert (status, out) == (0, "2 limited at 64kbit\n")
    assert limits.read_text().splitlines()[1:] == [
        "10.0.0.2\t64000\t10000\tbob",
        "2001:db8::2\t64000\t10000\tbob",
    ]
    run(capsys, "--config", config, "driver", "remove", "outbox", "2001:db8::2")
    status, out, _ = run(capsys, "--config", config, "driver", "list", "outbox", "--json")
    assert json.loads(out) == [
        {"subscriber": "bob", "addresses": ["10.0.0.2"], "rate_bps": 64000, "session": ""}
    ]
    assert run(capsys, "--config", config, "driver", "check")[1] == (
        f"outbox: OK: 1 limits in {limits}\n"
    )
    assert run(capsys, "--config", config, "driver", "clear", "outbox", "--yes")[0] == 0
    assert limits.read_text().splitlines()[1:] == []


def test_the_example_drivers_wrong_option_is_named_by_file_and_key(
    capsys: pytest.CaptureFixture[str], config_file: WriteConfig
) -> None:
    outbox = {"type": "listfile", "options": {"pth": "/tmp/x"}}
    config = config_file(**CONFIG, drivers={"outbox": outbox})
    status, _, err = run(capsys, "--config", config, "config", "check")
    assert status == 2
    assert err.splitlines() == [
        f"nmsquota: {config}: drivers.outbox.options.path: missing (required)",
        f"{config}: drivers.outbox.options.pth: unknown key (expected one of: path)",
    ]
