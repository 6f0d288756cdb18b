"""The throwaway PostgreSQL server the PostgreSQL ledger store's tests run against
(tests/fixtures/postgres.py, the postgres_server and postgres_database fixtures): a real server,
a database of each test's own, reached over a Unix socket only, and gone after the session."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, LiteralString

import pytest
from fixtures import postgres

if TYPE_CHECKING:
    import psycopg

SEEN: list[str] = []
"""The databases this module's tests were given, in the order they ran."""


def test_a_real_postgresql_server_answers_the_one_the_fixture_started(
    postgres_server: postgres.Server, postgres_database: str
) -> None:
    with connect(postgres_database) as connection:
        version = one(connection, "SELECT version()")
        data_directory = one(connection, "SHOW data_directory")
    # The binaries' own version (15 on Debian 12), and this server, not Debian's "main" cluster.
    assert version.startswith(f"PostgreSQL {postgres_server.major}.")
    assert postgres_server.major >= 15
    assert Path(data_directory) == postgres_server.data


@pytest.mark.parametrize("turn", ["one test", "the next test"])
def test_each_test_has_an_empty_database_of_its_own(postgres_database: str, turn: str) -> None:
    with connect(postgres_database) as connection:
        name = one(connection, "SELECT current_database()")
        tables = one(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        earlier = one(
            connection, "SELECT count(*) FROM pg_database WHERE datname = ANY(%s)", [SEEN]
        )
        # Whichever of the two runs second would find the other's table in a shared database.
        connection.execute("CREATE TABLE left_behind (n integer)")
    assert re.fullmatch(r"nq_[0-9a-f]{12}", name)
    assert name not in SEEN
    assert tables == 0, f"{turn} found a table in its new database"
    assert earlier == 0, "an earlier test's database was not dropped"
    SEEN.append(name)


def test_the_database_is_dropped_even_when_the_test_fails_with_a_connection_open(
    postgres_server: postgres.Server,
) -> None:
    with pytest.raises(RuntimeError), postgres.fresh_database(postgres_server) as conninfo:
        left_open = connect(conninfo)
        name = one(left_open, "SELECT current_database()")
        raise RuntimeError("the test failed")
    assert _disconnected(left_open), "the connection the test left open was not ended"
    with connect(postgres_server.conninfo()) as connection:
        remaining = one(connection, "SELECT count(*) FROM pg_database WHERE datname = %s", [name])
    assert remaining == 0


def test_connections_go_over_a_unix_socket_and_the_server_has_no_tcp_listener(
    postgres_server: postgres.Server, postgres_database: str
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    host = conninfo_to_dict(postgres_database)["host"]
    assert host == str(postgres_server.directory)
    assert stat.S_ISSOCK(os.stat(Path(host) / postgres.SOCKET_NAME).st_mode)
    with connect(postgres_database) as connection:
        listening = one(connection, "SHOW listen_addresses")
        # NULL for a connection that came in over a Unix socket.
        address = one(connection, "SELECT inet_server_addr()")
    assert listening == ""
    assert address is None


def test_a_stopped_server_has_no_process_and_no_directory_left() -> None:
    server = postgres.start(postgres.require_postgres())
    assert postgres.alive(server.pid) and (server.directory / postgres.SOCKET_NAME).exists()
    postgres.stop(server)
    assert not postgres.alive(server.pid)
    assert not server.directory.exists()


def test_the_server_is_stopped_and_removed_when_the_session_is_interrupted() -> None:
    with pytest.raises(KeyboardInterrupt), postgres.running_server() as server:
        assert postgres.alive(server.pid)
        raise KeyboardInterrupt  # Ctrl-C in the middle of a test
    assert not postgres.alive(server.pid)
    assert not server.directory.exists()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)]
)
def test_missing_binaries_fail_in_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(postgres, "DEBIAN_BINARIES", "/nonexistent/postgresql/*/bin")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="Debian's postgresql"):
        postgres.require_postgres()


def connect(conninfo: str) -> psycopg.Connection[Any]:
    """psycopg is imported only here: where it is missing, the fixtures have already skipped
    the test (or failed it in CI) saying so, and this module must still be collected."""
    import psycopg

    return psycopg.connect(conninfo, autocommit=True)


def one(
    connection: psycopg.Connection[Any], query: LiteralString, params: Sequence[Any] = ()
) -> Any:
    """The value of a query's one row and column."""
    row = connection.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def _disconnected(connection: psycopg.Connection[Any]) -> bool:
    """Whether the server has ended this connection (DROP DATABASE ... WITH (FORCE))."""
    import psycopg

    try:
        connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    finally:
        connection.close()
    return False
