"""`config check` refuses what is accepted but wrong: units read against the rule, a duration
without a unit, a window shorter than the polling interval, a cap of nothing, one address for
two subscribers, and interface maps that give one name to two subscribers. Each refusal names
the file, the key and the value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

from nmsquota.cli import main
from nmsquota.config import ConfigError, load_config
from nmsquota.config.examples import examples

BASE = """
interval = "5m"
[plans.home]
cap = "63MB"
[subscribers.alice]
plan = "home"
addresses = ["203.0.113.7"]
[subscribers.bob]
plan = "home"
addresses = ["203.0.113.8"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nmsquota.toml"
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert all(line.startswith(f"{path}: ") for line in str(error.value).splitlines())
    return error.value.problems


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["-c", str(path), "config", "check"])
    return status, capsys.readouterr().err


# Units ----------------------------------------------------------------------------------------


def test_a_limit_in_kilobytes_per_second_is_read_as_bytes_and_converted_to_bits(
    tmp_path: Path,
) -> None:
    limit = 'limit = { rate = "256kBps", queue = "64kB" }'
    text = BASE.replace('cap = "63MB"', f'cap = "63MB"\n{limit}')
    limit = load_config(write(tmp_path, text)).settings.plans["home"].limit
    assert (limit.rate, limit.queue) == (2_048_000, 64_000)


def test_a_limit_in_lower_case_megabits_is_megabits(tmp_path: Path) -> None:
    text = BASE.replace('cap = "63MB"', 'cap = "63MB"\nlimit = { rate = "20mbps" }')
    assert load_config(write(tmp_path, text)).settings.plans["home"].limit.rate == 20_000_000


def test_a_cap_in_lower_case_mb_is_refused_with_megabytes_suggested(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('"63MB"', '"20mb"')))
    assert problem == (
        "plans.home.cap: '20mb' is in bits (b = bit, B = byte); a size is in bytes: write 20MB "
        "for 20 megabytes (20 megabits would be 2.5MB)"
    )


# Durations and windows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "value"),
    [
        ('cap = "63MB"\nwindow = 7', "plans.home.window", "7"),
        ('cap = "63MB"\nwindow = "7"', "plans.home.window", "'7'"),
        ('cap = "63MB"\n[access_servers.b]\nhost = "192.0.2.1"\ntimeout = 2',
         "access_servers.b.timeout", "2"),
    ],
)  # fmt: skip
def test_a_duration_without_a_unit_is_refused_with_the_spellings_meant(
    tmp_path: Path, change: str, where: str, value: str
) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('cap = "63MB"', change)))
    number = value.strip("'")
    assert problem == (
        f"{where}: {value} has no unit: write {number}d, {number}h or {number}m "
        f"(or {number}s for seconds)"
    )


def test_a_bare_polling_interval_is_refused_too(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('interval = "5m"', "interval = 300")))
    assert problem.startswith("interval: 300 has no unit: write 300d, 300h or 300m")


def test_a_window_shorter_than_the_polling_interval_is_refused(tmp_path: Path) -> None:
    text = BASE.replace('cap = "63MB"', 'cap = "63MB"\nwindow = "4m"')
    (problem,) = problems(write(tmp_path, text))
    assert problem == (
        "plans.home.window: 4m is shorter than the polling interval (5m): a window must be at "
        "least one interval long"
    )


def test_a_cap_of_several_is_named_by_its_index_when_its_window_is_too_short(
    tmp_path: Path,
) -> None:
    caps = ('[[plans.home.caps]]\ncap = "1GB"\nwindow = "1d"\n'
            '[[plans.home.caps]]\ncap = "1MB"\nwindow = "1m"')  # fmt: skip
    (problem,) = problems(write(tmp_path, BASE.replace('cap = "63MB"', caps)))
    assert problem.startswith("plans.home.caps.1.window: 1m is shorter than the polling interval")


@pytest.mark.parametrize("window", ["5m", "7d"])
def test_a_window_of_at_least_one_interval_is_accepted(tmp_path: Path, window: str) -> None:
    text = BASE.replace('cap = "63MB"', f'cap = "63MB"\nwindow = "{window}"')
    assert load_config(write(tmp_path, text)).settings.plans["home"].window > 0


# Caps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "shown"), [('"0MB"', "'0MB'"), ("0", "0"), ('"0"', "'0'")])
def test_a_cap_of_nothing_is_refused(tmp_path: Path, cap: str, shown: str) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace('"63MB"', cap)))
    assert problem == (
        "plans.home.cap: expected a cap of more than 0 bytes, such as 63MB (to hold a subscriber "
        f"at the limit from the start, use nmsquota limit), got {shown}"
    )


def test_a_cap_of_nothing_among_several_is_refused_by_its_index(tmp_path: Path) -> None:
    caps = '[[plans.home.caps]]\ncap = "1GB"\n[[plans.home.caps]]\ncap = "0GB"\nwindow = "1d"'
    (problem,) = problems(write(tmp_path, BASE.replace('cap = "63MB"', caps)))
    assert problem.startswith("plans.home.caps.1.cap: expected a cap of more than 0 bytes")


def test_a_cap_of_nothing_fails_config_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BASE.replace('"63MB"', '"0MB"'))
    status, err = check(path, capsys)
    assert status == 2 and f"{path}: plans.home.cap: expected a cap of more than 0" in err


ONE_SUBSCRIBER = "an address belongs to one subscriber"


# Addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bobs", "expected"),
    [
        ("203.0.113.7", "203.0.113.7 is also subscriber alice's address"),
        ("203.0.113.7/32", "203.0.113.7/32 is also subscriber alice's address"),
        ("203.0.113.0/24", "203.0.113.7 is inside 203.0.113.0/24, subscriber bob's address"),
    ],
)
def test_an_address_of_two_subscribers_is_refused_naming_both(
    tmp_path: Path, bobs: str, expected: str
) -> None:
    (problem,) = problems(write(tmp_path, BASE.replace("203.0.113.8", bobs)))
    # The narrower (or, for the same one, the later by name) is the one named by key.
    who = "alice" if "inside" in expected else "bob"
    assert problem == f"subscribers.{who}.addresses: {expected}: {ONE_SUBSCRIBER}"


def test_an_ipv6_prefix_inside_another_subscribers_is_refused(tmp_path: Path) -> None:
    text = BASE.replace('"203.0.113.7"', '"2001:db8:7::/48"').replace(
        '"203.0.113.8"', '"2001:db8:7:1::1"'
    )
    (problem,) = problems(write(tmp_path, text))
    assert problem == (
        "subscribers.bob.addresses: 2001:db8:7:1::1 is inside 2001:db8:7::/48, subscriber "
        "alice's address: an address belongs to one subscriber"
    )


def test_distinct_addresses_and_one_subscribers_own_overlap_are_accepted(tmp_path: Path) -> None:
    # alice's own prefix and an address in it are hers twice over: nobody else is affected.
    text = BASE.replace('"203.0.113.7"', '"203.0.113.0/29", "203.0.113.7", "2001:db8::1"')
    text = text.replace('"203.0.113.8"', '"203.0.113.8", "2001:db8::2"')
    assert set(load_config(write(tmp_path, text)).settings.subscribers) == {"alice", "bob"}


# Interface maps -------------------------------------------------------------------------------

SERVER = '\n[access_servers.bras1]\nhost = "192.0.2.1"\n'


def with_server(*lines: str) -> str:
    return BASE + SERVER + "\n".join(lines) + "\n"


def test_a_pattern_repeated_on_one_access_server_is_refused(tmp_path: Path) -> None:
    text = with_server('match = [{ pattern = "<pppoe-(?P<user>.+)>" },',
                       '  { field = "ifName", pattern = "<pppoe-(?P<user>.+)>" }]')  # fmt: skip
    (problem,) = problems(write(tmp_path, text))
    assert problem == (
        "access_servers.bras1.match.1: the same as match.0 (ifName '<pppoe-(?P<user>.+)>'): it "
        "would never matter"
    )


def test_a_pattern_that_an_earlier_one_takes_for_another_subscriber_is_refused(
    tmp_path: Path,
) -> None:
    text = with_server('match = [{ pattern = "(?P<user>.+)" },',
                       '         { pattern = "<pppoe-(?P<user>.+)>" }]')  # fmt: skip
    (problem,) = problems(write(tmp_path, text))
    assert problem == (
        "access_servers.bras1.match.1: '<pppoe-(?P<user>.+)>' is for names such as '<pppoe-a>', "
        "but match.0 ('(?P<user>.+)') comes first and maps them to '<pppoe-a>', not 'a': put "
        "the more specific pattern first"
    )


def test_the_same_overlap_with_the_specific_pattern_first_is_accepted(tmp_path: Path) -> None:
    # First match wins: specific, then general, is how a fallback is written.
    text = with_server('match = [{ pattern = "<pppoe-(?P<user>.+)>" },',
                       '         { pattern = "(?P<user>.+)" }]')  # fmt: skip
    assert len(load_config(write(tmp_path, text)).settings.access_servers["bras1"].match) == 2


def test_patterns_on_different_fields_or_servers_are_not_compared(tmp_path: Path) -> None:
    text = with_server('match = [{ field = "ifAlias", pattern = "(?P<user>.+)" },',
                       '         { field = "ifName", pattern = "<pppoe-(?P<user>.+)>" }]',
                       '[access_servers.bras2]', 'host = "192.0.2.2"',
                       'match = [{ pattern = "<pppoe-(?P<user>.+)>" }]')  # fmt: skip
    assert len(load_config(write(tmp_path, text)).settings.access_servers) == 2


def test_an_interface_twice_in_the_static_table_is_refused_by_toml(tmp_path: Path) -> None:
    text = with_server('interfaces = { "ether5" = "alice", "ether5" = "bob" }')
    (problem,) = problems(write(tmp_path, text))
    assert problem.startswith("not valid TOML: ") and "'ether5'" in problem


def test_a_static_entry_a_pattern_would_map_elsewhere_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = with_server('interfaces = { "<pppoe-bob>" = "alice", "ether5" = "bob" }',
                       'match = [{ pattern = "<pppoe-(?P<user>.+)>" }]')  # fmt: skip
    path = write(tmp_path, text)
    status, err = check(path, capsys)
    assert status == 0
    assert err == (
        f"{path}: warning: access_servers.bras1.interfaces.<pppoe-bob>: maps '<pppoe-bob>' to "
        "alice, while match.0 would map it to 'bob'; the static table wins\n"
    )


@pytest.mark.parametrize(
    "pattern",
    ["<pppoe-(?P<user>.+)>", "(?P<user>[a-z0-9._@-]+)", r"ppp\d+-(?P<user>\w+)",
     r"(?:vlan|ve)(?P<user>[^.]+)\.\d{2,3}", "(?P<user>a|bc)*x", "(?i)PPPOE-(?P<user>.+?)"],
)  # fmt: skip
def test_the_names_made_from_a_pattern_are_names_it_matches(pattern: str) -> None:
    made = examples(pattern)
    assert made and all(re.fullmatch(pattern, name) for name in made)


def test_a_pattern_beyond_the_example_maker_gives_fewer_names_never_an_error() -> None:
    # A back-reference and a lookbehind: whatever is made must still match.
    for pattern in [r"(?P<user>\w)(?P=user)", r"(?<=x)(?P<user>.+)"]:
        assert all(re.fullmatch(pattern, name) for name in examples(pattern))


# The example ----------------------------------------------------------------------------------


def test_the_example_configuration_passes_config_check_without_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, err = check(REPO / "nmsquota.example.toml", capsys)
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    ("key", "says"),
    [("ifindex:x7", "bad ifIndex"), ("ifindex:0", "bad ifIndex"), ("alias:", "ifAlias is empty"),
     ("ifindex:7:", "is empty")],
)  # fmt: skip
def test_a_bad_ifindex_or_alias_entry_is_refused_naming_it(tmp_path: Path, key: str,
                                                          says: str) -> None:  # fmt: skip
    (problem,) = problems(write(tmp_path, with_server(f'interfaces = {{ "{key}" = "alice" }}')))
    assert problem.startswith("access_servers.bras1.interfaces: ")
    assert repr(key) in problem and says in problem


def test_ifindex_and_alias_entries_load(tmp_path: Path) -> None:
    text = with_server("[access_servers.bras1.interfaces]", '"ifindex:17" = "alice"',
                       '"alias:CIRCUIT-42" = "bob"', '"ifindex:18:Gi0/2" = "carol"',
                       '"Serial0/0:0" = "dan"')  # fmt: skip
    assert len(load_config(write(tmp_path, text)).settings.access_servers["bras1"].interfaces) == 4


def test_an_alias_entry_a_pattern_on_ifalias_would_map_elsewhere_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = with_server('interfaces = { "alias:CUST-bob" = "alice" }',
                       'match = [{ field = "ifAlias",'
                       '           pattern = "CUST-(?P<user>.+)" }]')  # fmt: skip
    path = write(tmp_path, text)
    status, err = check(path, capsys)
    assert status == 0
    assert "maps 'CUST-bob' to alice, while match.0 would map it to 'bob'" in err
