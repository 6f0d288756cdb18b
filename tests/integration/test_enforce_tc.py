"""The tc driver: HTB classes behind hashed u32 filters, with real TCP through a router."""

from __future__ import annotations

import subprocess

import pytest
from conftest import Namespaces, require
from routed import SUBSCRIBERS, Routed

from nmsquota.enforcement.driver import DriverError, Limit, make_driver
from nmsquota.enforcement.reconcile import Enforcer

FAST = 5_000_000


@pytest.fixture
def net(namespaces: Namespaces) -> Routed:
    require("tc")
    require("ethtool")
    return Routed(namespaces)


def tc(net: Routed, *args: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", net.router, "tc", *args],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def driver(net: Routed, **options):
    return make_driver("bras", "tc", {"namespace": net.router, "interfaces": ["sub1", "sub2"],
                                      **options})  # fmt: skip


def limit(name: str, sub: str, rate: int) -> Limit:
    return Limit(name, SUBSCRIBERS[sub], rate_bps=rate, queue_bytes=10_000)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [64_000, 3_000], ids=["64kbit", "paper-3kbit"])
def test_a_shaped_subscriber_gets_the_rate_and_the_other_is_unaffected(
    net: Routed, rate: int
) -> None:
    shaper = driver(net)
    shaper.add([limit("alice", "sub1", rate)])
    assert {(lim.addresses[0], lim.rate_bps) for lim in shaper.installed()} == {
        ("10.60.1.2", rate), ("fd60:1::2", rate),
    }  # fmt: skip
    goodput = net.download("sub1", 23, skip=3)
    assert 0.8 * rate / 8 <= goodput <= 1.2 * rate / 8, goodput
    assert net.download("sub2", 2) > FAST

    shaper.remove([limit("alice", "sub1", rate)])
    assert shaper.installed() == []
    assert "4e51:" not in tc(net, "class", "show", "dev", "sub1")  # the classes went too
    assert net.download("sub1", 2) > FAST


@pytest.mark.slow
def test_a_shared_class_holds_an_interface_s_shaped_subscribers_together(net: Routed) -> None:
    # Two subscribers behind the same router interface (HTB shapes per interface).
    net.spaces.run(net.subs["sub1"], "ip", "addr", "add", "10.60.1.3/24", "dev", "eth0")
    shaper = driver(net, mode="shared", interfaces=["sub1"])
    shaper.add([limit("alice", "sub1", 64_000), Limit("bob", ("10.60.1.3",), rate_bps=64_000)])
    classes = [line for line in tc(net, "class", "show", "dev", "sub1").splitlines() if line]
    assert len(classes) == 1
    rates = net.downloads_to(
        {"alice": ("sub1", "10.60.1.2"), "bob": ("sub1", "10.60.1.3")}, 23, skip=3
    )
    assert 0.8 * 8_000 <= sum(rates.values()) <= 1.2 * 8_000, rates


def filters(net: Routed, interface: str) -> dict[str, str]:
    """Filter handle -> flowid, for the hosts' filters on one interface."""
    listing = tc(net, "filter", "show", "dev", interface, "parent", "4e51:")
    return {line.split(" fh ")[1].split()[0]: line.split("flowid ")[1].split()[0]
            for line in listing.splitlines() if "flowid" in line}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["per-host", "shared"])
def test_a_rate_change_is_made_in_place_and_the_new_rate_holds(net: Routed, mode: str) -> None:
    # bob, behind the same interface, is limited at 256 kbit as alice moves off that rate.
    net.spaces.run(net.subs["sub1"], "ip", "addr", "add", "10.60.1.3/24", "dev", "eth0")
    shaper = driver(net, mode=mode, interfaces=["sub1"])
    enforcer = Enforcer(shaper)
    enforcer.cycle([limit("alice", "sub1", 256_000)])
    before = filters(net, "sub1")
    # A step down, as a graded cap's next step, with the step's own queue.
    slower = Limit("alice", SUBSCRIBERS["sub1"], rate_bps=64_000, queue_bytes=20_000)
    bob = Limit("bob", ("10.60.1.3",), rate_bps=256_000)
    outcome = enforcer.cycle([slower, bob])
    assert outcome.errors == [] and not outcome.removed
    assert sorted(lim.subscriber for lim in outcome.added) == ["alice", "bob"]
    after = filters(net, "sub1")
    # alice's filters are the same ones (same handles), changed in place, not deleted and
    # added again: what reaches the kernel is a class change or a filter replace.
    assert before.keys() <= after.keys() and len(after) == len(before) + 1
    if mode == "per-host":
        assert all(after[handle] == before[handle] for handle in before)  # the class changed
    else:
        assert all(after[handle] != before[handle] for handle in before)  # to the 64k class
    classes = tc(net, "class", "show", "dev", "sub1")
    rates = sorted(line.split(" rate ")[1].split()[0] for line in classes.splitlines() if line)
    # Per host, a class for each address; shared, one class a rate.
    assert rates == (
        ["256Kbit", "64Kbit", "64Kbit"] if mode == "per-host" else ["256Kbit", "64Kbit"]
    )
    leaves = tc(net, "qdisc", "show", "dev", "sub1")
    assert "limit 20000b" in leaves, leaves
    goodput = net.download("sub1", 12, skip=3)
    assert 0.8 * 8_000 <= goodput <= 1.2 * 8_000, goodput


def test_thousands_of_addresses_spread_over_the_hash_buckets(net: Routed) -> None:
    shaper = driver(net, interfaces=["sub1"])
    many = [Limit(f"u{n}", (f"10.70.{n // 250}.{n % 250 + 1}",)) for n in range(1_000)]
    shaper.add(many)
    assert len(shaper.installed()) == 1_000
    listing = tc(net, "filter", "show", "dev", "sub1", "parent", "4e51:")
    buckets = {line.split(" bkt ")[1].split()[0] for line in listing.splitlines()
               if "flowid" in line and "key ht 2 " in line}  # fmt: skip
    assert len(buckets) == 250  # one per last octet in use, four hosts each
    shaper.add(many)  # already there: nothing to do, no error
    shaper.remove(many[:500])
    assert len(shaper.installed()) == 500


def test_clear_removes_only_nmsquotas_qdisc_and_a_foreign_root_is_refused(net: Routed) -> None:
    tc(net, "qdisc", "add", "dev", "sub1", "ingress")
    tc(net, "qdisc", "add", "dev", "to-srv", "root", "handle", "1:", "htb")
    tc(net, "qdisc", "add", "dev", "sub2", "root", "handle", "7:", "tbf", "rate", "1mbit",
       "burst", "32kbit", "latency", "400ms")  # fmt: skip
    shaper = driver(net)
    with pytest.raises(DriverError, match=r"driver 'bras': sub2 has a root qdisc of its own"):
        shaper.add([limit("alice", "sub1", 64_000)])
    with pytest.raises(DriverError, match=r"sub2 \(tbf 7:\)"):
        shaper.check()

    only_sub1 = driver(net, interfaces=["sub1"])
    only_sub1.add([limit("alice", "sub1", 64_000)])
    only_sub1.clear()
    assert "htb 4e51:" not in tc(net, "qdisc", "show", "dev", "sub1")
    assert "ingress" in tc(net, "qdisc", "show", "dev", "sub1")
    assert "htb 1:" in tc(net, "qdisc", "show", "dev", "to-srv")
    assert "tbf 7:" in tc(net, "qdisc", "show", "dev", "sub2")


def test_a_deleted_hash_link_is_found_by_the_next_cycle_and_the_interface_rebuilt(
    net: Routed,
) -> None:
    shaper = driver(net)
    enforcer = Enforcer(shaper)
    enforcer.cycle([limit("alice", "sub1", 64_000)], now=1)
    # The filter that sends IPv4 packets to the host filters, deleted by hand: alice's
    # filters and classes are all still listed, and none of them sees a packet.
    tc(net, "filter", "del", "dev", "sub1", "parent", "4e51:", "prio", "1", "handle", "800::800",
       "u32")  # fmt: skip
    assert len(shaper.installed()) == 2
    assert shaper.faults() == ["sub1: the ip hash filters are missing"]
    outcome = enforcer.cycle([limit("alice", "sub1", 64_000)], now=2)
    assert not outcome.errors
    assert outcome.drift == ["sub1: the ip hash filters are missing: rules reinstalled, limits "
                             "re-applied"]  # fmt: skip
    assert "link 2:" in tc(net, "filter", "show", "dev", "sub1", "parent", "4e51:")
    assert shaper.faults() == [] and shaper.check() == "2 addresses limited on sub1, sub2"


@pytest.mark.slow
def test_after_its_ipv4_filters_are_deleted_a_cycle_makes_the_limit_bite_again(
    net: Routed,
) -> None:
    enforcer = Enforcer(driver(net))
    enforcer.cycle([limit("alice", "sub1", 64_000)], now=1)
    tc(net, "filter", "del", "dev", "sub1", "parent", "4e51:", "prio", "1")
    assert net.download("sub1", 2) > FAST  # nothing holds alice's IPv4 traffic now
    outcome = enforcer.cycle([limit("alice", "sub1", 64_000)], now=2)
    assert not outcome.errors
    assert outcome.drift == ["sub1: the ip hash filters are missing: rules reinstalled, limits "
                             "re-applied"]  # fmt: skip
    goodput = net.download("sub1", 12, skip=3)
    assert 0.8 * 8_000 <= goodput <= 1.2 * 8_000, goodput
