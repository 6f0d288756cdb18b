"""`[notify] traps`: which events become which of NMSQUOTA-MIB's notifications, with which
objects, and a receiver that is not HOST:PORT refused at load with the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nmsquota.config import ConfigError, load_config
from nmsquota.daemon.traps import kind_of
from nmsquota.nms.mib import LIMIT_APPLIED, LIMIT_LIFTED, MAX_NAME, SUBSCRIBER_ENTRY, Value
from nmsquota.nms.mib import limit_notification as notification
from nmsquota.verdict import State

ALICE = (5, *b"alice")


@pytest.mark.parametrize(("event", "applied"), [
    ("limited", True), ("step 80%", True), ("step 80% of 1d", True), ("released", False),
    ("warning 80%", None), ("limit not effective", None),
])  # fmt: skip
def test_limits_applied_changed_and_lifted_are_notified_and_nothing_else(
    event: str, applied: bool | None
) -> None:
    assert kind_of(event) is applied


def test_a_limit_applied_carries_the_objects_its_notification_type_names_in_order() -> None:
    found = notification("alice", applied=True, state=State.STEPPED, percent=85.0, since=1000,
                         rate_bps=4_000_000, reason="over cap 1d")  # fmt: skip
    assert found == (LIMIT_APPLIED, [
        ((*SUBSCRIBER_ENTRY, 3, *ALICE), Value("integer", 4)),
        ((*SUBSCRIBER_ENTRY, 9, *ALICE), Value("gauge", 4_000_000)),
        ((*SUBSCRIBER_ENTRY, 8, *ALICE), Value("gauge", 1000)),
        ((*SUBSCRIBER_ENTRY, 11, *ALICE), Value("string", "over cap 1d")),
    ])  # fmt: skip


def test_a_limit_lifted_carries_the_state_and_the_percent_in_tenths() -> None:
    found = notification("alice", applied=False, state=State.OK, percent=42.37, since=None,
                         rate_bps=0, reason="")  # fmt: skip
    assert found == (LIMIT_LIFTED, [
        ((*SUBSCRIBER_ENTRY, 3, *ALICE), Value("integer", 1)),
        ((*SUBSCRIBER_ENTRY, 7, *ALICE), Value("gauge", 423)),
    ])  # fmt: skip


def test_a_name_too_long_for_an_index_has_no_notification() -> None:
    assert notification("x" * (MAX_NAME + 1), applied=False, state=State.OK, percent=0.0,
                        since=None, rate_bps=0, reason="") is None  # fmt: skip


@pytest.mark.parametrize("receiver", ["nms.example", "192.0.2.1:", "192.0.2.1:70000"])
def test_a_receiver_that_is_not_host_and_port_is_refused_naming_file_and_key(
    tmp_path: Path, receiver: str
) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text(f'[notify]\ntraps = ["{receiver}"]\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    (line,) = str(raised.value).splitlines()
    assert line.startswith(f"{path}: notify.traps: expected HOST:PORT")
    assert repr(receiver) in line


def test_receivers_and_a_community_from_the_secrets_file_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('secrets_file = "secrets.toml"\n'
                    '[notify]\ntraps = ["192.0.2.1:162", "[2001:db8::1]:1162"]\n'
                    'trap_community = { secret = "traps" }\n')  # fmt: skip
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('traps = "watchers"\n')
    secrets.chmod(0o600)
    config = load_config(path)
    assert config.settings.notify.traps == ["192.0.2.1:162", "[2001:db8::1]:1162"]
    assert config.secret(config.settings.notify.trap_community) == "watchers"


def test_a_community_named_but_missing_from_the_secrets_file_is_refused_at_load(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nmsquota.toml"
    path.write_text('secrets_file = "secrets.toml"\n[notify]\ntraps = ["192.0.2.1:162"]\n'
                    'trap_community = { secret = "traps" }\n')  # fmt: skip
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('other = "x"\n')
    secrets.chmod(0o600)
    with pytest.raises(ConfigError, match=r"notify.trap_community: no secret named 'traps'"):
        load_config(path)


def test_the_daemon_stops_after_the_traps_of_its_last_cycle_are_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from nmsquota.commands import run
    from nmsquota.daemon import traps as sending
    from nmsquota.policy import Decision

    path = tmp_path / "nmsquota.toml"
    path.write_text('[notify]\ntraps = ["127.0.0.1:9"]\n')
    sent: list[tuple[int, ...]] = []

    async def slow_send(*args: object) -> list[str]:
        await asyncio.sleep(0.2)  # longer than the rest of the stop
        sent.append(args[4])  # type: ignore[arg-type]
        return []

    monkeypatch.setattr(sending, "send_trap", slow_send)

    class LastCycle:
        """What _loop needs of a daemon: a run whose last change is a limit."""

        traps = sending.Traps(load_config(path), started=0.0)

        async def run(self, *_args: object) -> None:
            decision = Decision("alice", used=2, cap=1, state=State.LIMITED, why=None, since=1)
            self.traps.tell(lambda: None, 1.0, "alice", "limited", decision)

    asyncio.run(run._loop(LastCycle(), 1, lambda report: None))
    assert sent == [LIMIT_APPLIED]
