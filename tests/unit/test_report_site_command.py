"""`nmsquota report site|url`, the [report] section's checks, and the daemon's SiteWriter."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import report_ledger as fx
from fixtures.config_file import WriteConfig, access_server, secret
from fixtures.report_site import SECRET, URL, build, config_of, set_secret

from nmsquota.cli import main
from nmsquota.config import ConfigError, load_config
from nmsquota.ledger import Ledger, Sample
from nmsquota.report.names import index_name, page_name
from nmsquota.report.sitewriter import SiteWriter


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return build(tmp_path / "data")


def report(data: Path, *argv: str, config: str = "nmsquota.toml") -> int:
    return main(["-c", str(data / config), "report", *argv])


def without_report(data: Path) -> str:
    """A copy of the configuration with no [report] section; its file name."""
    text = (data / "nmsquota.toml").read_text()
    (data / "bare.toml").write_text(text[: text.index("[report]")])
    return "bare.toml"


def test_url_prints_the_base_and_the_pages_name(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(data, "url", "dora") == 0
    assert report(data, "url", "--operator") == 0
    assert capsys.readouterr().out.splitlines() == [
        URL + page_name(SECRET, "dora"),
        URL + index_name(SECRET),
    ]


def test_site_writes_the_configured_directory_and_the_links_lead_to_its_pages(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(data, "site") == 0
    assert report(data, "url", "ivan") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{data / 'site'}: 2 pages written, 0 kept, 0 removed"
    assert out[1] == f"the operator's index: {URL}{index_name(SECRET)}"
    assert (data / "site" / out[2].removeprefix(URL)).read_text().count("usage of ivan") == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["url", "nobody"], "no subscriber 'nobody' in the ledger or the configuration"),
        (["url"], "give a subscriber's NAME or --operator (one of them)"),
        (["url", "dora", "--operator"], "give a subscriber's NAME or --operator (one of them)"),
    ],
)
def test_a_wrong_url_request_is_one_line(
    data: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(data, *argv) == 2
    assert capsys.readouterr().err == f"nmsquota: {message}\n"


@pytest.mark.parametrize("argv", [["url", "dora"], ["site", "somewhere"]])
def test_no_report_section_is_one_line_naming_the_file_and_key(
    data: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    bare = without_report(data)
    assert report(data, *argv, config=bare) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nmsquota: {data / bare}: report.secret: not set ")
    assert err.count("\n") == 1
    assert not (data / "somewhere").exists()


def test_no_url_is_one_line_naming_the_key(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = data / "nmsquota.toml"
    config.write_text(config.read_text().replace(f'url = "{URL}"\n', ""))
    assert report(data, "url", "dora") == 2
    assert capsys.readouterr().err.startswith(f"nmsquota: {config}: report.url: not set ")


def test_a_site_without_a_secret_is_refused_at_load(data: Path) -> None:
    config = data / "nmsquota.toml"
    config.write_text(config.read_text().replace('secret = { secret = "site" }\n', ""))
    with pytest.raises(ConfigError, match=r"report\.site: the site's page names need a key"):
        load_config(config)


def test_a_secret_missing_from_the_secrets_file_or_short_is_refused_at_load(data: Path) -> None:
    (data / "secrets.toml").write_text('other = "x"\n')
    with pytest.raises(ConfigError, match=r"report\.secret: no secret named 'site' in "):
        config_of(data)
    set_secret(data, "too short")
    with pytest.raises(ConfigError, match=r"report\.secret: the secret 'site' in .* is shorter"):
        config_of(data)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_daemons_writer_brings_the_site_up_to_each_commit(data: Path) -> None:
    config = config_of(data)
    writer = SiteWriter(data / "ledger", lambda: config, every=0.02).start()
    try:
        wait_for(lambda: writer.written == 1)
        assert writer.last is not None and sorted(writer.last.drawn) == ["dora", "ivan"]
        time.sleep(0.1)
        assert writer.written == 1  # no commit since: not written again
        later = fx.AS_OF + fx.HOUR
        with Ledger.open_writer(data / "ledger") as ledger:
            ledger.commit(later, [Sample("ivan", later, fx.MB, 0)])
        wait_for(lambda: writer.written == 2)
        assert writer.last.drawn == ["ivan"] and writer.last.kept == 1
    finally:
        writer.close()


def test_the_writer_logs_a_failure_once_and_writes_when_it_is_gone(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_of(data)
    (data / "site").write_text("a file where the site's directory should be")
    writer = SiteWriter(data / "ledger", lambda: config)
    with caplog.at_level(logging.WARNING, logger="nmsquota.report.sitewriter"):
        assert writer.once() is False
        with Ledger.open_writer(data / "ledger") as ledger:
            ledger.commit(fx.AS_OF + fx.HOUR, [])
        assert writer.once() is False  # the same failure at the next commit: not logged again
    (logged,) = caplog.records
    assert logged.getMessage().startswith("the site was not written: ReportUnwritable: ")
    (data / "site").unlink()
    assert writer.once() is True and len(writer.last.pages) == 2  # type: ignore[union-attr]


def test_run_writes_the_site_after_its_cycles_when_report_site_is_set(
    config_file: WriteConfig, snmpd_loopback: int, tmp_path: Path
) -> None:
    config = config_file(
        plans={"paper": {"cap": "63MB"}}, subscribers={"idle": {"plan": "paper"}},
        access_servers={"lo": access_server(snmpd_loopback, interfaces={"lo": "idle"})},
        secrets={"site": SECRET}, report={"site": tmp_path / "site", "secret": secret("site")},
    )  # fmt: skip
    argv = [sys.executable, "-m", "nmsquota", "-c", str(config), "run", "--cycles", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"site in {tmp_path / 'site'}, after each commit" in done.stderr
    page = tmp_path / "site" / page_name(SECRET, "idle")
    assert "Internet usage of idle" in page.read_text()


def test_a_bug_in_the_site_is_logged_once_and_does_not_reach_the_daemon(
    data: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise AttributeError("'Bar' object has no attribute '_adapt'")

    monkeypatch.setattr("nmsquota.report.sitewriter.write_site", broken)
    config = config_of(data)
    writer = SiteWriter(data / "ledger", lambda: config)
    with caplog.at_level(logging.WARNING, logger="nmsquota.report.sitewriter"):
        assert writer.once() is False
        with Ledger.open_writer(data / "ledger") as ledger:
            ledger.commit(fx.AS_OF + fx.HOUR, [])
        assert writer.once() is False
    (logged,) = caplog.records
    assert logged.getMessage() == (
        "the site was not written: AttributeError: 'Bar' object has no attribute '_adapt'"
    )
    assert logged.exc_info is not None  # a bug: its traceback goes to the log
