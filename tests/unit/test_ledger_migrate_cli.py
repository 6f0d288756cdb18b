"""`nmsquota ledger migrate` against a real PostgreSQL (issue 24): the schema made once,
left alone when current, a newer one refused; the ledger's commands then find it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fixtures import postgres

from nmsquota.cli import main
from nmsquota.ledger.backends import shown


@pytest.fixture
def empty(postgres_server: postgres.Server) -> Iterator[tuple[str, str]]:
    """An empty database's (URL, conninfo): not migrated."""
    with postgres.fresh_database(postgres_server) as conninfo:
        yield postgres.url_of(postgres_server, conninfo), conninfo


def test_migrate_makes_the_schema_once(
    empty: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = empty
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    assert capsys.readouterr().err == f"{shown(url)}: applied schema version 1, 2\n"
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    assert capsys.readouterr().err == f"{shown(url)}: the schema is current; nothing to do\n"


def test_migrate_upgrades_a_version_1_ledger_and_its_commands_read_it(
    empty: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path,
) -> None:
    url, _ = empty
    records = tmp_path / "usage.txt"
    records.write_text("alice 1800000000 1000 10\nbob 1800000300 2000 20\n")
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    assert main(["import", "--ledger", url, str(records)]) == 0
    postgres.as_version_1(url)  # as the nmsquota of version 1 left it
    capsys.readouterr()
    assert main(["usage", "--ledger", url, "--window", "1d", "--bytes", "alice"]) == 1
    said = capsys.readouterr().err
    assert "version 1, this nmsquota needs 2: run `nmsquota ledger migrate`" in said
    assert "Traceback" not in said
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    assert capsys.readouterr().err == f"{shown(url)}: applied schema version 2\n"
    assert main(["usage", "--ledger", url, "--window", "1d", "--bytes", "alice"]) == 0
    assert "1000" in capsys.readouterr().out


def test_before_migrate_the_commands_say_to_run_it(
    empty: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = empty
    assert main(["status", "--ledger", url]) == 2
    said = capsys.readouterr().err
    assert said.startswith(
        f"nmsquota: no ledger at {shown(url)}; the database has no nmsquota tables"
    )
    assert "run `nmsquota ledger migrate`" in said
    assert "Traceback" not in said


def test_a_migrated_database_holds_a_ledger_once_a_writer_opened_it(
    empty: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    url, _ = empty
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    records = tmp_path / "usage.txt"
    records.write_text("alice 1800000000 1000 10\nbob 1800000300 2000 20\n")
    assert main(["import", "--ledger", url, str(records)]) == 0
    assert f"imported 2 records into {shown(url)}" in capsys.readouterr().err
    assert main(["usage", "--ledger", url, "--window", "1d", "--bytes", "alice"]) == 0
    assert "1000" in capsys.readouterr().out


def test_a_newer_schema_is_refused_by_name(
    empty: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, conninfo = empty
    assert main(["ledger", "migrate", "--ledger", url]) == 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, nmsquota) VALUES (99, 'later')")
    capsys.readouterr()
    assert main(["ledger", "migrate", "--ledger", url]) == 1
    said = capsys.readouterr().err
    assert "version 99, newer than this nmsquota reads" in said
    assert "Use the nmsquota that wrote it" in said


def test_a_password_never_reaches_the_screen(
    postgres_server: postgres.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server.url("nq_nowhere").replace("postgres@", "postgres:s3cret@")
    assert main(["ledger", "migrate", "--ledger", url]) != 0
    said = capsys.readouterr().err
    assert "s3cret" not in said and "nq_nowhere" in said and "Traceback" not in said
