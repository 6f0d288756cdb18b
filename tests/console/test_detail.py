"""The subscriber detail screen: per cap, usage in the window against the cap over time;
samples loaded in a worker through the reader factory; the session, the history, the
overrides by id, and the rate measured while limited against the limit."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual.widgets import DataTable, Static

from console.screen_ledger import T0, UTC, Host, data_dir, reader_of, snapshot_of
from nmsquota.console.curve import window_usage
from nmsquota.console.detail import SubscriberDetail
from nmsquota.standings import Reader, Sample
from nmsquota.usage import Tally


class CountingReader:
    """A reader factory that records each call, the thread it ran on and what was asked."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.asked: list[tuple[list[str], int]] = []
        self.threads: list[str] = []
        samples = reader.samples

        def recorded(subscribers: list[str], after: int) -> list[Sample]:
            self.asked.append((list(subscribers), after))
            return samples(subscribers, after)

        reader.samples = recorded  # type: ignore[method-assign]

    def __call__(self) -> Reader:
        self.threads.append(threading.current_thread().name)
        return self.reader


def text(screen: SubscriberDetail, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_samples_are_loaded_in_a_worker_once_per_commit_newest_first(tmp_path: Path) -> None:
    data = data_dir(tmp_path)
    factory = CountingReader(reader_of(data))

    async def run() -> None:
        screen = SubscriberDetail("carol", factory, zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            # Her plan's longest window is a day: a rolling curve looks a day further back.
            assert factory.asked == [(["carol"], T0 + 3600 - 2 * 86400)]
            assert factory.threads != [threading.main_thread().name]
            screen.show(snapshot_of(data))  # the same commit: nothing read again
            await app.workers.wait_for_complete()
            assert len(factory.asked) == 1
            await pilot.press("s")
            table = screen.query_one("#samples-table", DataTable)
            first = [str(c) for c in table.get_row(str(T0 + 1500))]
            assert first == ["08:25:00", "400.0 KB", "0 B", "10.7kbit"]
            times = [int(str(row.key.value)) for row in table.ordered_rows]
            assert times == sorted(times, reverse=True) and times[0] == T0 + 1500

    asyncio.run(run())


def test_the_title_says_the_limit_and_the_rate_measured_against_it(tmp_path: Path) -> None:
    async def run() -> None:
        data = data_dir(tmp_path)
        screen = SubscriberDetail("alice", lambda: reader_of(data), zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            title = text(screen, "#title")
            assert "alice · plan home · LIMITED since 08:15:00" in title
            assert ("limited to 8kbit by log,shaper; measured 16.0kbit against 8kbit: NOT "
                    "EFFECTIVE since 08:25:00 (3 checks over)") in title  # fmt: skip
            assert "no session seen · 10.60.1.2" in title

    asyncio.run(run())


def test_each_cap_and_the_session_of_a_two_cap_plan(tmp_path: Path) -> None:
    async def run() -> None:
        data = data_dir(tmp_path)
        screen = SubscriberDetail("carol", lambda: reader_of(data), zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            caps = text(screen, "#caps").splitlines()
            assert caps[0] == ("1h: 1.2 MB of 1.0 MB in 1h (120%) limited at 64kbit, "
                               "lifts 09:15:00")  # fmt: skip
            assert caps[1].startswith("1d: 1.2 MB of 3.0 MB (+1.0 MB top-up) in 1d (40%)")
            assert "online at bras <pppoe-carol> since 08:50:00" in text(screen, "#title")
            assert screen.cap_shown == 0  # the limited cap is drawn first
            await pilot.press("c")
            assert screen.cap_shown == 1

    asyncio.run(run())


def test_history_and_overrides_with_ids_reasons_and_authors(tmp_path: Path) -> None:
    async def run() -> None:
        data = data_dir(tmp_path)
        snap = snapshot_of(data)
        screen = SubscriberDetail("carol", lambda: reader_of(data), zone=UTC)
        app = Host(screen, snap)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("h")
            history = screen.query_one("#history-table", DataTable)
            assert [str(history.get_row(str(r.key.value))[2]) for r in history.ordered_rows] == [
                "session up: carol on <pppoe-carol> at bras",
                "topup carol 1.0 MB on cap 1d: bought more (by noc-anna)",
                "carol limited to 64kbit: over cap 1h"]  # fmt: skip
            await pilot.press("o")
            (topup,) = [o for o in snap.overrides if o.subscriber == "carol"]
            assert screen.selected_override_id() == topup.id
            table = screen.query_one("#overrides-table", DataTable)
            assert [str(c) for c in table.get_row(topup.id)] == [
                topup.id, "topup", "1d", "1.0 MB", "08:30:00", "removed", "-", "bought more",
                "yes"]  # fmt: skip

    asyncio.run(run())


def test_someone_without_overrides_has_none_to_select(tmp_path: Path) -> None:
    async def run() -> None:
        data = data_dir(tmp_path)
        screen = SubscriberDetail("gina", lambda: reader_of(data), zone=UTC)
        app = Host(screen, snapshot_of(data))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert screen.selected_override_id() is None
            await pilot.press("escape")
            assert app.screen is not screen

    asyncio.run(run())


def test_the_curve_rises_with_each_sample_and_falls_as_it_leaves_the_window() -> None:
    hour = Tally(3600)
    samples = [Sample("x", 1000, 50, 7), Sample("x", 2000, 30, 0)]
    assert window_usage(samples, hour, "download", 3000) == [
        (-599, 0), (1000, 50), (2000, 80), (3000, 80)]  # fmt: skip
    # Later, nothing moved: each sample leaves the window an hour after it came.
    assert window_usage(samples, hour, "download", 6000) == [
        (2401, 80), (4600, 30), (5600, 0), (6000, 0)]  # fmt: skip
    assert window_usage(samples, hour, "both", 3000)[1:3] == [(1000, 57), (2000, 87)]
