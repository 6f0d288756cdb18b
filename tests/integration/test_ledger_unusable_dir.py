"""A ledger directory the system will not let a command use (issue 19): every command that
reads or writes the ledger says so in one line naming the directory and the system's reason,
exits 1, and changes nothing; reading commands work on a read-only file system.

Mode 000 is tested as an unprivileged user (root ignores modes): `nobody`, through setpriv,
running Debian's python3.11 on this checkout and its virtualenv's packages (the virtualenv's
own interpreter lives in root's home, which `nobody` cannot enter), on a directory of the
test's own under /tmp (see `site`). The read-only file system
is a read-only bind mount of the ledger directory inside a private mount namespace
(`unshare -m`), which nothing outside the command ever sees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from fixtures.config_file import access_server, write_config

from nmsquota.ledger import Ledger, Sample, Tally

T0 = 1_800_000_000

WRITERS = [
    ["run", "--cycles", "1"],
    ["import", "RECORDS"],
    ["prune", "--older-than", "30d", "--discard"],
    ["rebuild"],
    ["subscribers", "add", "bob", "--plan", "home"],
    ["limit", "alice", "--reason", "abuse"],
    ["exempt", "alice", "--reason", "vip"],
    ["topup", "alice", "1GB", "--reason", "gift"],
    ["release", "alice"],
]
"""Commands that write the ledger (the overrides and `subscribers add` write it directly:
no daemon runs)."""
READERS = [["status"], ["usage"], ["export"], ["subscribers", "list"]]
SESSIONS = [["session", "up", "ppp0", "alice", "10.0.0.7"],
            ["session", "down", "ppp0", "alice", "10.0.0.7"]]  # fmt: skip


def named(commands: list[list[str]]) -> list[object]:
    return [pytest.param(argv, id=" ".join(argv[:2])) for argv in commands]


@pytest.fixture
def site() -> Iterator[Path]:
    """A ledger with one commit and its configuration, in a directory `nobody` may enter.

    Not in tmp_path: that is under /tmp/pytest-of-root, which every pytest session on the
    machine (other suites run beside this one) sets back to mode 700 when it starts, so
    `nobody` could lose its way in mid-test. A directory of its own under /tmp, mode 711,
    removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="nq-unusable-"))
    base.chmod(0o711)
    directory = base / "ledger"
    try:
        with Ledger.open_writer(directory, [Tally(86400)]) as ledger:
            ledger.commit(T0, [Sample("alice", T0, 1000, 10)])
        lo = access_server(1, interfaces={"lo": "alice"})
        home = {"cap": "1GB", "window": "1d"}
        alice = {"alice": {"plan": "home"}}
        write_config(base, data_dir=directory, interval="10s", plans={"home": home},
                     subscribers=alice, access_servers={"lo": lo})  # fmt: skip
        (base / "records.txt").write_text(f"alice {T0 + 60} 5 5\n")
        for path in (base / "nmsquota.toml", base / "records.txt"):
            path.chmod(0o644)
        yield base
    finally:
        directory.chmod(0o755)
        shutil.rmtree(base)


def argv_for(site: Path, command: list[str]) -> list[str]:
    records = str(site / "records.txt")
    return ["-c", str(site / "nmsquota.toml"),
            *(records if word == "RECORDS" else word for word in command)]  # fmt: skip


def as_nobody(site: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    python = shutil.which("python3.11", path="/usr/bin")
    if os.geteuid() != 0 or python is None or shutil.which("setpriv") is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3.11")
    packages = sysconfig.get_paths()["purelib"]
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         "env", f"PYTHONPATH={REPO}:{packages}", "HOME=/tmp",
         python, "-m", "nmsquota", *argv_for(site, command)],
        capture_output=True, text=True, cwd="/", timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def on_read_only(site: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare")
    ledger = str(site / "ledger")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, ledger,
         sys.executable, "-m", "nmsquota", *argv_for(site, command)],
        capture_output=True, text=True, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def contents(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("nmsquota: ")
    return line


@pytest.mark.parametrize("command", named(WRITERS + READERS + SESSIONS))
def test_a_mode_000_ledger_directory_is_one_line_naming_it(site: Path, command: list[str]):
    directory = site / "ledger"
    before = contents(directory)
    directory.chmod(0o000)
    line = one_line(as_nobody(site, command))
    assert f"{directory}" in line and "Permission denied" in line
    assert "uid 65534: check the owner and mode of the ledger directory" in line
    directory.chmod(0o755)
    assert contents(directory) == before


@pytest.mark.parametrize("command", named(WRITERS))
def test_a_read_only_ledger_refuses_writers_in_one_line(site: Path, command: list[str]):
    directory = site / "ledger"
    before = contents(directory)
    line = one_line(on_read_only(site, command))
    assert f"{directory}/" in line and "Read-only file system" in line
    assert contents(directory) == before


def test_a_read_only_ledger_still_serves_the_reading_commands(site: Path) -> None:
    usage = on_read_only(site, ["usage"])
    assert usage.returncode == 0 and usage.stderr == ""
    assert usage.stdout.splitlines()[1].split()[:3] == ["alice", "1.0", "KB"]
    export = on_read_only(site, ["export", "-n"])
    assert (export.returncode, export.stdout, export.stderr) == (0, f"alice {T0} 1000 10\n", "")
    listed = on_read_only(site, ["subscribers", "list"])
    assert listed.returncode == 0 and "alice" in listed.stdout
    # No daemon has cycled on this ledger: status says that (exit 1), not that it is unusable.
    status = on_read_only(site, ["status"])
    assert (status.stdout, status.stderr) == ("no cycle recorded: the daemon has not run on "
                                              "this ledger\n", "")  # fmt: skip


@pytest.mark.parametrize("command", named(SESSIONS))
def test_a_session_without_a_daemon_on_a_read_only_ledger_says_no_daemon(
    site: Path, command: list[str]
) -> None:
    line = one_line(on_read_only(site, command))
    assert line == f"nmsquota: no daemon listening on {site / 'ledger' / 'control.sock'}"
