"""Reconciliation: wanted limits against installed ones, drift told from ordinary change."""

from __future__ import annotations

from collections.abc import Sequence

from nmsquota.enforcement.driver import Driver, DriverError, Limit, Options
from nmsquota.enforcement.reconcile import Enforcer, plan


class Memory(Driver):
    """A driver whose backend is a dict of address -> limit; can be told to fail."""

    type = "memory"

    def __init__(self) -> None:
        super().__init__("mem", Options())
        self.table: dict[str, Limit] = {}
        self.refuse: set[str] = set()
        self.calls: list[str] = []
        self.rules = True
        """Whether the rules that make its table bite are there (like an nft chain)."""
        self.rules_stay_gone = False

    def add(self, limits: Sequence[Limit]) -> None:
        self.calls.append("add " + ",".join(lim.subscriber for lim in limits))
        failed = {}
        for limit in limits:
            if limit.subscriber in self.refuse:
                failed[limit.subscriber] = "refused"
                continue
            for address in limit.addresses:
                self.table[address] = Limit(limit.subscriber, (address,), limit.rate_bps)
        if failed:
            raise DriverError(self.name, "some failed", failed)

    def remove(self, limits: Sequence[Limit]) -> None:
        self.calls.append("remove " + ",".join(lim.subscriber for lim in limits))
        for limit in limits:
            for address in limit.addresses:
                self.table.pop(address, None)

    def installed(self) -> list[Limit]:
        return sorted(self.table.values())

    def clear(self) -> None:
        self.table.clear()

    def faults(self) -> list[str]:
        return [] if self.rules else ["rules gone"]

    def repair(self, limits: Sequence[Limit]) -> None:
        self.calls.append("repair " + ",".join(lim.subscriber for lim in limits))
        self.rules = not self.rules_stay_gone
        self.add(limits)


ALICE = Limit("alice", ("10.0.0.1", "2001:db8::1"))
BOB = Limit("bob", ("10.0.0.2",))


def test_plan_adds_the_missing_removes_the_unwanted_and_moves_a_changed_rate() -> None:
    installed = [Limit("alice", ("10.0.0.1",)), Limit("carol", ("10.0.0.3",)),
                 Limit("bob", ("10.0.0.2",), rate_bps=64_000)]  # fmt: skip
    todo = plan([ALICE, BOB], installed, Memory().keys, believed=None)
    assert todo.add == [ALICE, BOB]  # alice's v6 address missing; bob at another rate
    assert todo.remove == [Limit("carol", ("10.0.0.3",))]
    assert todo.drift == ["limit on carol (10.0.0.3) found at start, not wanted: lifted"]


def test_a_limit_without_an_address_is_unenforceable_not_dropped_silently() -> None:
    todo = plan([Limit("dave")], [], Memory().keys)
    assert todo.unenforceable == [Limit("dave")] and not todo.add


def test_an_enforcer_heals_drift_and_says_so() -> None:
    driver = Memory()
    enforcer = Enforcer(driver)
    first = enforcer.cycle([ALICE, BOB])
    assert [lim.subscriber for lim in first.added] == ["alice", "bob"] and not first.drift
    assert enforcer.cycle([ALICE, BOB]).added == []  # nothing to do: no calls
    assert driver.calls == ["add alice,bob"]

    del driver.table["10.0.0.2"]  # somebody deleted bob's rule by hand
    driver.table["10.9.9.9"] = Limit("", ("10.9.9.9",))  # and added one of their own
    healed = enforcer.cycle([ALICE, BOB])
    assert healed.added == [BOB] and healed.removed == [Limit("", ("10.9.9.9",))]
    assert healed.drift == [
        "limit on bob [10.0.0.2] was missing: reinstalled",
        "limit on ? (10.9.9.9) not made by nmsquota: lifted",
    ]
    # Bob falls under the cap: lifting him is an ordinary change, not drift.
    lifted = enforcer.cycle([ALICE])
    assert lifted.removed == [Limit("bob", ("10.0.0.2",))] and not lifted.drift
    assert sorted(driver.table) == ["10.0.0.1", "2001:db8::1"]


def test_a_failing_subscriber_is_named_and_the_others_are_done() -> None:
    driver = Memory()
    driver.refuse = {"bob"}
    enforcer = Enforcer(driver)
    outcome = enforcer.cycle([ALICE, BOB])
    assert outcome.added == [ALICE]
    assert outcome.errors == ["driver 'mem': some failed (bob: refused)"]
    # Bob was never installed: his absence next cycle is a retry, not drift.
    again = enforcer.cycle([ALICE, BOB])
    assert again.added == [] and again.errors and not again.drift


def test_a_driver_that_crashes_costs_its_limits_not_the_cycle() -> None:
    class Broken(Memory):
        def add(self, limits: Sequence[Limit]) -> None:
            raise KeyError("a plugin's bug")

    enforcer = Enforcer(Broken())
    outcome = enforcer.cycle([ALICE])
    assert outcome.added == []
    assert outcome.errors == ["driver 'mem': unexpected KeyError: \"a plugin's bug\" (alice)"]


def test_rules_gone_while_the_limits_stay_listed_are_found_and_reinstalled() -> None:
    driver = Memory()
    enforcer = Enforcer(driver)
    enforcer.cycle([ALICE, BOB], now=100)
    driver.rules = False  # say, `nft flush chain`: the set elements are still listed
    outcome = enforcer.cycle([ALICE, BOB], now=200)
    assert driver.rules and driver.calls[-2:] == ["repair alice,bob", "add alice,bob"]
    assert outcome.drift == ["rules gone: rules reinstalled, limits re-applied"]
    assert not outcome.errors and outcome.added == []  # nothing the ledger compares was missing
    assert enforcer.cycle([ALICE, BOB], now=300).drift == []  # whole again


def test_rules_that_a_repair_does_not_bring_back_are_an_error() -> None:
    driver = Memory()
    driver.rules, driver.rules_stay_gone = False, True
    outcome = Enforcer(driver).cycle([ALICE], now=100)
    assert outcome.errors == ["driver 'mem': rules missing, repair failed: rules gone"]
    assert outcome.drift == ["rules gone: repair failed"]


def test_drift_is_kept_and_counted_until_a_cycle_finds_none() -> None:
    driver = Memory()
    enforcer = Enforcer(driver)
    assert enforcer.cycle([ALICE, BOB], now=100).drifting is None
    for now in (200, 300):  # another tool deletes bob's limit every cycle
        del driver.table["10.0.0.2"]
        outcome = enforcer.cycle([ALICE, BOB], now=now)
    assert outcome.drifting is not None
    assert (outcome.drifting.since, outcome.drifting.cycles) == (200, 2)
    assert outcome.drifting.lines == ("limit on bob [10.0.0.2] was missing: reinstalled",)
    assert enforcer.cycle([ALICE, BOB], now=400).drifting is None  # found whole: cleared


def test_drift_whose_repair_fails_is_kept_until_the_repair_takes() -> None:
    driver = Memory()
    enforcer = Enforcer(driver)
    enforcer.cycle([ALICE, BOB], now=100)
    del driver.table["10.0.0.2"]
    driver.refuse = {"bob"}  # and bob's limit cannot be put back
    enforcer.cycle([ALICE, BOB], now=200)
    # Not found again (bob's limit is no longer believed installed), but not repaired either.
    kept = enforcer.cycle([ALICE, BOB], now=300)
    assert kept.drift == [] and kept.errors and kept.drifting is not None
    assert (kept.drifting.since, kept.drifting.cycles) == (200, 2)
    driver.refuse = set()
    healed = enforcer.cycle([ALICE, BOB], now=400)
    assert healed.added == [BOB] and healed.drifting is None
