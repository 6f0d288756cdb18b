"""Where the ledger is: `[ledger] url` in the configuration (or its secrets file), --ledger
DIR|URL, and the local data directory that stays a directory either way (issue 24)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fixtures.config_file import WriteConfig, secret

from nmsquota.cli import main
from nmsquota.commands.common import data_dir_of, ledger_argument, ledger_location
from nmsquota.config import ConfigError, load_config
from nmsquota.errors import UsageError
from nmsquota.ledger import Ledger
from nmsquota.ledger.backends import kind_of, shown

URL = "postgresql://nmsquota@db.example.net/nmsquota"


def test_a_configured_url_is_the_ledger_and_data_dir_stays_local(
    config_file: WriteConfig, tmp_path: Path
) -> None:
    config = load_config(config_file(data_dir=str(tmp_path / "data"), ledger={"url": URL}))
    args = argparse.Namespace(ledger=None)
    assert ledger_location(args, config) == URL
    assert data_dir_of(args, config) == tmp_path / "data"


def test_without_a_url_the_ledger_is_data_dir(config_file: WriteConfig, tmp_path: Path) -> None:
    config = load_config(config_file(data_dir=str(tmp_path / "data")))
    assert ledger_location(argparse.Namespace(ledger=None), config) == tmp_path / "data"


def test_ledger_option_takes_a_directory_or_a_url(config_file: WriteConfig, tmp_path: Path) -> None:
    config = load_config(config_file(data_dir=str(tmp_path / "data")))
    given_url = argparse.Namespace(ledger=ledger_argument(URL))
    assert ledger_location(given_url, config) == URL
    assert data_dir_of(given_url, config) == tmp_path / "data"
    given_dir = argparse.Namespace(ledger=ledger_argument(str(tmp_path / "elsewhere")))
    assert ledger_location(given_dir, config) == tmp_path / "elsewhere"
    assert data_dir_of(given_dir, config) == tmp_path / "elsewhere"


def test_a_url_from_the_secrets_file(config_file: WriteConfig) -> None:
    secret_url = "postgresql://nmsquota:s3cret@db.example.net/nmsquota"
    path = config_file(secrets={"ledger": secret_url}, ledger={"url": secret("ledger")})
    assert load_config(path).ledger_location == secret_url


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://nmsquota:s3cret@db/nmsquota", "this URL holds a password"),
        ("mysql://db/nmsquota", "expected a postgresql://USER@HOST/DATABASE URL"),
    ],
)
def test_a_bad_url_is_refused_naming_the_key(config_file: WriteConfig, url: str, said: str) -> None:
    path = config_file(ledger={"url": url})
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert f"{path}: ledger.url: {said}" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_a_secret_that_is_not_a_url_is_refused(config_file: WriteConfig) -> None:
    path = config_file(secrets={"ledger": "hunter2"}, ledger={"url": secret("ledger")})
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "ledger.url: the secret 'ledger'" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_an_unknown_ledger_key_is_named(config_file: WriteConfig) -> None:
    with pytest.raises(
        ConfigError, match=r"ledger\.pops: unknown key \(expected one of: url, pop\)"
    ):
        load_config(config_file(ledger={"url": URL, "pops": "adelaide"}))


def test_a_pop_needs_a_database_ledger(config_file: WriteConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ledger: several POPs share a ledger in PostgreSQL"):
        load_config(config_file(ledger={"pop": "adelaide"}))
    config = load_config(config_file(ledger={"url": URL, "pop": "adelaide"}))
    assert config.ledger_pop == "adelaide"
    with pytest.raises(UsageError, match="is a directory, one POP's"):
        Ledger.open_writer(tmp_path / "ledger", pop="adelaide")


def test_messages_never_show_a_password() -> None:
    assert shown("postgresql://nq:s3cret@db/nmsquota") == "postgresql://nq@db/nmsquota"
    assert shown("postgres://nq@db/nmsquota?password=s3cret&sslmode=require") == (
        "postgres://nq@db/nmsquota?sslmode=require"
    )
    assert shown(Path("/var/lib/nmsquota")) == "/var/lib/nmsquota"


def test_the_store_is_told_from_the_location(tmp_path: Path) -> None:
    assert kind_of(tmp_path) == "tinydb"
    assert kind_of(str(tmp_path)) == "tinydb"
    assert kind_of(URL) == "postgresql"
    with pytest.raises(UsageError, match="not mysql://"):
        Ledger.open_reader("mysql://db/nmsquota")


def test_migrate_refuses_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "migrate", "--ledger", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "is a TinyDB ledger (a directory), which its writer migrates when it opens" in said
    assert not list(tmp_path.iterdir())


def test_config_check_shows_where_the_ledger_is(
    config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", str(config_file(ledger={"url": URL})), "config", "check"]) == 0
    assert f"ledger at {URL}, polling every 5m" in capsys.readouterr().out
