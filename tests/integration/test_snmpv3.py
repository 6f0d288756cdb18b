"""SNMPv3 (USM) against Net-SNMP snmpd: every security level, SHA-2 and AES, DES for old gear."""

from __future__ import annotations

import asyncio

import pytest
from conftest import free_udp_port, running_snmpd, wait_for_snmp
from fixtures.config_file import access_server, secret, write_config

from nmsquota.snmp.connect import open_transport
from nmsquota.snmp.walk import Agent, SnmpError, walk

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
AUTH, PRIV = "nq-auth-pass-1", "nq-priv-pass-1"
USERS = """
createUser nqnone
createUser nqsha SHA "{auth}"
createUser nqsha256aes SHA-256 "{auth}" AES "{priv}"
createUser nqsha512aes SHA-512 "{auth}" AES "{priv}"
createUser nqdes SHA "{auth}" DES "{priv}"
rouser nqnone noauth
rouser nqsha auth
rouser nqsha256aes priv
rouser nqsha512aes priv
rouser nqdes priv
"""


@pytest.fixture(scope="module")
def snmpd_v3(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("snmpv3")
    conf = directory / "snmpd.conf"
    conf.write_text(USERS.format(auth=AUTH, priv=PRIV))
    port = free_udp_port()
    # Its own persistent directory: createUser keys are stored there, not in /var/lib/snmp.
    env = {"SNMP_PERSISTENT_DIR": str(directory / "persist"), "PATH": "/usr/sbin:/usr/bin:/bin"}
    with running_snmpd(conf, port, env=env):
        wait_for_snmp(port, credentials=("-v3", "-u", "nqnone", "-l", "noAuthNoPriv"))
        yield port


def v3(port: int, user: str, auth: str = "none", priv: str = "none", **keys: str) -> Agent:
    return Agent(
        user,
        "127.0.0.1",
        port,
        version="3",
        user=user,
        auth_protocol=auth,
        priv_protocol=priv,
        auth_key=keys.get("auth_key", AUTH if auth != "none" else None),
        priv_key=keys.get("priv_key", PRIV if priv != "none" else None),
        timeout=1,
        retries=1,
        deadline=5,
    )


async def descr(agent: Agent) -> dict:
    for _ in range(20):  # snmpd may still be starting
        try:
            return (await walk(await open_transport(agent), [IF_DESCR]))[IF_DESCR]
        except SnmpError as error:
            last = error
            if "timeout" not in str(error):
                raise
            await asyncio.sleep(0.2)
    raise last


@pytest.mark.parametrize(
    ("user", "auth", "priv"),
    [
        ("nqnone", "none", "none"),
        ("nqsha", "sha", "none"),
        ("nqsha256aes", "sha256", "aes"),
        ("nqsha512aes", "sha512", "aes"),
        ("nqdes", "sha", "des"),
    ],
)
def test_every_security_level_walks_the_interfaces(
    snmpd_v3: int, user: str, auth: str, priv: str
) -> None:
    rows = asyncio.run(descr(v3(snmpd_v3, user, auth, priv)))
    assert "lo" in rows.values()


def test_a_wrong_key_is_an_error_naming_the_device(snmpd_v3: int) -> None:
    agent = v3(snmpd_v3, "nqsha256aes", "sha256", "aes", auth_key="not-the-key-1")
    with pytest.raises(SnmpError, match=r"nqsha256aes \(127.0.0.1:\d+\)"):
        asyncio.run(descr(agent))


def test_poll_once_with_a_v3_authpriv_configuration(
    snmpd_v3: int, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from nmsquota.cli import main

    asyncio.run(descr(v3(snmpd_v3, "nqsha256aes", "sha256", "aes")))  # snmpd is up
    bras2 = access_server(snmpd_v3, version="3", user="nqsha256aes",
                          auth="sha256", auth_key=secret("bras2-auth"),
                          priv="aes", priv_key=secret("bras2-priv"),
                          interfaces={"lo": "alice"})  # fmt: skip
    config = write_config(tmp_path, secrets={"bras2-auth": AUTH, "bras2-priv": PRIV},
                          access_servers={"bras2": bras2})  # fmt: skip
    argv = ["-c", str(config), "poll", "--once", "--json", "--ledger", str(tmp_path / "none")]
    assert main(argv) == 0
    (device,) = json.loads(capsys.readouterr().out)
    (row,) = device["rows"]
    assert (device["name"], row["interface"], row["subscriber"]) == ("bras2", "lo", "alice")
    assert row["width"] == 64 and row["verdict"] == "baseline"
