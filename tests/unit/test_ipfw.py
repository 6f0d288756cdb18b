"""The ipfw driver, against a stand-in for FreeBSD's ipfw that keeps rules, pipes and a
table and prints them as ipfw does (there is no FreeBSD here): the exact commands issued."""

from __future__ import annotations

import re
import subprocess

import pytest

from nmsquota.enforcement.driver import DriverError, Limit, make_driver
from nmsquota.enforcement.reconcile import Enforcer


class FakeIpfw:
    def __init__(self) -> None:
        self.rules: dict[int, str] = {65535: "allow ip from any to any"}
        self.pipes: dict[int, str] = {}
        self.table: dict[str, int] = {}
        self.argv: list[list[str]] = []
        self.batches: list[list[str]] = []

    def __call__(self, argv, input=None, **_):  # type: ignore[no-untyped-def]
        self.argv.append(argv)
        assert argv[:3] == ["ssh", "router", "ipfw"]
        args = argv[3:]
        out, code = "", 0
        if args == ["pipe", "show"]:
            out = "".join(f"{n:05d}: {bw}    0 ms burst 0\nq{n + 131072}  10 KB 0 flows\n"
                          for n, bw in sorted(self.pipes.items()))  # fmt: skip
        elif args[0] == "list":
            low, high = map(int, args[1].split("-"))
            out = "".join(f"{n:05d} {r}\n" for n, r in sorted(self.rules.items())
                          if low <= n <= high)  # fmt: skip
        elif args[0] == "table" and args[2] == "list":
            out = "--- table(10), set(0) ---\n" + "".join(
                f"{a}{'' if '/' in a else '/32'} {p}\n" for a, p in sorted(self.table.items())
            )
        elif args == ["-q", "/dev/stdin"]:
            lines = input.splitlines()
            self.batches.append(lines)
            for line in lines:
                if not self._do(line.split()):
                    return subprocess.CompletedProcess(argv, 65, "", f"ipfw: bad line {line}")
        return subprocess.CompletedProcess(argv, code, out, "")

    def _do(self, words: list[str]) -> bool:
        if words[0] == "pipe" and words[2] == "config":
            number, unit = re.match(r"(\d+)(K?bit/s)", words[4]).groups()  # type: ignore[union-attr]
            self.pipes[int(words[1])] = f"{float(number):.3f} {unit}"
        elif words[0] == "pipe" and words[2] == "delete":
            self.pipes.pop(int(words[1]))
        elif words[0] == "add":
            if "10.0.0.66" in words:
                return False
            self.rules[int(words[1])] = " ".join(words[2:])
        elif words[0] == "delete":
            for number in words[1:]:
                del self.rules[int(number)]
        elif words[0] == "table" and words[2] == "add":
            self.table[words[3]] = int(words[4])
        elif words[0] == "table" and words[2] == "delete":
            del self.table[words[3]]
        elif words[0] == "table" and words[2] == "flush":
            self.table.clear()
        return True


def ipfw(**options: object):
    fake = FakeIpfw()
    driver = make_driver("router", "ipfw", {"prefix": ["ssh", "router"],
                                            "external_interface": "em0", **options})  # fmt: skip
    driver.run.runner = fake
    return driver, fake


ALICE = Limit("alice", ("10.0.0.7",))
BOB = Limit("bob", ("10.0.0.8", "2001:db8::8"))


def test_the_papers_layout_is_a_pipe_and_a_rule_per_host() -> None:
    driver, fake = ipfw()
    driver.add([ALICE, BOB])
    assert fake.batches == [[
        "pipe 1000 config bw 3Kbit/s queue 10KBytes",
        "add 1000 pipe 1000 ip from any to 10.0.0.7 in recv em0",
        "pipe 1001 config bw 3Kbit/s queue 10KBytes",
        "add 1001 pipe 1001 ip from any to 10.0.0.8 in recv em0",
        "pipe 1002 config bw 3Kbit/s queue 10KBytes",
        "add 1002 pipe 1002 ip6 from any to 2001:db8::8 in recv em0",
    ]]  # fmt: skip
    assert {lim.addresses[0]: lim.rate_bps for lim in driver.installed()} == {
        "10.0.0.7": 3_000, "10.0.0.8": 3_000, "2001:db8::8": 3_000}  # fmt: skip
    driver.add([ALICE])  # already limited: no commands at all
    assert len(fake.batches) == 1
    driver.add([Limit("alice", ("10.0.0.7",), rate_bps=64_000)])
    assert fake.batches[-1] == ["pipe 1000 config bw 64Kbit/s queue 10KBytes"]  # in place
    driver.remove([BOB, Limit("carol", ("10.9.9.9",))])
    assert fake.batches[-1] == ["delete 1001", "pipe 1001 delete", "delete 1002",
                                "pipe 1002 delete"]  # fmt: skip
    driver.clear()
    assert fake.batches[-1] == ["delete 1000", "pipe 1000 delete"]
    assert fake.rules == {65535: "allow ip from any to any"}  # the firewall's rule stays


def test_the_table_layout_is_one_rule_and_a_table_entry_per_host() -> None:
    driver, fake = ipfw(layout="table")
    driver.add([ALICE, BOB])
    assert fake.batches == [[
        "add 1000 pipe tablearg ip from any to 'table(10)' in recv em0",
        "pipe 1000 config bw 3Kbit/s queue 10KBytes mask dst-ip 0xffffffff dst-ip6 /128",
        "table 10 add 10.0.0.7 1000",
        "table 10 add 10.0.0.8 1000",
        "table 10 add 2001:db8::8 1000",
    ]]  # fmt: skip
    driver.add([Limit("dave", ("10.0.0.9",))])
    assert fake.batches[-1] == ["table 10 add 10.0.0.9 1000"]  # one entry, nothing else
    driver.clear()
    assert fake.batches[-1] == ["delete 1000", "pipe 1000 delete", "table 10 flush"]


def test_shared_mode_sends_every_limited_host_through_one_pipe() -> None:
    driver, fake = ipfw(mode="shared")
    driver.add([ALICE, Limit("bob", ("10.0.0.8",))])
    assert fake.batches == [[
        "pipe 1000 config bw 3Kbit/s queue 10KBytes",
        "add 1000 pipe 1000 ip from any to 10.0.0.7 in recv em0",
        "add 1001 pipe 1000 ip from any to 10.0.0.8 in recv em0",
    ]]  # fmt: skip
    table, table_fake = ipfw(layout="table", mode="shared")
    table.add([ALICE])
    assert table_fake.batches[0][1] == "pipe 1000 config bw 3Kbit/s queue 10KBytes"  # no mask


def test_a_refused_host_costs_only_its_subscriber_and_drift_heals() -> None:
    driver, fake = ipfw()
    with pytest.raises(DriverError, match=r"driver 'router': 1 of 2 not done \(mallory: "):
        driver.add([ALICE, Limit("mallory", ("10.0.0.66",))])
    assert [lim.addresses for lim in driver.installed()] == [("10.0.0.7",)]
    enforcer = Enforcer(driver)
    enforcer.cycle([ALICE])
    del fake.rules[1000]  # deleted by hand on the router
    assert enforcer.cycle([ALICE]).drift == ["limit on alice [10.0.0.7] was missing: reinstalled"]


def test_a_rate_change_moves_the_host_without_a_moment_unlimited() -> None:
    table, fake = ipfw(layout="table")
    table.add([ALICE])
    table.add([Limit("alice", ("10.0.0.7",), rate_bps=64_000)])
    # An update of the entry in place (-q), not delete then add.
    assert fake.batches[-1] == [
        "pipe 1001 config bw 64Kbit/s queue 10KBytes mask dst-ip 0xffffffff dst-ip6 /128",
        "table 10 add 10.0.0.7 1001",
    ]  # fmt: skip
    assert fake.table == {"10.0.0.7": 1001}

    shared, fake = ipfw(mode="shared")
    shared.add([ALICE])
    shared.add([Limit("alice", ("10.0.0.7",), rate_bps=64_000)])
    # The new rule goes in before the old one comes out.
    assert fake.batches[-1] == [
        "pipe 1001 config bw 64Kbit/s queue 10KBytes",
        "add 1001 pipe 1001 ip from any to 10.0.0.7 in recv em0",
        "delete 1000",
    ]  # fmt: skip
    assert {lim.rate_bps for lim in shared.installed()} == {64_000}


def test_a_rate_change_with_no_rule_number_to_spare_reuses_the_hosts_own() -> None:
    driver, fake = ipfw(mode="shared", rules=[1000, 1001])
    driver.add([ALICE, Limit("bob", ("10.0.0.8",))])
    driver.add([Limit("alice", ("10.0.0.7",), rate_bps=64_000)])
    assert fake.batches[-1] == [
        "pipe 1001 config bw 64Kbit/s queue 10KBytes",
        "delete 1000",
        "add 1000 pipe 1001 ip from any to 10.0.0.7 in recv em0",
    ]  # fmt: skip
    assert {lim.addresses[0]: lim.rate_bps for lim in driver.installed()} == {
        "10.0.0.7": 64_000, "10.0.0.8": 3_000}  # fmt: skip


def test_a_deleted_table_rule_is_found_by_the_next_cycle_and_put_back() -> None:
    driver, fake = ipfw(layout="table")
    enforcer = Enforcer(driver)
    enforcer.cycle([ALICE], now=1)
    del fake.rules[1000]  # the table's entries stay, and nothing sends them to a pipe
    assert [lim.addresses for lim in driver.installed()] == [("10.0.0.7",)]
    outcome = enforcer.cycle([ALICE], now=2)
    assert outcome.drift == ["the rule sending table(10) to its pipes is missing: rules "
                             "reinstalled, limits re-applied"]  # fmt: skip
    assert not outcome.errors and "table(10)" in fake.rules[1000]
    assert driver.check() == "1 hosts limited"


def test_a_deleted_pipe_is_found_by_the_next_cycle_and_configured_again() -> None:
    driver, fake = ipfw()
    enforcer = Enforcer(driver)
    enforcer.cycle([ALICE], now=1)
    del fake.pipes[1000]  # rule 1000 still sends alice's traffic to it
    with pytest.raises(DriverError, match="pipes gone that hosts are sent to: 1000"):
        driver.check()
    outcome = enforcer.cycle([ALICE], now=2)
    assert outcome.drift == ["pipes gone that hosts are sent to: 1000: rules reinstalled, "
                             "limits re-applied"]  # fmt: skip
    assert fake.pipes[1000] == "3.000 Kbit/s" and not outcome.errors
