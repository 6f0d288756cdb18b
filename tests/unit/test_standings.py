"""The read API: snapshots built from a ledger reader and the configuration, in any process,
without the daemon, SNMP, the drivers or Textual; `status` and `usage` print from them
exactly what they printed before it, on a data directory written before it.

Tests taking `recorded` run on each store (the recording copied into the database through
the ledger API for PostgreSQL); those taking `data` run `nmsquota status`/`usage` on its
directory, edit state.json or hold a usage count PostgreSQL's bigint refuses, and stay on
TinyDB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO
from fixtures.copy_ledger import Recorded, recorded_at

from nmsquota.cli import main
from nmsquota.clock import ManualClock
from nmsquota.config import load_config
from nmsquota.ledger import Ledger
from nmsquota.ledger.base import Location
from nmsquota.ledger.copy import copy_ledger
from nmsquota.ledger.records import (
    CapStanding,
    DeviceRecord,
    DriftRecord,
    EventKind,
    EventRecord,
    OverrideRecord,
    SessionRecord,
)
from nmsquota.plans import rules_of
from nmsquota.standings import Reader, Reason, ReasonKind, Sample, State

FIXTURE = REPO / "tests" / "fixtures" / "ledger-v0"
T0 = 1_800_000_000
NOW = T0 + 12 * 300 + 60
"""When the fixture's expected outputs were taken: a minute after its last cycle."""
OUTPUTS = {
    "status.txt": ["status"],
    "status.json": ["status", "--json"],
    "usage.txt": ["usage"],
    "usage-bytes.txt": ["usage", "--bytes", "--sort", "in"],
    "usage.json": ["usage", "--json"],
    "usage-verbose.txt": ["usage", "-v", "alice", "carol"],
    "usage-window.json": ["usage", "--window", "2h", "--json"],
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the data directory written before the read API (ledger/, nmsquota.toml). The
    configuration is copied, not written by fixtures.config_file: it is part of the recording
    (make.py) the expected outputs were taken from."""
    shutil.copytree(FIXTURE / "ledger", tmp_path / "ledger")
    shutil.copy(FIXTURE / "nmsquota.toml", tmp_path)
    return tmp_path


@pytest.fixture
def recorded(ledger_at: Location, tmp_path: Path) -> Recorded:
    """The same recording on each store: for TinyDB, `data` itself; for PostgreSQL, its
    ledger copied into the test's database through the ledger API (fixtures.copy_ledger)."""
    return recorded_at(ledger_at, tmp_path)


def reader_of(data: Path | Recorded) -> Reader:
    if isinstance(data, Path):
        data = Recorded(data / "nmsquota.toml", data / "ledger")
    return Reader.open(data.ledger, load_config(data.config))


def printed(data: Path | Recorded, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    if isinstance(data, Path):
        data = Recorded(data / "nmsquota.toml", data / "ledger")
    main(["-c", str(data.config), *argv, "--ledger", str(data.ledger)], clock=ManualClock(NOW))
    return capsys.readouterr().out


def with_topup(name: str, recorded: str, data: Path | Recorded) -> str:
    """A recorded output with what `status` and `usage` show since of carol's top-up (1 MB
    on her day's cap, until removed, none of it used: 1.2 MB of 3 MB), which they did not
    show when the outputs were recorded."""
    (topup,) = [o for o in reader_of(data).snapshot().overrides if o.kind == "topup"]
    found = {"id": topup.id, "cap": "1d", "amount": 1_000_000, "left": 1_000_000,
             "until": None, "reason": "bought more"}  # fmt: skip
    if name == "status.txt":
        line = "override: topup carol: bought more\n"
        return recorded.replace(line, line + "  top-up on cap 1d: 1.0 MB, 1.0 MB left, "
                                "until removed\n")  # fmt: skip
    if name == "status.json":
        topups = [{"subscriber": "carol", **found}]
        return json.dumps({**json.loads(recorded), "topups": topups}, indent=2) + "\n"
    if name.endswith(".json"):
        document = json.loads(recorded)
        for entry in document["subscribers"]:
            if entry["name"] == "carol":
                entry["topups"] = [found]
        return json.dumps(document, indent=2) + "\n"
    if name == "usage-bytes.txt":
        return recorded + (
            "\nSUBSCRIBER  CAP   TOP-UP     LEFT  EXPIRES        ID\n"
            f"carol       1d   1000000  1000000  until removed  {topup.id}\n"
        )
    return recorded + (
        "\nSUBSCRIBER  CAP  TOP-UP    LEFT  EXPIRES        ID\n"
        f"carol       1d   1.0 MB  1.0 MB  until removed  {topup.id}\n"
    )


@pytest.mark.parametrize("name", OUTPUTS)
def test_status_and_usage_print_what_they_printed_before_the_read_api(
    recorded: Recorded, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # And carol's top-up, which they did not show then.
    expected = with_topup(name, (FIXTURE / "expected" / name).read_text(), recorded)
    assert printed(recorded, OUTPUTS[name], capsys) == expected
    # The same once a writer has migrated the records (on disk, for TinyDB).
    with Ledger.open_writer(recorded.ledger):
        pass
    assert printed(recorded, OUTPUTS[name], capsys) == expected


def test_a_copy_of_the_recording_reads_as_the_recording(
    ledger_at: Location, tmp_path: Path
) -> None:
    # What `recorded` takes for granted of `nmsquota ledger copy` on a database, checked on
    # each store (on TinyDB, a copy into a second directory).
    source = Path(shutil.copytree(FIXTURE / "ledger", tmp_path / "recording"))
    copy_ledger(source, ledger_at)
    config = load_config(FIXTURE / "nmsquota.toml")
    here = Reader.open(ledger_at, config).snapshot()
    there = Reader.open(source, config).snapshot()
    assert here.as_of == there.as_of == T0 + 3600
    assert here.subscribers == there.subscribers and here.cycle == there.cycle
    assert (here.overrides, here.devices, here.events) == (
        there.overrides, there.devices, there.events)  # fmt: skip
    as_recorded = Ledger.open_reader(source)
    with Ledger.open_reader(ledger_at) as copied:
        for tally in as_recorded.tallies():
            assert copied.totals(tally) == as_recorded.totals(tally)
            assert copied.edge(tally) == as_recorded.edge(tally)
        assert list(copied.samples()) == list(as_recorded.samples())
        assert copied.counter_state("bras") == as_recorded.counter_state("bras") != {}


def test_a_subscriber_shows_every_cap_the_limit_and_why_and_when_it_lifts(
    recorded: Recorded,
) -> None:
    snap = reader_of(recorded).snapshot()
    carol = snap.subscriber("carol")
    assert carol is not None and (carol.kept_in, carol.plan) == ("configuration", "fair")
    assert carol.state is State.LIMITED and carol.since == T0 + 1500
    assert carol.reason == Reason(ReasonKind.OVER, "1h", None, 1_200_000, 1_000_000)
    hour, day = carol.caps
    assert (hour.name, hour.tally.key, hour.used, hour.cap, round(hour.percent)) == (
        "1h", "1h", 1_200_000, 1_000_000, 120)  # fmt: skip
    assert (hour.rate_bps, hour.lifts_at, hour.direction) == (64_000, T0 + 4500, "download")
    # The day's cap: under it, its cap in force raised by the top-up.
    assert (day.limited, day.cap, day.lifts_at) == (False, 3_000_000, None)
    assert day.decided is not None and day.decided.cap == 4_000_000
    (topup,) = carol.overrides
    assert (topup.kind, topup.bytes, topup.cap, topup.reason, topup.until) == (
        "topup", 1_000_000, "1d", "bought more", None)  # fmt: skip
    assert carol.limit is not None and carol.limit.rate_bps == 64_000
    assert carol.addresses == ("10.60.1.3",) and not carol.online


def test_steps_forced_limits_exemptions_and_a_limit_that_does_not_bite(recorded: Recorded) -> None:
    snap = reader_of(recorded).snapshot()
    views = {view.name: view for view in snap.subscribers}
    assert (views["gina"].state, views["gina"].caps[0].step_at) == (State.STEPPED, 80.0)
    assert views["gina"].caps[0].lifts_at == T0 + 3000 + 86400  # the 500 KB leaves the day
    assert views["erin"].state is State.FORCED and views["erin"].limited
    assert views["bob"].state is State.EXEMPT and not views["bob"].limited
    assert views["alice"].not_effective and views["alice"].check is not None
    # Provisioned in the ledger: their plan counts as the daemon counts it.
    assert (views["frank"].kept_in, views["frank"].plan) == ("ledger", "home")
    assert views["frank"].caps[0].state is State.STEPPED
    expired = [o for o in views["frank"].overrides if not o.active(NOW)]
    assert [(o.kind, o.reason) for o in expired] == [("exempt", "short test")]
    assert [view.name for view in snap.limited] == ["alice", "carol", "erin", "frank", "gina"]


def force(data: Recorded, subscriber: str, until: int | None) -> None:
    """What the daemon keeps once `nmsquota limit SUBSCRIBER` forces a limit (for `until`):
    the override, and every cap of the subscriber's standing forced."""
    why = Reason(ReasonKind.FORCED, note="abuse ticket 18")
    config = load_config(data.config)
    plan = config.settings.subscribers[subscriber].plan
    rates = {rule.name: rule.rate_bps for rule in rules_of(config)[plan]}
    with Ledger.open_writer(data.ledger) as ledger, ledger.batch():
        records = ledger.records
        override = OverrideRecord(subscriber=subscriber, kind="force", reason=why.note,
                                  since=T0 + 3000, until=until)  # fmt: skip

        def forced(cap: CapStanding) -> CapStanding:
            return replace(cap, state=State.FORCED, reason=why, since=T0 + 3000, step=None,
                           step_at=None, rate=rates[cap.cap_name])  # fmt: skip

        standings = [
            replace(forced(s), caps=tuple(forced(cap) for cap in s.caps))
            if s.subscriber == subscriber else s
            for s in records.standings()
        ]  # fmt: skip
        records.set_standings(standings)
        records.set_overrides([*records.overrides(), override])


def test_a_forced_limit_lifts_when_the_force_expires_not_when_usage_falls(
    recorded: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    force(recorded, "alice", until=T0 + 10800)  # alice is over her cap: 295% of it
    force(recorded, "carol", until=T0 + 7200)
    snap = reader_of(recorded).snapshot()
    alice, carol = snap.subscriber("alice"), snap.subscriber("carol")
    assert alice is not None and carol is not None
    assert (alice.state, alice.caps[0].lifts_at) == (State.FORCED, T0 + 10800)
    assert [cap.lifts_at for cap in carol.caps] == [T0 + 7200, T0 + 7200]
    status = printed(recorded, ["status"], capsys)
    assert "  lifts 2027-01-15 12:00 when the force override expires\n" in status
    assert "cap 1d: 1.2 MB of 4.0 MB (30%), limited to 8kbit, lifts 2027-01-15 11:00" in status
    assert "if nothing more is downloaded" not in status.split("alice", 1)[1].split("carol")[0]
    usage = printed(recorded, ["usage", "alice"], capsys)
    assert usage.splitlines()[1].endswith("8kbit  2h") and "23h25m" not in usage


def test_a_forced_limit_without_an_expiry_has_no_lift_time(
    recorded: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    force(recorded, "alice", until=None)
    alice = reader_of(recorded).snapshot().subscriber("alice")
    assert alice is not None and alice.caps[0].limited and alice.caps[0].lifts_at is None
    status = printed(recorded, ["status"], capsys)
    assert "lifts" not in status.split("alice", 1)[1].split("carol")[0]
    assert printed(recorded, ["usage", "alice"], capsys).splitlines()[1].endswith("8kbit  -")


def test_a_monthly_cap_lifts_at_its_reset_unless_a_force_with_an_expiry_holds_it(
    recorded: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    config = recorded.config
    config.write_text(
        config.read_text().replace('window = "1d"\nwarn_at', 'period = "monthly"\nwarn_at')
    )
    force(recorded, "alice", until=T0 + 10800)
    snap = reader_of(recorded).snapshot()
    alice, gina = snap.subscriber("alice"), snap.subscriber("gina")
    assert alice is not None and gina is not None
    assert alice.caps[0].tally.period is not None and alice.caps[0].lifts_at == T0 + 10800
    assert gina.caps[0].limited and gina.caps[0].lifts_at is None  # at the reset
    status = printed(recorded, ["status", "--json"], capsys)
    lifts = {s["subscriber"]: s.get("lifts_at", "absent") for s in json.loads(status)["standings"]}
    assert (lifts["alice"], lifts["gina"]) == (T0 + 10800, "absent")


def test_a_snapshot_reads_the_usage_records_once_however_many_are_limited(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[tuple[str, ...]] = []
    reader = reader_of(recorded)
    store = type(reader.ledger)  # whichever store keeps it
    samples = store.samples

    def counted(ledger: Ledger, subscribers: Iterable[str] | None = None, **window: int):  # type: ignore[no-untyped-def]
        scans.append(tuple(sorted(subscribers or ())))
        return samples(ledger, subscribers, **window)

    monkeypatch.setattr(store, "samples", counted)
    snap = reader.snapshot()
    assert len([view for view in snap.subscribers if view.limited]) == 5
    # erin's limit is forced (no samples needed), the others' lift with their usage.
    assert scans == [("alice", "carol", "frank", "gina")]


def test_a_count_beyond_64_bits_still_gives_a_lift_time(data: Path) -> None:
    with Ledger.open_writer(data / "ledger") as ledger:
        ledger.commit(T0 + 3900, [Sample("gina", T0 + 3900, 2**70, 0)])
        with ledger.batch():  # and the daemon's decision on it
            standings = [replace(s, used=s.used + 2**70) if s.subscriber == "gina" else s
                         for s in ledger.records.standings()]  # fmt: skip
            ledger.records.set_standings(standings)
    gina = reader_of(data).snapshot().subscriber("gina")
    assert gina is not None and gina.caps[0].lifts_at == T0 + 3900 + 86400


def test_someone_seen_online_without_a_plan_of_their_own_is_on_the_default_plan(
    recorded: Recorded,
) -> None:
    config = recorded.config
    config.write_text('default_plan = "fair"\n' + config.read_text())
    hank = SessionRecord(subscriber="hank", online=False, access_server="bras",
                         interface="<pppoe-hank>", seen=T0 + 3000)  # fmt: skip
    alice = SessionRecord(subscriber="alice", online=True, access_server="bras",
                          interface="<pppoe-alice>", since=T0)  # fmt: skip
    with Ledger.open_writer(recorded.ledger) as ledger:
        ledger.records.set_sessions([alice, hank])
        # ivan is only in the usage records: never seen on the network, so no plan.
        ledger.commit(T0 + 3900, [Sample("hank", T0 + 3900, 700_000, 0),
                                  Sample("ivan", T0 + 3900, 5, 0)])  # fmt: skip
    snap = reader_of(recorded).snapshot()
    views = {name: snap.subscriber(name) for name in ("hank", "alice", "frank", "ivan")}
    assert {name: (v.kept_in, v.plan) for name, v in views.items() if v is not None} == {
        "hank": ("nowhere", "fair"),  # as the daemon limits him
        "alice": ("configuration", "home"),  # her own plan, online or not
        "frank": ("ledger", "home"),
        "ivan": ("nowhere", None),
    }
    hank_view = views["hank"]
    assert hank_view is not None
    assert [(cap.name, cap.used, round(cap.percent)) for cap in hank_view.caps] == [
        ("1h", 700_000, 70), ("1d", 700_000, 23)]  # fmt: skip


def test_the_cycle_drivers_and_access_servers(recorded: Recorded) -> None:
    snap = reader_of(recorded).snapshot()
    cycle = snap.cycle
    assert cycle is not None and cycle.number == 13 and cycle.age(NOW) == 60
    assert not cycle.stale(NOW) and cycle.stale(NOW + 900) and cycle.troubled
    log, shaper = cycle.drivers
    assert not log.errors and log.not_effective == ("alice",)
    assert "carol: queue table full" in shaper.errors[0]
    bras, old = snap.devices
    assert (bras.name, bras.answered) == ("bras", True)
    assert old.answered is False and old.error is not None and "No SNMP response" in old.error


def test_a_cycle_on_a_demos_simulated_clock_is_shown_as_such_and_never_stale(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    years_later = NOW + 25 * 365 * 86400
    config, ledger = str(data / "nmsquota.toml"), str(data / "ledger")
    main(["-c", config, "status", "--ledger", ledger], clock=ManualClock(years_later))
    assert ", STALE)" in capsys.readouterr().out  # a daemon's ledger, left alone
    with Ledger.open_writer(data / "ledger") as writer:
        health = writer.records.health()
        assert health is not None
        writer.records.set_health(replace(health, simulated=True))
    cycle = reader_of(data).snapshot().cycle
    assert cycle is not None and cycle.simulated and not cycle.stale(years_later)
    main(["-c", config, "status", "--ledger", ledger], clock=ManualClock(years_later))
    first = capsys.readouterr().out.splitlines()[0]
    assert "STALE" not in first and "ago" not in first
    assert first.startswith("last cycle 13 at ") and "on a simulated clock" in first
    main(["-c", config, "status", "--json", "--ledger", ledger], clock=ManualClock(years_later))
    shown = json.loads(capsys.readouterr().out)
    assert shown["stale"] is False and shown["cycle"]["simulated"] is True


def test_a_limit_that_does_not_bite_is_blamed_on_the_drivers_that_hold_it(
    recorded: Recorded,
) -> None:
    # The shaper holds neither carol (its queue table was full) nor alice (nothing to key
    # on, say): only the log driver holds her limit, which was measured not to bite.
    with Ledger.open_writer(recorded.ledger) as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None and health.not_effective == ("alice",)
        everyone = ("alice", "carol", "erin", "frank", "gina")
        installed = {"log": everyone, "shaper": ("erin", "frank", "gina")}
        drivers = {name: replace(outcome, installed=installed[name])
                   for name, outcome in health.drivers.items()}  # fmt: skip
        drivers["shaper"] = replace(drivers["shaper"], unenforceable=("alice",))
        ledger.records.set_health(replace(health, drivers=drivers))
    cycle = reader_of(recorded).snapshot().cycle
    assert cycle is not None
    assert {d.name: d.not_effective for d in cycle.drivers} == {"log": ("alice",), "shaper": ()}


def test_a_driver_whose_limit_does_not_bite_is_failing_not_ok(recorded: Recorded) -> None:
    with Ledger.open_writer(recorded.ledger) as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None and health.not_effective == ("alice",)
        # No errors of its own: only the measurement says its limit on alice does not bite.
        drivers = {"log": replace(health.drivers["log"], installed=("alice",), errors=())}
        ledger.records.set_health(replace(health, drivers=drivers, devices_failed={}))
    cycle = reader_of(recorded).snapshot().cycle
    assert cycle is not None
    (log,) = cycle.drivers
    assert (log.health, log.failing, log.ok) == ("failing", True, False)
    assert log.problems == ("limit not effective on alice",)
    assert cycle.troubled


def test_drift_kept_across_cycles_shows_as_drifting_with_its_count(recorded: Recorded) -> None:
    kept = DriftRecord(since=T0 + 3000, cycles=4, lines=("limit on bob [10.0.0.2] was missing: "
                                                         "reinstalled",))  # fmt: skip
    with Ledger.open_writer(recorded.ledger) as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None
        # This cycle found nothing new, but the drift is not put right yet (kept), and no
        # limit of the driver's is measured not to bite.
        log = replace(health.drivers["log"], installed=(), errors=(), drift=(), drifting=kept)
        ledger.records.set_health(replace(health, drivers={"log": log}, devices_failed={},
                                          not_effective=()))  # fmt: skip
    cycle = reader_of(recorded).snapshot().cycle
    assert cycle is not None
    (view,) = cycle.drivers
    assert (view.health, view.ok, view.failing) == ("drifting", False, False)
    assert view.drifting == kept and view.problems == kept.lines
    assert not cycle.troubled  # drift that is being put right is not a failure


def test_status_shows_a_failing_driver_and_kept_drift_with_since_and_count(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = DriftRecord(
        since=T0 + 3000,
        cycles=4,
        lines=("sets without their rule: capped4_8000: rules reinstalled, limits re-applied",),
    )
    with Ledger.open_writer(data / "ledger") as ledger, ledger.batch():
        health = ledger.records.health()
        assert health is not None
        drivers = {"log": replace(health.drivers["log"], installed=("alice",), errors=()),
                   "shaper": replace(health.drivers["shaper"], installed=(), errors=(),
                                     drifting=kept)}  # fmt: skip
        ledger.records.set_health(replace(health, drivers=drivers, devices_failed={}))
    config, ledger_dir = data / "nmsquota.toml", data / "ledger"
    argv = ["-c", str(config), "status", "--tz", "UTC", "--ledger", str(ledger_dir)]
    assert main(argv, clock=ManualClock(NOW)) == 1  # a limit that does not bite fails it
    out = capsys.readouterr().out
    assert "driver log: FAILING: limit not effective on alice\n" in out
    assert (
        "driver shaper: drift (4 cycles since 2027-01-15 08:50:00): sets without their "
        "rule: capped4_8000: rules reinstalled, limits re-applied\n"
    ) in out
    assert main([*argv, "--json"], clock=ManualClock(NOW)) == 1
    drivers = json.loads(capsys.readouterr().out)["cycle"]["drivers"]
    assert drivers["log"]["health"] == "failing" and drivers["log"]["not_effective"] == ["alice"]
    assert drivers["shaper"]["health"] == "drifting"
    assert drivers["shaper"]["drifting"] == {"since": T0 + 3000, "cycles": 4,
                                             "lines": list(kept.lines)}  # fmt: skip


def test_sessions_devices_and_events_the_daemon_keeps_are_in_the_snapshot(
    recorded: Recorded,
) -> None:
    session = SessionRecord(subscriber="alice", online=True, access_server="bras",
                            interface="<pppoe-alice>", addresses=("100.64.0.7",),
                            since=T0, seen=T0 + 3600)  # fmt: skip
    device = DeviceRecord(name="bras", host="127.0.0.1", snmp_version="2c", last_poll=T0 + 3600,
                          latency=0.02, counter_bits=64, interfaces=6)  # fmt: skip
    up = EventRecord(time=T0, kind=EventKind.SESSION_UP, text="alice up on <pppoe-alice>",
                     subscriber="alice")  # fmt: skip
    with Ledger.open_writer(recorded.ledger) as ledger, ledger.batch():
        ledger.records.set_sessions([session])
        ledger.records.set_devices([device])
        ledger.records.add_events([up, up])
    reader = reader_of(recorded)
    snap = reader.snapshot()
    alice = snap.subscriber("alice")
    assert alice is not None and alice.online and alice.session == session
    assert alice.addresses == ("10.60.1.2", "100.64.0.7")  # configured, then the session's
    assert snap.devices[0].record == device
    assert [event.seq for event in snap.events] == [1, 2]
    assert [event.seq for event in reader.events(since=1)] == [2]


def test_a_reader_sees_one_commit_until_it_refreshes(recorded: Recorded) -> None:
    reader = reader_of(recorded)
    before = reader.snapshot()
    with Ledger.open_writer(recorded.ledger) as ledger:
        ledger.commit(T0 + 3900)
    assert reader.snapshot().as_of == before.as_of == T0 + 3600
    reader.refresh()
    assert reader.snapshot().as_of == T0 + 3900


def test_status_refuses_a_record_it_cannot_read_in_one_line_changing_nothing(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = data / "ledger" / "state.json"
    stored = json.loads(state.read_text())
    stored["overrides"]["2"]["until"] = "tomorrow"
    state.write_text(json.dumps(stored))
    before = state.read_bytes()
    status = main(["-c", str(data / "nmsquota.toml"), "status", "--ledger", str(data / "ledger")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert f"ledger file {state} holds overrides records nmsquota cannot read" in err
    assert "record 2 (erin): until: Input should be a valid integer" in err
    assert state.read_bytes() == before


FORBIDDEN = ("nmsquota.daemon", "nmsquota.snmp", "nmsquota.enforcement", "nmsquota.limitd",
             "pysnmp", "textual", "plugins", "snmpdriver")  # fmt: skip
"""Never on a reader's import path; `snmpdriver` is the third-party driver below."""

SNMP_DRIVER = """\
import pysnmp.hlapi.v3arch.asyncio
from pydantic import BaseModel


class SnmpOptions(BaseModel):
    pass


class SnmpDriver:
    options_model = SnmpOptions
"""


def with_drivers(data: Path) -> Path:
    """`data` whose configuration names drivers: the limitd client (nmsquota.limitd's MAC
    with it) and a third party's that imports pysnmp, installed as a distribution in
    data/site (put it on PYTHONPATH)."""
    site = data / "site"
    (site / "nmsquota_snmpdriver-1.0.dist-info").mkdir(parents=True)
    (site / "nmsquota_snmpdriver-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: nmsquota-snmpdriver\nVersion: 1.0\n"
    )
    (site / "nmsquota_snmpdriver-1.0.dist-info" / "entry_points.txt").write_text(
        "[nmsquota.drivers]\nsnmpset = snmpdriver:SnmpDriver\n"
    )
    (site / "snmpdriver.py").write_text(SNMP_DRIVER)
    config = data / "nmsquota.toml"
    config.write_text(
        config.read_text()
        + '[drivers.remote]\ntype = "limit"\noptions = { host = "192.0.2.1", secret = "s" }\n'
        + '[drivers.switch]\ntype = "snmpset"\n'
    )
    return data


def forbidden_imports(code: str, data: Path = FIXTURE) -> list[str]:
    """The forbidden modules a fresh interpreter has imported after running `code` (LEDGER
    and CONFIG are `data`'s, by default the fixture's; data/site is on its path)."""
    script = (
        "import json, sys\nfrom pathlib import Path\n"
        f"LEDGER = Path({str(data / 'ledger')!r})\n"
        f"CONFIG = Path({str(data / 'nmsquota.toml')!r})\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in sys.modules"
        f" if m.split('.')[0] in {FORBIDDEN!r} or m.startswith({FORBIDDEN!r}))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(data / "site")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_read_api_imports_no_daemon_snmp_driver_or_textual() -> None:
    assert (
        forbidden_imports(
            "from nmsquota.config import load_config\nfrom nmsquota.standings import Reader\n"
            "Reader.open(LEDGER, load_config(CONFIG)).snapshot()"
        )
        == []
    )


STATUS_AND_USAGE = (
    "from nmsquota.cli import main\n"
    "done = [main(['-c', str(CONFIG), command, '--ledger', str(LEDGER)])\n"
    "        for command in ('status', 'usage')]\n"
    "assert done == [1, 0], done  # status: the fixture's last cycle is long past\n"
)


def test_status_and_usage_import_no_daemon_snmp_driver_or_textual() -> None:
    assert forbidden_imports(STATUS_AND_USAGE) == []


def test_status_and_usage_load_none_of_the_configured_drivers(data: Path) -> None:
    assert forbidden_imports(STATUS_AND_USAGE, with_drivers(data)) == []


def test_config_check_still_loads_and_checks_every_configured_driver(data: Path) -> None:
    check = "from nmsquota.cli import main\nmain(['-c', str(CONFIG), 'config', 'check'])"
    loaded = forbidden_imports(check, with_drivers(data))
    assert {"nmsquota.limitd.mac", "snmpdriver", "pysnmp"} <= set(loaded)


def test_an_access_server_shows_the_profile_it_is_polled_with(recorded: Recorded) -> None:
    config = recorded.config
    config.write_text(config.read_text().replace(
        "[access_servers.bras]\n", '[access_servers.bras]\nsource = "accel-ppp"\n'))  # fmt: skip
    bras, old = reader_of(recorded).snapshot().devices
    assert (bras.name, bras.source) == ("bras", "accel-ppp")
    assert (old.name, old.source) == ("old-bras", "if-mib")  # the default profile
    unconfigured = Reader.open(recorded.ledger, None).snapshot().devices
    assert [device.source for device in unconfigured] == [None, None]
