"""`simulate --transport`: which library polls the simulated access server, and its default."""

from __future__ import annotations

import argparse

import pytest

from nmsquota.commands import simulate
from nmsquota.errors import UsageError
from nmsquota.snmp.connect import TRANSPORTS


def installed(monkeypatch: pytest.MonkeyPatch, netsnmp: bool) -> None:
    """Pretend netsnmp-cffi (module netsnmpy) is installed or not."""
    real = simulate.find_spec

    def find_spec(name: str) -> object:
        return None if name == "netsnmpy" and not netsnmp else real(name)

    monkeypatch.setattr(simulate, "find_spec", find_spec)
    if netsnmp:
        pytest.importorskip("netsnmpy")


def test_the_choices_are_the_access_servers_transports() -> None:
    assert simulate.TRANSPORTS == TRANSPORTS


def test_the_default_is_netsnmp_when_its_binding_is_installed(monkeypatch) -> None:
    installed(monkeypatch, netsnmp=True)
    assert simulate.chosen_transport(argparse.Namespace(transport=None)) == "netsnmp"


def test_the_default_is_pysnmp_without_it(monkeypatch) -> None:
    installed(monkeypatch, netsnmp=False)
    assert simulate.chosen_transport(argparse.Namespace(transport=None)) == "pysnmp"


def test_a_transport_asked_for_is_used(monkeypatch) -> None:
    installed(monkeypatch, netsnmp=True)
    assert simulate.chosen_transport(argparse.Namespace(transport="pysnmp")) == "pysnmp"


def test_netsnmp_asked_for_without_its_binding_is_refused_in_one_line(monkeypatch) -> None:
    installed(monkeypatch, netsnmp=False)
    with pytest.raises(UsageError, match=r"^--transport netsnmp needs netsnmp-cffi") as error:
        simulate.chosen_transport(argparse.Namespace(transport="netsnmp"))
    assert "\n" not in str(error.value)


def test_the_help_says_the_default(capsys) -> None:
    from nmsquota.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--transport {pysnmp,netsnmp}" in text
    assert "default netsnmp when netsnmp" in text and "pysnmp otherwise" in text
