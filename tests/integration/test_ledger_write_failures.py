"""A ledger the disk refuses to write (issue 19): the daemon logs it, keeps the last good
commit, keeps cycling, counts every byte once when a write succeeds again, and status says so.

The refusal is injected beneath the ledger's storage (the one function that puts a file's
bytes on disk), so every file the ledger writes fails as on a full disk; the real-process test
with a real full file system is test_ledger_full_disk.py."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from pathlib import Path

import pytest
from integration.test_daemon_cycle import rig, status

from nmsquota import cli
from nmsquota.control import socket_path
from nmsquota.control.server import serve
from nmsquota.ledger import Ledger


class Disk:
    """The ledger's storage, made to fail like a full disk while `full` is set: a file
    opened for writing takes a few bytes, then the write is refused (ENOSPC)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import builtins

        import nmsquota.ledger.storage as storage

        self.full = False

        def refusing_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.full and "w" in mode:
                with builtins.open(file, mode, *args, **kwargs) as handle:
                    handle.write("{" * 10)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
            return builtins.open(file, mode, *args, **kwargs)

        # The storage module's own `open` (a module global shadows the builtin), so that
        # nothing else in the test process is refused.
        monkeypatch.setattr(storage, "open", refusing_open, raising=False)


def on_disk(directory: Path) -> tuple[int, int]:
    """The ledger as another process reads it: its commit and alice's bytes in the window."""
    reader = Ledger.open_reader(directory)
    return reader.seq, reader.totals()["alice"].bytes_in


def test_a_full_disk_costs_no_cycle_and_no_byte_and_status_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    disk = Disk(monkeypatch)
    caplog.set_level(logging.INFO, logger="nmsquota")

    async def run() -> None:
        async with rig(tmp_path) as r:
            directory = r.ledger.directory
            server = await serve(socket_path(directory), r.daemon.handle)
            try:
                await steps(r, directory)
            finally:
                server.close()

    async def status_now(r) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        code = await asyncio.to_thread(cli.main, status(r), r.clock)
        return code, capsys.readouterr().out

    async def steps(r, directory: Path) -> None:  # type: ignore[no-untyped-def]
        r.bras.show(r.clock.now(), 0, 0)
        await r.daemon.cycle()
        r.clock.advance(300)
        r.bras.show(r.clock.now(), 100_000, 0)
        await r.daemon.cycle()
        good = on_disk(directory)
        assert good[1] == 100_000

        disk.full = True
        failed_at = r.clock.now() + 300
        for downloaded in (250_000, 400_000):  # two cycles the disk refuses
            r.clock.advance(300)
            r.bras.show(r.clock.now(), downloaded, 0)
            report = await r.daemon.cycle()
            assert report.ledger_error is not None
            assert "No space left on device" in report.ledger_error
            assert on_disk(directory) == good  # the last good commit, whole
        assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]
        errors = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
        assert len(errors) == 2
        assert errors[0].startswith("cycle 3 not recorded")
        assert str(directory) in errors[0] and "No space left on device" in errors[0]

        code, out = await status_now(r)
        assert code == 1
        assert out.startswith("ledger: writes failing since 2027-01-15 08:10:00 (2 not "
                              "recorded; the ledger shows the last good commit): ledger: "
                              f"cannot write {directory}/")  # fmt: skip
        assert r.daemon.ping()["ledger_write_failure"]["failing_since"] == failed_at

        disk.full = False
        r.clock.advance(300)
        r.bras.show(r.clock.now(), 450_000, 0)
        report = await r.daemon.cycle()
        assert report.ledger_error is None
        # Every byte of the refused cycles, once: the baselines stayed at the last commit.
        assert on_disk(directory) == (good[0] + 1, 450_000)
        assert r.ledger.totals()["alice"].bytes_in == 450_000
        assert "ledger writes work again after 2 failed" in caplog.text
        assert "ledger_write_failure" not in r.daemon.ping()
        code, out = await status_now(r)
        assert code == 0 and "writes failing" not in out

    asyncio.run(run())
