"""How many processes poll (issue 23, item 4): the `poll_workers` setting, "auto"'s switch
from one process to several once a cycle saturates a core (driven by Load figures), and
how devices are shared among the workers. No process is started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from nmsquota.attribution import InterfaceMap
from nmsquota.config import ConfigError, load_config
from nmsquota.snmp.capacity import Costs
from nmsquota.snmp.cycle import Device, Load, Pool
from nmsquota.snmp.walk import Agent
from nmsquota.snmp.workers import Spread, balance

BASE = 'interval = "5m"\n'


def settings(tmp_path: Path, line: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "nmsquota.toml"
    path.write_text(BASE + line + "\n")
    return load_config(path).settings


@pytest.mark.parametrize(("written", "read"), [("", 1), ("poll_workers = 2", 2),
                                               ('poll_workers = "auto"', "auto")])  # fmt: skip
def test_poll_workers_is_one_by_default_a_number_or_auto(tmp_path: Path, written, read) -> None:
    assert settings(tmp_path, written).poll_workers == read


@pytest.mark.parametrize("value", ["0", "65", '"2"', '"many"', "2.0", "true"])
def test_a_wrong_poll_workers_is_one_line_naming_file_and_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, f"poll_workers = {value}")
    (line,) = str(error.value).splitlines()
    assert line.startswith(f"{tmp_path / 'nmsquota.toml'}: poll_workers: expected \"auto\" or a "
                           "number of processes from 1 to 64, got ")  # fmt: skip


def saturating(queued: int = 3, skipped: tuple[str, ...] = ()) -> Load:
    """An in-process cycle that had its core to itself: 9.5 s of CPU in 10 s."""
    return Load(cpu=9.5, seconds=10.0, queued=queued, skipped=list(skipped))


def test_auto_polls_in_process_until_a_cycle_saturates_one_core() -> None:
    spread = Spread(workers="auto", cpus=2)
    assert spread.wanted() == 1
    spread.observe(Load(cpu=3.0, seconds=10.0))  # a third of a core
    assert spread.wanted() == 1
    spread.observe(saturating())
    assert spread.wanted() == 2


def test_auto_spreads_after_devices_were_skipped_for_load_too() -> None:
    spread = Spread(workers="auto", cpus=4)
    spread.observe(saturating(queued=0, skipped=("bras7",)))
    assert spread.wanted() == 4


def test_a_busy_core_with_nothing_waiting_is_not_saturated() -> None:
    """A poll that kept its core busy but started every walk at once had all it needed."""
    spread = Spread(workers="auto", cpus=2)
    spread.observe(saturating(queued=0))
    assert spread.wanted() == 1


def test_a_cycle_that_waited_on_agents_is_not_saturated() -> None:
    """Devices queued, but the CPU was not the limit (the agents were slow)."""
    spread = Spread(workers="auto", cpus=2)
    spread.observe(Load(cpu=2.0, seconds=10.0, queued=5))
    assert spread.wanted() == 1


def test_auto_stays_spread_while_the_poll_needs_more_than_half_a_core_then_returns() -> None:
    spread = Spread(workers="auto", cpus=2)
    spread.observe(saturating())
    spread.observe(Load(cpu=12.0, seconds=10.0))  # two workers, 1.2 cores together
    assert spread.wanted() == 2
    spread.observe(Load(cpu=3.0, seconds=10.0, queued=1))  # still waiting for slots
    assert spread.wanted() == 2
    spread.observe(Load(cpu=3.0, seconds=10.0))
    assert spread.wanted() == 1


def test_auto_on_one_core_polls_in_process() -> None:
    spread = Spread(workers="auto", cpus=1)
    spread.observe(saturating())
    assert spread.wanted() == 1


def test_a_number_of_workers_is_kept_whatever_the_load() -> None:
    spread = Spread(workers=3, cpus=2)
    spread.observe(Load(cpu=0.1, seconds=10.0))
    assert spread.wanted() == 3
    spread.configure(1)
    spread.observe(saturating())
    assert spread.wanted() == 1


def device(name: str) -> Device:
    return Device(name, Agent(name, "127.0.0.1", 161), InterfaceMap())


def sized(varbinds: dict[str, int]) -> Costs:
    costs = Costs(per_device=0.0, per_varbind=0.001)
    for name, size in varbinds.items():
        costs.sized(name, size, size)
    return costs


def test_devices_are_shared_by_their_learned_cost_each_share_in_the_devices_order() -> None:
    devices = [device(n) for n in ("a", "b", "c", "d", "e")]
    costs = sized({"a": 4000, "b": 1000, "c": 1000, "d": 1000, "e": 1000})
    shares = balance(devices, costs, 2, {})
    assert [[d.name for d in share] for share in shares] == [["a"], ["b", "c", "d", "e"]]


def test_shares_stay_put_while_balanced_and_devices_move_until_they_are_again() -> None:
    devices = [device(n) for n in ("a", "b", "c", "d")]
    assigned: dict[str, int] = {}
    costs = sized({"a": 1000, "b": 1000, "c": 1000, "d": 1000})
    first = balance(devices, costs, 2, assigned)
    before = dict(assigned)
    # One device grows a little: within the tolerance, nothing moves.
    costs.sized(first[0][0].name, 1200, 1200)
    balance(devices, costs, 2, assigned)
    assert assigned == before
    # Both devices of one share grow threefold (6 s against 2 s): devices move until the
    # shares are even again, each keeping one of its own.
    for d in first[0]:
        costs.sized(d.name, 3000, 3000)
    shares = balance(devices, costs, 2, assigned)
    assert [sum(costs.cost(d.name) for d in share) for share in shares] == [4.0, 4.0]
    for slot in (0, 1):
        assert any(assigned[d.name] == slot for d in first[slot])


def test_a_device_gone_from_the_configuration_leaves_its_share() -> None:
    assigned = {"gone": 0, "a": 1}
    shares = balance([device("a"), device("b")], sized({"a": 1, "b": 1}), 2, assigned)
    assert "gone" not in assigned and sorted(d.name for s in shares for d in s) == ["a", "b"]


def test_a_spread_cycle_s_capacity_is_what_each_process_polls_at_its_pace_summed() -> None:
    pool = Pool(costs=sized({"a": 1000}))  # 1 s of CPU a device
    spread = Spread(workers=2)
    assert spread.fits(pool, 10.0) == 10  # in-process: one core's worth
    spread.spread_paces = [1.0, 0.5]  # the second worker got half a core
    assert spread.fits(pool, 10.0) == 15
