"""NMSQUOTA-MIB served by a real Net-SNMP snmpd through `nmsquota snmp-pass`
(pass_persist), walked with Net-SNMP's own snmpwalk reading mibs/; and the MIB compiled by
snmptranslate and pysmi."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, free_udp_port, require, running_snmpd, wait_for_snmp
from fixtures.quota_ledger import quota_ledger

from nmsquota.ledger import Ledger
from nmsquota.nms.mib import ROOT
from nmsquota.nms.passpersist import format_oid

MIBS = REPO / "mibs"


@pytest.fixture
def snmpd_pass(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """snmpd on 127.0.0.1 with the pass_persist line docs/snmp.md gives, on a ledger built
    through the ledger API: (port, ledger directory)."""
    config, ledger = quota_ledger(tmp_path)
    port = free_udp_port()
    conf = tmp_path / "snmpd.conf"
    conf.write_text(
        "rocommunity public 127.0.0.1\n"
        f"pass_persist {format_oid(ROOT)} {sys.executable} -m nmsquota -c {config} "
        f"snmp-pass --ledger {ledger}\n"
    )
    # snmpd closes the handler's stdin when it stops: snmp-pass ends with it.
    with running_snmpd(conf, port):
        wait_for_snmp(port)
        yield port, ledger


def snmpwalk(port: int, *what: str) -> list[str]:
    done = subprocess.run(
        [require("snmpwalk"), "-v2c", "-c", "public", "-t", "5", "-r", "1", "-M", f"+:{MIBS}",
         "-m", "+NMSQUOTA-MIB", f"127.0.0.1:{port}", *what],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.timeout(120)
def test_snmpwalk_shows_the_subscriber_table_by_name(snmpd_pass: tuple[int, Path]) -> None:
    port, _ = snmpd_pass
    lines = snmpwalk(port, "NMSQUOTA-MIB::nqSubscriberTable")
    assert 'NMSQUOTA-MIB::nqSubscriberPlan."carol" = STRING: fair' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberState."carol" = INTEGER: limited(5)' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberCapName."carol" = STRING: 1h' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberUsed."carol" = Counter64: 1200000 bytes' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberPercent."carol" = Gauge32: 120.0' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberLimitRate."carol" = Gauge32: 64000 bits per second' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberNotEffective."alice" = INTEGER: true(1)' in lines
    assert 'NMSQUOTA-MIB::nqSubscriberState."erin" = INTEGER: forced(6)' in lines
    plans = [line.split(" = ")[0] for line in lines if "nqSubscriberPlan." in line]
    assert len(plans) == 8  # every subscriber but the one whose name cannot be an index


@pytest.mark.timeout(120)
def test_snmpwalk_shows_a_name_beyond_ascii_with_ox(snmpd_pass: tuple[int, Path]) -> None:
    """Net-SNMP shows an index's octets beyond ASCII as dots ("zo.."); -OX decodes it."""
    port, _ = snmpd_pass
    lines = snmpwalk(port, "-OX", "NMSQUOTA-MIB::nqSubscriberState")
    assert "NMSQUOTA-MIB::nqSubscriberState[STRING: zoë] = INTEGER: ok(1)" in lines


@pytest.mark.timeout(120)
def test_snmpwalk_shows_each_cap_under_its_subscriber(snmpd_pass: tuple[int, Path]) -> None:
    port, _ = snmpd_pass
    lines = snmpwalk(port, "NMSQUOTA-MIB::nqCapTable")
    assert 'NMSQUOTA-MIB::nqCapBytes."carol"."1d" = Counter64: 3000000 bytes' in lines
    assert 'NMSQUOTA-MIB::nqCapState."carol"."1h" = INTEGER: limited(5)' in lines
    assert 'NMSQUOTA-MIB::nqCapState."carol"."1d" = INTEGER: ok(1)' in lines
    assert 'NMSQUOTA-MIB::nqCapPercent."dave"."1d" = Gauge32: 83.3' in lines


@pytest.mark.timeout(120)
def test_a_walk_of_the_whole_mib_ends_at_its_end(snmpd_pass: tuple[int, Path]) -> None:
    """The handler's NONE past the last object: snmpd moves on, the walk of our subtree
    stops there without an error."""
    port, _ = snmpd_pass
    lines = snmpwalk(port, "-On", format_oid(ROOT))
    assert lines[0].startswith(f"{format_oid(ROOT)}.1.1.1.0 = Gauge32: ")
    assert lines[-1].startswith(f"{format_oid(ROOT)}.1.3.1.8.")
    assert all(line.startswith(format_oid(ROOT)) for line in lines)


@pytest.mark.timeout(120)
def test_a_set_is_refused(snmpd_pass: tuple[int, Path]) -> None:
    port, _ = snmpd_pass
    done = subprocess.run(
        [require("snmpset"), "-v2c", "-c", "public", "-t", "5", "-r", "0",
         f"127.0.0.1:{port}", f"{format_oid(ROOT)}.1.2.1.2.3.98.111.98", "s", "gold"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0
    assert "gold" not in done.stdout


@pytest.mark.timeout(120)
def test_a_commit_is_served_without_restarting_snmpd(snmpd_pass: tuple[int, Path]) -> None:
    port, ledger_dir = snmpd_pass
    gina = 'NMSQUOTA-MIB::nqSubscriberLimitedSince."gina"'
    assert any(line.startswith(f"{gina} = Gauge32: 1800003300") for line in snmpwalk(port, gina))
    with Ledger.open_writer(ledger_dir) as ledger, ledger.batch():
        ledger.records.clear_limit("gina")
    assert snmpwalk(port, gina) == [f"{gina} = Gauge32: 0"]


def test_snmptranslate_compiles_the_mib_without_a_message() -> None:
    done = subprocess.run(
        [require("snmptranslate"), "-M", str(MIBS), "-m", "NMSQUOTA-MIB", "-Tp", "-IR",
         "nmsquotaMIB"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stderr == ""
    assert "nqCapLiftsAt(8)" in done.stdout
    assert "nqLimitApplied(1)" in done.stdout


def test_pysmi_compiles_the_mib_and_what_it_imports(tmp_path: Path) -> None:
    from pysmi.codegen import PySnmpCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser import SmiStarParser
    from pysmi.reader import FileReader
    from pysmi.searcher import StubSearcher
    from pysmi.writer import PyFileWriter

    compiler = MibCompiler(SmiStarParser(), PySnmpCodeGen(), PyFileWriter(str(tmp_path)))
    compiler.add_sources(FileReader(str(MIBS)))
    compiler.add_searchers(StubSearcher(*PySnmpCodeGen.baseMibs))
    results = compiler.compile("NMSQUOTA-MIB", "IF-MIB", rebuild=True)
    assert results["NMSQUOTA-MIB"] == "compiled", results
    assert {name: status for name, status in results.items()
            if status not in ("compiled", "untouched")} == {}  # fmt: skip
    # And the result loads into pysnmp with the OIDs the handler serves.
    from pysnmp.smi import builder

    mibs = builder.MibBuilder()
    mibs.add_mib_sources(builder.DirMibSource(str(tmp_path)))
    mibs.load_modules("NMSQUOTA-MIB")
    (lifts_at,) = mibs.import_symbols("NMSQUOTA-MIB", "nqCapLiftsAt")
    assert lifts_at.name == (*ROOT, 1, 3, 1, 8)
