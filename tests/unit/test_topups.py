"""Top-ups in the read API: each one in force on each cap it adds to, with what is left of it
once the usage in the window has taken what went beyond the plan's cap; the one that expires
first is used up first."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO
from fixtures.copy_ledger import Recorded, recorded_at

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.ledger import Ledger
from nmsquota.ledger.base import Location
from nmsquota.ledger.records import OverrideRecord
from nmsquota.standings import Reader
from nmsquota.standings.topups import drawing_order, left_of, topups_on

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
AS_OF = T0 + 3600
"""The fixture's last commit."""


def topup(amount: int, until: int | None = None, since: int = T0, cap: str | None = None,
          subscriber: str = "alice") -> OverrideRecord:  # fmt: skip
    return OverrideRecord(subscriber=subscriber, kind="topup", reason="bought", since=since,
                          until=until, bytes=amount, cap=cap)  # fmt: skip


@pytest.mark.parametrize(
    ("used", "left"),
    [
        (0, [300, 500]),  # under the plan's cap: nothing taken
        (1000, [300, 500]),  # at it: nothing taken either
        (1100, [200, 500]),  # beyond it: from the first
        (1300, [0, 500]),
        (1450, [0, 350]),  # the first used up, then the second
        (1800, [0, 0]),  # at the cap in force: both used up
        (9999, [0, 0]),  # beyond that (limited): never below nothing
    ],
)
def test_usage_beyond_the_plans_cap_takes_from_the_topups_in_turn(
    used: int, left: list[int]
) -> None:
    assert left_of(1000, used, [300, 500]) == left


def test_the_topup_that_expires_first_is_drawn_on_first_one_until_removed_last() -> None:
    forever_old, forever_new = topup(5, since=T0), topup(6, since=T0 + 10)
    late, soon = topup(7, until=T0 + 900), topup(8, until=T0 + 100)
    assert drawing_order([forever_new, late, forever_old, soon]) == [
        soon, late, forever_old, forever_new]  # fmt: skip


def test_a_cap_counts_the_topups_for_it_or_for_every_cap_not_expired_at_the_moment() -> None:
    day, whole, hour = topup(100, cap="1d"), topup(200), topup(400, cap="1h")
    expired = topup(800, until=T0 + 100)
    # Made after the moment the usage describes: the next decision counts it.
    later = topup(1600, since=T0 + 500)
    force = OverrideRecord(subscriber="alice", kind="force", reason="x", since=T0)
    found = topups_on("1d", 1000, 1250, [day, whole, hour, expired, later, force], T0 + 100)
    assert [(t.override, t.cap_name, t.left, t.taken) for t in found] == [
        (day, "1d", 0, 100), (whole, "1d", 50, 150), (later, "1d", 1600, 0)]  # fmt: skip
    # A ledger with no commit yet: no moment to judge expiry by, and nothing used.
    unjudged = topups_on("1d", 1000, 0, [day, expired], None)
    assert [(t.override, t.left) for t in unjudged] == [(expired, 800), (day, 100)]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


@pytest.fixture
def recorded(ledger_at: Location, tmp_path: Path) -> Recorded:
    """The same recording on each store (`data` itself for TinyDB; fixtures.copy_ledger)."""
    return recorded_at(ledger_at, tmp_path)


def with_overrides(data: Path | Recorded, *added: OverrideRecord) -> Reader:
    if isinstance(data, Path):
        data = Recorded(data / "nmsquota.toml", data / "ledger")
    with Ledger.open_writer(data.ledger) as ledger, ledger.batch():
        ledger.records.set_overrides([*ledger.records.overrides(), *added])
    return Reader.open(data.ledger, load_config(data.config))


def test_the_read_api_gives_each_topup_in_force_with_what_is_left_of_it(
    recorded: Recorded,
) -> None:
    # alice: 2 950 000 bytes in her day against a cap of 1 000 000.
    kept = topup(1_000_000)
    lasting = topup(1_500_000, until=AS_OF + 3600)
    gone = topup(5_000_000, until=AS_OF - 1)
    # dave: 2 500 000 bytes in his hour (cap 1 000 000) and in his day (cap 3 000 000).
    both = topup(2_000_000, subscriber="dave")
    snap = with_overrides(recorded, kept, lasting, gone, both).snapshot()
    alice, dave = snap.subscriber("alice"), snap.subscriber("dave")
    assert alice is not None and dave is not None
    assert [(t.id, t.amount, t.until, t.left) for t in alice.topups] == [
        (lasting.id, 1_500_000, AS_OF + 3600, 0),
        (kept.id, 1_000_000, None, 550_000),
    ]
    assert [(t.cap_name, t.left) for t in dave.topups] == [("1h", 500_000), ("1d", 2_000_000)]
    assert [len(cap.topups) for cap in dave.caps] == [1, 1]


def test_a_topup_for_one_cap_of_a_plan_of_several_is_on_that_cap_only(
    recorded: Recorded,
) -> None:
    # The fixture's own: carol's 1 000 000 on her day's cap, where she used 1 200 000 of 3 MB.
    snap = Reader.open(recorded.ledger, load_config(recorded.config)).snapshot()
    carol = snap.subscriber("carol")
    assert carol is not None
    hour, day = carol.caps
    assert hour.topups == ()
    assert [(t.cap_name, t.amount, t.until, t.left) for t in day.topups] == [
        ("1d", 1_000_000, None, 1_000_000)]  # fmt: skip


def nmsquota(data: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    config, ledger = data / "nmsquota.toml", data / "ledger"
    assert main(["-c", str(config), *argv, "--ledger", str(ledger)],
                clock=ManualClock(AS_OF + 60)) in (0, 1)  # fmt: skip
    return capsys.readouterr().out


def test_usage_and_status_show_each_topup_what_is_left_of_it_and_its_expiry(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept, lasting = topup(1_000_000), topup(1_500_000, until=AS_OF + 3600)
    with_overrides(data, kept, lasting)
    usage = nmsquota(data, capsys, "usage", "alice").split("\n\n")[1]
    assert usage.splitlines() == [
        "SUBSCRIBER  CAP  TOP-UP      LEFT  EXPIRES           ID",
        f"alice       1d   1.5 MB       0 B  2027-01-15 11:00  {lasting.id}",
        f"alice       1d   1.0 MB  550.0 KB  until removed     {kept.id}",
    ]
    status = nmsquota(data, capsys, "status")
    assert (
        "override: topup alice: bought\n  top-up on cap 1d: 1.0 MB, 550.0 KB left, until removed\n"
    ) in status
    assert ("override: topup alice until 2027-01-15 11:00: bought\n"
            "  top-up on cap 1d: 1.5 MB, 0 B left, 2027-01-15 11:00\n") in status  # fmt: skip


def test_the_json_outputs_give_each_topup_with_what_is_left_of_it(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = topup(2_000_000, subscriber="dave", until=AS_OF + 600)
    with_overrides(data, both)
    expected = [{"id": both.id, "cap": cap, "amount": 2_000_000, "left": left,
                 "until": AS_OF + 600, "reason": "bought"}
                for cap, left in (("1h", 500_000), ("1d", 2_000_000))]  # fmt: skip
    usage = json.loads(nmsquota(data, capsys, "usage", "dave", "--json"))
    assert usage["subscribers"][0]["topups"] == expected
    status = json.loads(nmsquota(data, capsys, "status", "--json"))
    dave = [{"subscriber": "dave", **entry} for entry in expected]
    assert [t for t in status["topups"] if t["subscriber"] == "dave"] == dave
    # Expired by the time status runs: shown no more.
    after = main(["-c", str(data / "nmsquota.toml"), "status", "--json", "--ledger",
                  str(data / "ledger")], clock=ManualClock(AS_OF + 601))  # fmt: skip
    assert after in (0, 1)
    assert [t["subscriber"] for t in json.loads(capsys.readouterr().out)["topups"]] == ["carol"]
