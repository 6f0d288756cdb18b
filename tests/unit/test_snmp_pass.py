"""`nmsquota snmp-pass`: Net-SNMP's pass_persist protocol on stdin/stdout, one answer per
request, whatever the request holds."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.quota_ledger import AS_OF, quota_ledger

from nmsquota.config import load_config
from nmsquota.ledger import Ledger
from nmsquota.nms.mib import ROOT
from nmsquota.nms.passpersist import MAX_LINE, LedgerSource, parse_oid, serve

NOW = AS_OF + 60
BASE = ".1.3.6.1.4.1.8072.9999.6678"
LEDGER_AS_OF = f"{BASE}.1.1.1.0"
POLLER_CYCLE = f"{BASE}.1.1.2.0"
BOB = "3.98.111.98"
BOB_PLAN = f"{BASE}.1.2.1.2.{BOB}"
GINA_LIMITED_SINCE = f"{BASE}.1.2.1.8.4.103.105.110.97"


@pytest.fixture
def source(tmp_path: Path) -> LedgerSource:
    config, ledger = quota_ledger(tmp_path)
    return LedgerSource(ledger, load_config(config))


def converse(source: LedgerSource, *lines: str | bytes) -> list[str]:
    """What the handler answers to `lines`, as lines."""
    raw = b"".join(line if isinstance(line, bytes) else line.encode() + b"\n" for line in lines)
    out = io.BytesIO()
    serve(io.BytesIO(raw), out, source, lambda: NOW)
    return out.getvalue().decode().splitlines()


def test_ping_is_answered_pong(source: LedgerSource) -> None:
    assert converse(source, "PING") == ["PONG"]


def test_get_answers_the_oid_its_type_and_its_value(source: LedgerSource) -> None:
    assert converse(source, "get", BOB_PLAN) == [BOB_PLAN, "string", "home"]
    assert converse(source, "get", POLLER_CYCLE) == [POLLER_CYCLE, "gauge", "13"]


def test_get_of_an_oid_the_mib_does_not_hold_is_none(source: LedgerSource) -> None:
    assert converse(source, "get", f"{BASE}.1.2.1.2.3.98.111.99") == ["NONE"]
    assert converse(source, "get", f"{BASE}.1.2.1") == ["NONE"]
    assert converse(source, "get", ".1.3.6.1.2.1.1.3.0") == ["NONE"]


def test_getnext_from_the_root_is_the_first_object(source: LedgerSource) -> None:
    assert converse(source, "getnext", BASE) == [LEDGER_AS_OF, "gauge", str(AS_OF)]


def test_getnext_from_a_column_is_its_first_row(source: LedgerSource) -> None:
    # Length-prefixed names: the three-letter ones before the longer, in octet order.
    assert converse(source, "getnext", f"{BASE}.1.2.1.2")[0] == BOB_PLAN


def test_getnext_past_the_last_object_is_none(source: LedgerSource) -> None:
    assert converse(source, "getnext", f"{BASE}.1.3.1.8.255") == ["NONE"]
    assert converse(source, "getnext", f"{BASE}.2") == ["NONE"]


def test_set_is_refused_not_writable_and_its_lines_are_not_commands(
    source: LedgerSource,
) -> None:
    assert converse(source, "set", BOB_PLAN, "string PING", "PING") == ["not-writable", "PONG"]


def test_a_malformed_oid_is_none_and_not_read_as_the_next_command(
    source: LedgerSource,
) -> None:
    for bad in ("PING", "1.3.x.6", ".1..3", "", ".1.3.6.4294967296", "1." + "1." * 128 + "1"):
        assert converse(source, "getnext", bad, "PING") == ["NONE", "PONG"], bad


def test_an_unknown_command_is_none_and_the_loop_goes_on(source: LedgerSource) -> None:
    assert converse(source, "walk", "", "GET", "PING") == ["NONE", "NONE", "NONE", "PONG"]


def test_an_overlong_line_is_one_malformed_line(source: LedgerSource) -> None:
    long = "get" + "\n" + "." + "1" * (3 * MAX_LINE) + ".PING"
    assert converse(source, long, "PING") == ["NONE", "PONG"]


def test_bytes_that_are_not_utf8_are_a_malformed_oid(source: LedgerSource) -> None:
    assert converse(source, "get", b".1.3\xff\xfe\n", "PING") == ["NONE", "PONG"]


def test_input_ending_inside_a_request_ends_the_loop_without_an_answer(
    source: LedgerSource,
) -> None:
    assert converse(source, "PING", "getnext") == ["PONG"]
    assert converse(source, "set", BOB_PLAN) == []


def test_oids_parse_with_or_without_the_leading_dot() -> None:
    assert parse_oid(BASE) == ROOT
    assert parse_oid(BASE[1:] + "\r") == ROOT
    assert parse_oid(" ") is None


def test_an_unchanged_ledger_is_not_read_again(source: LedgerSource) -> None:
    converse(source, *["getnext", BASE] * 20)
    assert source.reads == 1


def test_a_changed_ledger_is_read_at_the_next_request(source: LedgerSource, tmp_path: Path) -> None:
    assert converse(source, "get", GINA_LIMITED_SINCE)[2] == str(AS_OF - 300)
    with Ledger.open_writer(tmp_path / "ledger") as ledger, ledger.batch():
        ledger.records.clear_limit("gina")
    assert converse(source, "get", GINA_LIMITED_SINCE)[2] == "0"
    assert source.reads == 2


def test_no_ledger_answers_none_until_one_appears(tmp_path: Path) -> None:
    source = LedgerSource(tmp_path / "nowhere", None)
    assert converse(source, "PING", "getnext", BASE) == ["PONG", "NONE"]


def test_a_database_no_daemon_here_marks_is_read_again_every_while(
    tmp_path: Path, ledger_database: str
) -> None:
    """An NMS host's snmpd serving a ledger the POPs' daemons write: no daemon here marks
    their commits (no commit.json), so the database is read again every UNMARKED_EVERY
    seconds, and not at every request between."""
    from nmsquota.nms.passpersist import UNMARKED_EVERY

    with Ledger.open_writer(ledger_database) as ledger, ledger.batch():
        ledger.commit(AS_OF)
    clock = [float(NOW)]
    source = LedgerSource(tmp_path / "no-daemon-here", None, ledger_database, lambda: clock[0])

    def as_of() -> str:
        out = io.BytesIO()
        serve(io.BytesIO(f"get\n{LEDGER_AS_OF}\n".encode()), out, source, lambda: clock[0])
        return out.getvalue().decode().splitlines()[2]

    try:
        assert as_of() == str(AS_OF)
        with Ledger.open_writer(ledger_database) as ledger, ledger.batch():
            ledger.commit(AS_OF + 300)
        assert as_of() == str(AS_OF) and source.reads == 1  # within the same while
        clock[0] += UNMARKED_EVERY
        assert as_of() == str(AS_OF + 300) and source.reads == 2
    finally:
        if source._reader is not None:
            source._reader.close()


@pytest.mark.timeout(30)
def test_the_command_answers_each_request_as_it_comes(tmp_path: Path) -> None:
    """Through real pipes: each answer is flushed before the next request is written, as
    snmpd waits for it."""
    config, ledger = quota_ledger(tmp_path)
    handler = subprocess.Popen(
        [sys.executable, "-m", "nmsquota", "-c", str(config), "snmp-pass", "--ledger", str(ledger)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    assert handler.stdin is not None and handler.stdout is not None
    try:
        for request, expected in (("PING\n", [b"PONG\n"]),
                                  (f"get\n{BOB_PLAN}\n", [f"{BOB_PLAN}\n".encode(),
                                                          b"string\n", b"home\n"]),
                                  ("set\n.1.3\ninteger 1\n", [b"not-writable\n"])):  # fmt: skip
            handler.stdin.write(request.encode())
            handler.stdin.flush()
            assert [handler.stdout.readline() for _ in expected] == expected
        handler.stdin.close()
        assert handler.wait(timeout=10) == 0
    finally:
        if handler.poll() is None:
            handler.kill()
            handler.wait()
