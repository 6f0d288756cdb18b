"""Profiles as data (issue 23): what to walk on an access server, read from TOML files; the
built-in ones say what the poller did by vendor name before, and an operator's own profile
polls a vendor nmsquota has never heard of."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fixtures.local_table import Table
from pysnmp.proto.rfc1902 import Counter64, Integer32, OctetString, TimeTicks

from nmsquota.attribution import InterfaceMap, attribute
from nmsquota.snmp import tables
from nmsquota.snmp.local import LocalTransport
from nmsquota.snmp.poller import poll
from nmsquota.snmp.profiles import ProfileError, builtin, builtin_names, load
from nmsquota.snmp.transport import Agent, Index, parse_oid


def test_the_built_in_profiles_are_the_sources_a_configuration_can_name() -> None:
    assert builtin_names() == (
        "accel-ppp",
        "cisco-csub",
        "if-mib",
        "juniper-subscribers",
        "mikrotik-queues",
    )
    assert builtin("if-mib").kind == "interfaces" and builtin("if-mib").names is None
    # The files say what tables.py spells for the simulator and readings_from's default.
    assert builtin("accel-ppp").kind == "sessions"
    assert builtin("accel-ppp").sessions == tables.ACCEL_SESSIONS
    assert builtin("accel-ppp").sessions.columns == tables.ACCEL_COLUMNS  # type: ignore[union-attr]
    assert builtin("cisco-csub").kind == "interfaces"
    assert builtin("cisco-csub").names == tables.CSUB_NAMES
    assert builtin("cisco-csub").name_columns == tables.CSUB_COLUMNS


ACME = """\
# A made-up BNG whose session table is indexed by an integer.
kind = "sessions"
entry = "1.3.6.1.4.1.99999.1.2.1"
index = "integer"

[columns]
subscriber = { column = 2, name = "acmeSessUser" }
interface = { column = 3 }
state = { column = 4, active = 1 }
octets_in = { column = 5, name = "acmeSessOctetsFromUser" }
octets_out = { column = 6, name = "acmeSessOctetsToUser" }
uptime = { column = 7, unit = "centiseconds" }
"""


def test_a_profile_written_by_an_operator_polls_its_sessions_into_their_subscribers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "acme-bng.toml"
    path.write_text(ACME)
    profile = load(path)
    entry = parse_oid("1.3.6.1.4.1.99999.1.2.1")
    sessions = {
        # index: user, interface, state, from the user, to the user, uptime (1/100 s)
        7: ("alice", "sub7", 1, 300, 40_000, 6_000),
        9: ("bob", "sub9", 2, 20, 1_000, 100_000),
        11: ("", "sub11", 1, 5, 5, 100),  # not yet authenticated: nobody's
    }
    objects: dict[Index, Any] = {parse_oid(tables.SYS_UPTIME): TimeTicks(900_000)}
    for index, (user, interface, state, up, down, uptime) in sessions.items():
        for column, value in ((2, OctetString(user)), (3, OctetString(interface)),
                              (4, Integer32(state)), (5, Counter64(up)), (6, Counter64(down)),
                              (7, TimeTicks(uptime))):  # fmt: skip
            objects[(*entry, column, index)] = value
    agent = Agent("acme", "192.0.2.1")

    seen = asyncio.run(poll(LocalTransport(agent, Table(objects)), InterfaceMap(), 10_000.0,
                            profile))  # fmt: skip

    keys = [(k.subscriber, k.interface, k.session) for k, _ in seen.readings]
    assert keys == [("alice", "sub7", "7"), ("bob", "sub9", "9")]
    assert [r.oper_status for _, r in seen.readings] == [1, 2]  # active is 1 here
    assert [i.name for i in seen.unmapped] == ["sub11"]
    # New sessions: their counters were 0 when they started (60 s and 1,000 s ago).
    assert sorted(r.time for r in seen.origins.values()) == [9_000.0, 9_940.0]
    charged = attribute({}, seen.readings, 10_000, origins=seen.origins)
    assert sorted((s.subscriber, s.bytes_in, s.bytes_out) for s in charged.samples) == [
        ("alice", 40_000, 300),
        ("bob", 1_000, 20),
    ]


NAMED = 'kind = "interfaces"\n[names]\nentry = "1.3.6.1.4.1.9"\nsubscriber = { column = 2 }\n'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('kind = "queues"', "kind"),
        ("entry = 1", "kind"),
        (ACME.replace('kind = "sessions"', 'kind = "sessions"\nnames = {}'), "names"),
        (ACME.replace("subscriber = { column = 2, ", "user = { column = 2, "), "columns.user"),
        (
            ACME.replace("octets_in = { column = 5, name", "octets_in = { name"),
            "columns.octets_in.column",
        ),
        (
            ACME.replace("octets_out = { column = 6,", 'octets_out = { column = "six",'),
            "columns.octets_out.column",
        ),
        (ACME.replace('entry = "1.3.6.1.4.1.99999.1.2.1"', 'entry = "acmeSessEntry"'), "entry"),
        (ACME.replace('index = "integer"', 'index = "hex"'), "index"),
        (ACME.replace('unit = "centiseconds"', 'unit = "ticks"'), "columns.uptime.unit"),
        (ACME.replace("active = 1", "active = true"), "columns.state.active"),
        ('kind = "interfaces"\nentry = "1.3.6.1"', "entry"),
        (
            'kind = "interfaces"\n[names]\nentry = "1.3.6.1.4.1.9"\nsubscriber = { column = 2, '
            "when_bit = 3 }",
            "names.available",
        ),
        (ACME.replace("column = 2,", 'column = 2, pattern = "sub-(.+)",'),
         "columns.subscriber.pattern"),
        (ACME.replace("column = 2,", 'column = 2, pattern = "sub-(?P<user>.+",'),
         "columns.subscriber.pattern"),
        (ACME.replace("interface = { column = 3 }", 'interface = { column = 3, pattern = "x" }'),
         "columns.interface.pattern"),
        (NAMED + "interface = { column = 9 }", "names.interface.match"),
        (NAMED + 'interface = { column = 9, match = "ifAlias" }', "names.interface.match"),
        (NAMED + "address = { column = 5, ignore = \"0.0.0.0\" }", "names.address.ignore"),
    ],
)  # fmt: skip
def test_a_bad_profile_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = tmp_path / "acme-bng.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as raised:
        load(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: ")


def test_a_profile_that_is_not_toml_says_so_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("kind = sessions\n")
    with pytest.raises(ProfileError, match=rf"^{path}: not TOML: "):
        load(path)


def test_an_access_server_names_its_own_profile_file_beside_the_configuration(
    tmp_path: Path,
) -> None:
    from fixtures.config_file import access_server, write_config

    from nmsquota.config import load_config
    from nmsquota.daemon.devices import devices_from

    (tmp_path / "acme-bng.toml").write_text(ACME)
    config = load_config(write_config(tmp_path, access_servers={
        "bng": access_server(161, profile="acme-bng.toml"), "sw": access_server(161),
    }))  # fmt: skip
    bng, sw = devices_from(config)
    assert (bng.profile.name, bng.profile.kind) == ("acme-bng", "sessions")
    assert bng.profile.origin == str(tmp_path / "acme-bng.toml")
    assert sw.profile == builtin("if-mib")


def test_a_bad_profile_file_stops_a_command_with_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fixtures.config_file import access_server, write_config

    from nmsquota.cli import main

    (tmp_path / "acme-bng.toml").write_text(ACME.replace("subscriber =", "user ="))
    config = write_config(tmp_path, access_servers={
        "bng": access_server(161, profile="acme-bng.toml"),
    })  # fmt: skip
    assert main(["-c", str(config), "poll", "--once", "--ledger", str(tmp_path / "l")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(f"nmsquota: {tmp_path / 'acme-bng.toml'}: columns.user: unknown key")


def test_a_profile_file_and_a_built_in_source_together_are_refused(tmp_path: Path) -> None:
    from fixtures.config_file import access_server, write_config

    from nmsquota.config import ConfigError, load_config

    path = write_config(tmp_path, access_servers={
        "bng": access_server(161, source="accel-ppp", profile="acme-bng.toml"),
    })  # fmt: skip
    with pytest.raises(ConfigError, match="set source or profile, not both"):
        load_config(path)


def test_the_readme_s_example_profile_is_one_that_loads() -> None:
    from nmsquota.snmp.profiles import parse

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("```toml\n# profiles/acme-bng.toml") + len("```toml\n")
    example = readme[start : readme.index("```", start)]
    assert parse(example, "acme-bng", origin="README.md") == load_acme()


def load_acme() -> Any:
    from nmsquota.snmp.profiles import parse

    return parse(ACME, "acme-bng", origin="test")


def test_probe_says_a_sessions_profile_s_rows_are_not_named_by_the_interface_map(
    tmp_path: Path,
) -> None:
    from nmsquota.snmp.probe import probe

    path = tmp_path / "acme-bng.toml"
    path.write_text(ACME)
    table = Table({parse_oid(tables.SYS_UPTIME): TimeTicks(500)})
    found = asyncio.run(probe(LocalTransport(Agent("acme", "192.0.2.1"), table), InterfaceMap(),
                              interval=300, source=load(path), now=0.0))  # fmt: skip
    assert found.warnings[0] == ("source is acme-bng: its sessions are named by acme-bng's "
                                 "session table, not by this interface map")  # fmt: skip


def test_every_source_the_configuration_accepts_is_a_built_in_profile() -> None:
    from typing import get_args

    from nmsquota.config import AccessServer

    accepted = get_args(AccessServer.model_fields["source"].annotation)
    assert sorted(accepted) == list(builtin_names())


@pytest.mark.parametrize(
    ("match", "spelt"),
    [("ifIndex", lambda index, name: Integer32(index)),
     ("ifDescr", lambda index, name: OctetString(f"{name} descr")),
     ("ifName", lambda index, name: OctetString(name))],
)  # fmt: skip
def test_a_names_table_not_indexed_by_if_index_names_the_interface_its_column_gives(
    match: str, spelt: Any
) -> None:
    from nmsquota.snmp.profiles import parse

    profile = parse(
        'kind = "interfaces"\n[names]\nentry = "1.3.6.1.4.1.99999.7.1"\n'
        "subscriber = { column = 2 }\nsession_id = { column = 3 }\n"
        f'interface = {{ column = 4, match = "{match}" }}\n'
        'address = { column = 5, ignore = ["0.0.0.0"] }\n',
        "acme-subscribers",
        origin="test",
    )
    objects: dict[Index, Any] = {parse_oid(tables.SYS_UPTIME): TimeTicks(900_000)}
    for index, name in ((40, "vlan40"), (41, "vlan41")):
        for column, value in ((tables.IF_NAME, OctetString(name)),
                              (tables.IF_DESCR, OctetString(f"{name} descr")),
                              (tables.IF_HC_IN_OCTETS, Counter64(index)),
                              (tables.IF_HC_OUT_OCTETS, Counter64(index * 100)),
                              (tables.IF_OPER_STATUS, Integer32(1))):  # fmt: skip
            objects[(*parse_oid(column), index)] = value
    entry = parse_oid("1.3.6.1.4.1.99999.7.1")
    # Rows indexed by a handle of the BNG's own; the second names no interface it has.
    for handle, (user, sid, index, address) in {
        (1, 9): ("erin", "s-9", 41, "198.51.100.4"),
        (1, 10): ("frank", "s-10", 77, "198.51.100.5"),
    }.items():
        name = f"vlan{index}"
        for column, value in ((2, OctetString(user)), (3, OctetString(sid)),
                              (4, spelt(index, name)), (5, OctetString(address))):  # fmt: skip
            objects[(*entry, column, *handle)] = value

    seen = asyncio.run(poll(LocalTransport(Agent("bng", "192.0.2.1"), Table(objects)),
                            InterfaceMap(), 10_000.0, profile))  # fmt: skip

    assert [(k.subscriber, k.index, k.interface, k.session) for k, _ in seen.readings] == [
        ("erin", 41, "vlan41", "s-9")
    ]
    assert [(r.octets_in, r.octets_out) for _, r in seen.readings] == [(41, 4_100)]
    assert seen.addresses == {"erin": ["198.51.100.4"]}
    assert [i.name for i in seen.unmapped] == ["vlan40"]


def test_probe_names_the_profile_whose_names_table_mapped_an_interface() -> None:
    from nmsquota.snmp.probe import probe

    jnx = parse_oid("1.3.6.1.4.1.2636.3.64.1.1.1.3.1")
    objects: dict[Index, Any] = {parse_oid(tables.SYS_UPTIME): TimeTicks(500)}
    for column, value in ((tables.IF_NAME, OctetString("pp0.1073741825")),
                          (tables.IF_DESCR, OctetString("pp0.1073741825")),
                          (tables.IF_HC_IN_OCTETS, Counter64(10)),
                          (tables.IF_HC_OUT_OCTETS, Counter64(20)),
                          (tables.IF_OPER_STATUS, Integer32(1))):  # fmt: skip
        objects[(*parse_oid(column), 301)] = value
    for column, value in ((3, OctetString("alice@isp")), (9, OctetString("pp0.1073741825")),
                          (12, Integer32(2))):  # fmt: skip
        objects[(*jnx, column, 0, 17)] = value
    found = asyncio.run(probe(LocalTransport(Agent("mx", "192.0.2.1"), Table(objects)),
                              InterfaceMap(), interval=300, source="juniper-subscribers",
                              now=0.0))  # fmt: skip
    assert [(p.subscriber, p.rule) for p in found.ports] == [("alice@isp", "juniper-subscribers")]
