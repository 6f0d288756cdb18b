"""`nmsquota console` refuses what it cannot show in one line, before any screen starts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nmsquota.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


def test_no_ledger_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(["console", "--ledger", str(tmp_path / "none")], capsys)
    assert status == 2
    assert err == f"nmsquota: no ledger in {tmp_path / 'none'} (no state.json); the daemon " \
                  "creates one, or `nmsquota import` does\n"  # fmt: skip


def test_a_corrupt_ledger_is_one_line_and_exit_status_1(
    console_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (console_data / "ledger" / "state.json").write_text("{ not json")
    status, err = run(["console", "--ledger", str(console_data / "ledger")], capsys)
    assert status == 1 and err.count("\n") == 1
    assert err.startswith(f"nmsquota: ledger file {console_data / 'ledger' / 'state.json'} ")


def test_without_a_terminal_it_refuses_and_says_what_to_use(
    console_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    config = console_data / "nmsquota.toml"
    status, err = run(["-c", str(config), "console", "--ledger", str(console_data / "ledger")],
                      capsys)  # fmt: skip
    assert status == 2
    assert err == ("nmsquota: console: needs a terminal (stdin and stdout are not one); for a "
                   "printed summary use `nmsquota status` or `nmsquota usage`\n")  # fmt: skip


@pytest.mark.parametrize("given", ["0", "fast", "-1"])
def test_a_refresh_that_is_not_a_sensible_number_of_seconds_is_refused(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["console", "--refresh", given])
    assert exited.value.code == 2
    assert "--refresh" in capsys.readouterr().err
