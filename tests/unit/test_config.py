"""Configuration: the example loads; every mistake names the file, the key and the expectation."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from fixtures.config_file import write_secrets

from nmsquota.config import ConfigError, load_config
from nmsquota.ledger import FreeHours, Monthly, Tally

BASE = """
timezone = "Australia/Adelaide"
[plans.home]
cap = "63MB"
[subscribers.davidn]
plan = "home"
addresses = ["203.0.113.7"]
"""


def write(tmp_path: Path, text: str, name: str = "nmsquota.toml") -> Path:
    # TOML text, not fixtures.config_file: this module (and test_steps) checks how the parser
    # reads a given text, including text the writer would never produce.
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.exit_status == 2
    assert all(line.startswith(f"{path}: ") for line in str(error.value).splitlines())
    return error.value.problems


def test_the_example_configuration_loads() -> None:
    config = load_config(REPO / "nmsquota.example.toml")
    home = config.settings.plans["home"]
    assert (home.cap, home.window, home.limit.rate, home.limit.queue) == (
        63_000_000,
        604_800,
        3_000,
        10_000,
    )
    assert config.tallies() == [
        Tally(604_800),
        Tally(30 * 86400, FreeHours(0, 360, "Australia/Adelaide")),
        Tally(31 * 86400, period=Monthly(1, "Australia/Adelaide")),
        Tally(86400, FreeHours(120, 360, "Australia/Adelaide")),  # fair-use's two caps
        Tally(30 * 86400, FreeHours(120, 360, "Australia/Adelaide")),
    ]
    assert config.data_dir == Path("/var/lib/nmsquota")


def test_the_example_shows_an_access_servers_port_as_its_own_key() -> None:
    # Written out, not left to the default: where the port goes is what people get wrong.
    with open(REPO / "nmsquota.example.toml", "rb") as handle:
        bras1 = tomllib.load(handle)["access_servers"]["bras1"]
    assert (bras1["host"], bras1["port"]) == ("192.0.2.1", 161)


def test_an_unknown_key_is_named_with_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('cap = "63MB"', 'cap = "63MB"\nburst = "1MB"'))
    (problem,) = problems(path)
    assert problem.startswith("plans.home.burst: unknown key (expected one of: cap, window,")


def test_an_unknown_key_deep_inside_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('cap = "63MB"', 'cap = "63MB"\nlimit = { speed = 1 }'))
    (problem,) = problems(path)
    assert problem == "plans.home.limit.speed: unknown key (expected one of: rate, queue)"


@pytest.mark.parametrize(
    ("change", "where", "expectation"),
    [
        (
            'cap = "63Mb"',
            "plans.home.cap",
            "is in bits (b = bit, B = byte); a size is in bytes: write 63MB for 63 megabytes",
        ),
        ('cap = "lots"', "plans.home.cap", "expected a size such as 63MB"),
        ("cap = 63.5", "plans.home.cap", "expected a size as a string"),
        ('cap = "63MB"\nwindow = "a week"', "plans.home.window", "expected a duration"),
        (
            'cap = "63MB"\nlimit = { rate = "3k" }',
            "plans.home.limit.rate",
            "has no unit: write 3kbit (bits per second) or 3kB/s (bytes per second)",
        ),
        ('cap = "63MB"\nlimit = { rate = "fast" }', "plans.home.limit.rate", "expected a rate"),
        ('cap = "63MB"\ndirection = "down"', "plans.home.direction", "'download', 'upload' or"),
        ('cap = "63MB"\nfree_hours = "0-6"', "plans.home.free_hours", '"HH:MM-HH:MM"'),
    ],
)
def test_bad_values_name_the_key_and_the_expectation(
    tmp_path: Path, change: str, where: str, expectation: str
) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('cap = "63MB"', change)))
    assert problem.startswith(f"{where}: ")
    assert expectation in problem


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('cap = "63MB"', 'window = "7d"')))
    assert problem == 'plans.home: a plan needs a cap (cap = "63MB"), or [[caps]]'


def test_a_subscriber_on_an_unknown_plan_is_rejected(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('plan = "home"', 'plan = "gold"')))
    assert problem == "subscribers.davidn.plan: no plan named 'gold' (plans: home)"


def test_a_bad_address_and_a_bad_zone_are_both_reported(tmp_path: Path) -> None:
    text = BASE.replace("203.0.113.7", "203.0.113.700").replace("Australia/Adelaide", "Mars/Base")
    found = problems(write(tmp_path, text))
    assert len(found) == 2
    assert any(p.startswith("timezone: expected an IANA time zone") for p in found)
    assert any(
        p.startswith("subscribers.davidn.addresses: expected an IPv4 or IPv6") for p in found
    )


def test_invalid_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, "[plans.home\ncap = 1"))
    assert problem.startswith("not valid TOML: ") and "line 1" in problem


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path / "absent.toml")
    assert problem == "configuration file does not exist"


SECRET_REF = (
    'secrets_file = "secrets.toml"\n'
    + BASE
    + """
[access_servers.bras1]
host = "192.0.2.1"
community = { secret = "bras1" }
"""
)


def test_secrets_come_from_a_private_file(tmp_path: Path) -> None:
    write_secrets(tmp_path, {"bras1": "s3cret"})
    config = load_config(write(tmp_path, SECRET_REF))
    assert config.secret(config.settings.access_servers["bras1"].community) == "s3cret"


def test_a_secrets_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secrets = write_secrets(tmp_path, {"bras1": "s3cret"}, mode=0o644)
    text = SECRET_REF
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert str(secrets) in str(error.value)
    assert "chmod 600" in str(error.value)


def test_a_reference_to_an_unknown_secret_is_named(tmp_path: Path) -> None:
    write_secrets(tmp_path, {"other": "x"})
    text = SECRET_REF
    (problem,) = problems(write(tmp_path, text))
    assert problem.startswith("access_servers.bras1.community: no secret named 'bras1'")


def test_an_interface_pattern_needs_a_user_group(tmp_path: Path) -> None:
    text = BASE + '[access_servers.b]\nhost = "192.0.2.1"\nmatch = [{ pattern = "<pppoe-(.+)>" }]\n'
    (problem,) = problems(write(tmp_path, text))
    assert problem.startswith("access_servers.b.match.0.pattern: ")
    assert "(?P<user>...) group" in problem


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ('version = "3"', "version 3 needs a user"),
        ('version = "3"\nuser = "nms"\nauth = "sha"', "auth = 'sha' needs an auth_key"),
        ('version = "3"\nuser = "nms"\npriv = "aes"\npriv_key = "k"', "priv needs auth"),
        ('user = "nms"', 'user, auth and priv are for version = "3"'),
        ('version = "3"\nuser = "nms"\nauth = "sha1"', "access_servers.b.auth: input should be"),
    ],
)
def test_snmpv3_settings_are_checked(tmp_path: Path, server: str, expected: str) -> None:
    text = BASE + f'[access_servers.b]\nhost = "192.0.2.1"\n{server}\n'
    (problem,) = problems(write(tmp_path, text))
    assert expected in problem


def test_a_driver_of_an_unknown_type_is_named_with_the_registered_types(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + '[drivers.edge]\ntype = "nftabels"\n')
    (problem,) = problems(path)
    assert problem.startswith("drivers.edge.type: no driver of type 'nftabels' (known: ")
    known = problem.split("(known: ", 1)[1].split(")", 1)[0].split(", ")
    assert {"exec", "ipfw", "limit", "log", "nftables", "radius_coa", "tc"} <= set(known)
    assert known == sorted(known)
    assert problem.endswith("; did you mean 'nftables'?")


def test_a_wrong_driver_option_is_named_by_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + '[drivers.edge]\ntype = "nftables"\noptions = { tabel = "x" }\n')
    (problem,) = problems(path)  # problems() checks that every line starts with the file
    assert problem.startswith("drivers.edge.options.tabel: unknown key (expected one of: table,")

    path = write(
        tmp_path, BASE + '[drivers.edge]\ntype = "nftables"\noptions = { mode = "pipe" }\n'
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: drivers.edge.options.mode: input should be 'per-host' or 'shared', got 'pipe'"
    )


def test_a_reader_may_load_the_configuration_without_checking_its_drivers(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, BASE + '[drivers.edge]\ntype = "nftabels"\noptions = { x = 1 }\n')
    config = load_config(path, check_drivers=False)
    assert config.settings.drivers["edge"].type == "nftabels"
    with pytest.raises(ConfigError):
        load_config(path)


def test_a_driver_option_may_be_a_secret(tmp_path: Path) -> None:
    secrets = write(tmp_path, 'edge = "s3cret"\n', name="secrets.toml")
    os.chmod(secrets, 0o600)
    text = BASE.replace("timezone", f'secrets_file = "{secrets}"\ntimezone')
    text += '[drivers.edge]\ntype = "nftables"\noptions = { table = { secret = "edge" } }\n'
    config = load_config(write(tmp_path, text))
    assert config.driver_options("edge") == {"table": "s3cret"}
    assert config.configured_driver("edge") == ("edge", "nftables", {"table": "s3cret"})
    missing = text.replace('{ secret = "edge" }', '{ secret = "nope" }')
    (problem,) = problems(write(tmp_path, missing))
    assert problem == f"drivers.edge.options.table: no secret named 'nope' in {secrets}"


def test_a_monthly_plan_resets_on_its_day_and_rejects_a_window(tmp_path: Path) -> None:
    text = BASE.replace('cap = "63MB"', 'cap = "100GB"\nperiod = "monthly"\nreset_day = 9')
    config = load_config(write(tmp_path, text))
    (tally,) = config.tallies()
    assert tally.period == Monthly(9, "Australia/Adelaide")
    (problem,) = problems(write(tmp_path, text.replace("reset_day = 9", 'window = "30d"')))
    assert problem == "plans.home: a monthly plan has no window (it is the month)"
    (problem,) = problems(
        write(tmp_path, BASE.replace('cap = "63MB"', 'cap = "1GB"\nreset_day = 3'))
    )
    assert problem == 'plans.home: reset_day is for period = "monthly"'
    (problem,) = problems(write(tmp_path, text.replace("reset_day = 9", "reset_day = 31")))
    assert problem.startswith("plans.home.reset_day: input should be less than or equal to 28")


FAIR = """
timezone = "Australia/Adelaide"
[plans.fair]
free_hours = "02:00-06:00"
[[plans.fair.caps]]
cap = "5GB"
window = "1d"
limit = { rate = "10Mbit" }
[[plans.fair.caps]]
cap = "100GB"
window = "30d"
limit = { rate = "1Mbit" }
"""


def test_a_plan_with_several_caps_keeps_a_window_total_for_each(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FAIR))
    caps = config.settings.plans["fair"].all_caps()
    assert [(c.label, c.cap, c.limit.rate, c.free_hours) for c in caps] == [
        ("1d", 5 * 10**9, 10**7, "02:00-06:00"),  # the plan's free hours, inherited
        ("30d", 100 * 10**9, 10**6, "02:00-06:00"),
    ]
    free = FreeHours(120, 360, "Australia/Adelaide")
    assert config.tallies() == [Tally(86400, free), Tally(30 * 86400, free)]


SECOND_CAP = 'cap = "100GB"\nwindow = "30d"\n'


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('cap = "100GB"\nwindow = "24h"\n', "plans.fair: caps.0 and caps.1 count the same window "
         "and direction (1d): one of them would never matter"),
        (SECOND_CAP + 'burst = "1MB"\n', "plans.fair.caps.1.burst: unknown key (expected one of: "
         "cap, window, period, reset_day, direction, free_hours, limit, hysteresis, warn_at, "
         "name, steps)"),
        (SECOND_CAP + 'warn_at = ["-5%"]\n', "plans.fair.caps.1.warn_at.0: expected a positive "
         "percentage, got '-5%'"),
        (SECOND_CAP + "warn_at = [80]\n", 'plans.fair.caps.1.warn_at.0: expected a percentage '
         "such as \"80%\", got 80"),
        (SECOND_CAP + 'direction = "sideways"\n', "plans.fair.caps.1.direction: input should be "
         "'download', 'upload' or 'both', got 'sideways'"),
    ],
)  # fmt: skip
def test_bad_caps_are_rejected_with_the_key(tmp_path: Path, change: str, expected: str) -> None:
    (problem,) = problems(write(tmp_path, FAIR.replace(SECOND_CAP, change)))
    assert problem == expected


def test_a_plan_with_caps_keeps_each_cap_in_its_caps(tmp_path: Path) -> None:
    text = FAIR.replace('free_hours = "02:00-06:00"', 'window = "7d"')
    (problem,) = problems(write(tmp_path, text))
    assert problem == "plans.fair: a plan with [[caps]] keeps window in each cap, not beside them"


def test_a_notify_command_naming_an_unknown_field_is_rejected(tmp_path: Path) -> None:
    from nmsquota.config import NOTIFY_FIELDS

    path = write(tmp_path, '[notify]\ncommand = ["/bin/tell", "{subscriber}", "{login}"]\n')
    (problem,) = problems(path)
    assert problem.startswith("notify.command: unknown placeholder {login} (expected one of: "
                              "subscriber, event,")  # fmt: skip
    for part, expected in (
        ("{}", "'{}': Format string contains positional fields"),
        ("{used!x}", "'{used!x}': Unknown conversion specifier x"),
    ):
        bad = write(tmp_path, f'[notify]\ncommand = ["/bin/tell", "{part}"]\n', "bad.toml")
        (problem,) = problems(bad)
        assert problem.startswith(f"notify.command: {expected}"), problem
    ok = write(tmp_path, "[notify]\ncommand = [" + ", ".join(
        f'"{{{name}}}"' for name in NOTIFY_FIELDS) + "]\n", "ok.toml")  # fmt: skip
    assert load_config(ok).settings.notify.command[0] == "{subscriber}"


def test_notify_fills_exactly_the_fields_the_configuration_allows() -> None:
    from nmsquota.config import NOTIFY_FIELDS
    from nmsquota.notify import fields
    from nmsquota.policy import Decision
    from nmsquota.verdict import Reason, ReasonKind, State

    why = Reason(ReasonKind.OVER, "1d", 80.0, 80, 100)
    decision = Decision("alice", 80, 100, State.STEPPED, why, 0, cap_name="1d",
                        rate_bps=50_000_000, step=0, step_at=80.0)  # fmt: skip
    told = fields("alice", decision.event, decision)
    assert tuple(told) == NOTIFY_FIELDS
    assert (told["event"], told["step"], told["rate"], told["percent"]) == (
        "step 80% of 1d", "80%", "50000000", "80")  # fmt: skip
