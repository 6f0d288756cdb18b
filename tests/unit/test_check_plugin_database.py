"""check_nmsquota on a ledger kept in PostgreSQL (issue 24): the configuration's
`[ledger] url` names the database, the plugin reads it there when no summary is current,
and says the same as it does of the same ledger in a directory (test_check_plugin.py runs
every mode on directories, with and without the summary)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import postgres
from fixtures.check_ledger import CONFIG, GB, Cycle, Someone, write_ledger
from unit.test_check_plugin import CRITICAL, OK, UNKNOWN, WARNING, _run, perfdata

from nmsquota.verdict import State

PEOPLE = [
    Someone("p25", down=25 * GB // 10),
    Someone("warned", down=85 * GB // 10, state=State.WARNED),
    Someone("over", down=12 * GB, state=State.LIMITED, rate=1_000_000),
    Someone("fair", plan="fair", down=GB // 2),
]


@pytest.fixture
def database(ledger_database: str) -> str:
    """A migrated, empty database's URL."""
    return ledger_database


def configured(data: Path, url: str) -> Path:
    """`data`/nmsquota.toml: check_ledger's plans, data_dir in `data`, the ledger at `url`."""
    data.mkdir(parents=True, exist_ok=True)
    text = f'data_dir = "{data / "local"}"\n' + CONFIG + f'\n[ledger]\nurl = "{url}"\n'
    (data / "nmsquota.toml").write_text(text)
    return data


def check(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, list[str]]:
    from fixtures.check_ledger import NOW

    return _run(capsys, data, *argv, now=NOW + 30)


def test_subscribers_read_from_the_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: str
) -> None:
    write_ledger(database, PEOPLE)
    data = configured(tmp_path, database)
    assert check(capsys, data, "subscriber", "p25")[0] == OK
    code, lines = check(capsys, data, "subscriber", "warned")
    assert code == WARNING
    assert lines[0].startswith("NMSQUOTA WARNING: usage_1d at 85% (outside range 0:80)")
    code, lines = check(capsys, data, "subscriber", "over")
    assert code == CRITICAL and perfdata(lines[0])["usage_1d"] == "120.0%;80;100;0"
    code, lines = check(capsys, data, "subscriber", "fair")
    assert "fair: 1h 50% of 1.0 GB, 1d 5% of 10.0 GB, not limited" in lines[0]


def test_the_poller_limited_and_drivers_modes_read_the_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database: str
) -> None:
    write_ledger(database, PEOPLE, Cycle(age=60))
    data = configured(tmp_path, database)
    code, lines = check(capsys, data, "poller")
    assert code == OK and "cycle 42 1m30s ago" in lines[0], lines
    code, lines = check(capsys, data, "limited")
    assert lines[0].startswith("NMSQUOTA ")
    assert perfdata(lines[0])["limited"].startswith("1;")
    assert check(capsys, data, "drivers")[0] == OK


def test_a_database_without_the_schema_is_critical_and_says_to_migrate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, postgres_server: postgres.Server
) -> None:
    with postgres.fresh_ledger_database(postgres_server, migrated=False) as url:
        data = configured(tmp_path, url)
        code, lines = check(capsys, data, "ledger")
        assert code == CRITICAL and len(lines) == 1
        assert "the database has no nmsquota tables" in lines[0]
        assert "nmsquota ledger migrate" in lines[0]
        assert check(capsys, data, "poller")[0] == UNKNOWN
