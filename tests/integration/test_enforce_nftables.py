"""The nftables driver with real rules in a router namespace and real TCP through it.

Goodput is measured after the policer's burst (skip) over 20 s: at these rates a shorter
run measures the burst, not the rate (FIELD-NOTES).
"""

from __future__ import annotations

import pytest
from conftest import Namespaces, require
from fixtures.config_file import WriteConfig
from routed import SUBSCRIBERS, Routed

from nmsquota.enforcement.driver import Limit, make_driver
from nmsquota.enforcement.reconcile import Enforcer

FAST = 5_000_000  # bytes/s: "not limited" on veth is hundreds of MB/s


@pytest.fixture
def net(namespaces: Namespaces) -> Routed:
    require("nft")
    require("ethtool")
    routed = Routed(namespaces)
    # Someone else's table, which nmsquota must never touch (CLEAR included).
    _nft(routed, "add table inet firewall\n"
         "add chain inet firewall input { type filter hook input priority 0; }\n"
         "add rule inet firewall input tcp dport 22 counter accept\n")  # fmt: skip
    return routed


def _nft(net: Routed, script: str) -> str:
    import subprocess

    done = subprocess.run(["ip", "netns", "exec", net.router, "nft", "-f", "-"], input=script,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def driver(net: Routed, **options):
    return make_driver("edge", "nftables", {"namespace": net.router, **options})


def alice(rate: int) -> Limit:
    return Limit("alice", SUBSCRIBERS["sub1"], rate_bps=rate, queue_bytes=10_000)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [64_000, 3_000], ids=["64kbit", "paper-3kbit"])
def test_a_limited_subscriber_gets_the_rate_and_the_other_is_unaffected(
    net: Routed, rate: int
) -> None:
    nft = driver(net)
    nft.add([alice(rate)])
    assert {(lim.subscriber, lim.addresses[0], lim.rate_bps) for lim in nft.installed()} == {
        ("alice", "10.60.1.2", rate), ("alice", "fd60:1::2", rate),
    }  # fmt: skip
    goodput = net.download("sub1", 25, skip=5)
    assert 0.8 * rate / 8 <= goodput <= 1.2 * rate / 8, goodput
    assert net.download("sub2", 2) > FAST

    nft.remove([alice(rate)])
    assert nft.installed() == []
    assert net.download("sub1", 2) > FAST


@pytest.mark.slow
def test_ipv6_addresses_are_limited_too(net: Routed) -> None:
    # Warm the router's neighbour cache first: packets queued behind neighbour discovery are
    # lost, and TCP's backoff from that start at 64 kbit halved what a 20 s run measured.
    assert net.download("sub1", 1, v6=True) > FAST
    driver(net).add([alice(64_000)])
    goodput = net.download("sub1", 25, skip=5, v6=True)
    assert 0.8 * 8_000 <= goodput <= 1.2 * 8_000, goodput
    assert net.download("sub2", 2, v6=True) > FAST


@pytest.mark.slow
def test_a_shared_limit_holds_all_limited_subscribers_together_to_the_rate(net: Routed) -> None:
    nft = driver(net, mode="shared")
    bob = Limit("bob", SUBSCRIBERS["sub2"], rate_bps=64_000, queue_bytes=10_000)
    nft.add([alice(64_000), bob])
    rates = net.downloads(["sub1", "sub2"], 25, skip=5)
    assert 0.8 * 8_000 <= sum(rates.values()) <= 1.2 * 8_000, rates


def test_clear_lifts_every_limit_and_leaves_other_tables_alone(net: Routed) -> None:
    nft = driver(net)
    nft.add([alice(3_000)])
    nft.clear()
    nft.clear()  # nothing left to clear: fine
    tables = _nft(net, "list tables\n")
    assert "inet firewall" in tables and "nmsquota" not in tables
    assert "tcp dport 22 counter" in _nft(net, "list table inet firewall\n")
    assert net.download("sub1", 2) > FAST


def test_a_rate_change_is_one_transaction_and_drift_is_healed(net: Routed) -> None:
    nft = driver(net)
    enforcer = Enforcer(nft)
    assert [lim.subscriber for lim in enforcer.cycle([alice(3_000)]).added] == ["alice"]
    # To 64 kbit: the element moves between the rate's sets, no gap without a limit.
    enforcer.cycle([alice(64_000)])
    assert {lim.rate_bps for lim in nft.installed()} == {64_000}
    # Somebody deletes the v4 element by hand and adds a stranger: both are put right.
    _nft(net, "delete element inet nmsquota capped4_64000 { 10.60.1.2 }\n"
              "add element inet nmsquota capped4_64000 { 10.99.9.9 }\n")  # fmt: skip
    outcome = enforcer.cycle([alice(64_000)])
    assert outcome.drift == [
        "limit on alice [10.60.1.2] was missing: reinstalled",
        "limit on ? (10.99.9.9) not made by nmsquota: lifted",
    ]
    assert sorted(lim.addresses[0] for lim in nft.installed()) == ["10.60.1.2", "fd60:1::2"]
    # A router reboot (the table gone): the next cycle puts it all back.
    _nft(net, "delete table inet nmsquota\n")
    assert len(enforcer.cycle([alice(64_000)]).drift) == 2
    assert nft.check() == "2 addresses limited in table inet nmsquota"


RULES_GONE = (
    "sets without their rule: capped4_3000, capped4_64000, capped4p_3000, "
    "capped4p_64000, capped6_3000, capped6_64000, capped6p_3000, capped6p_64000"
)


def _flushed(net: Routed, enforcer: Enforcer) -> None:
    """alice limited at 64 kbit, a stale 3 kbit set left by an earlier rate, then the chain
    flushed by hand: the sets and their elements stay, the rules are gone."""
    enforcer.cycle([alice(3_000)], now=1)
    enforcer.cycle([alice(64_000)], now=2)
    _nft(net, "flush chain inet nmsquota forward\n")
    assert "capped4_64000" not in _nft(net, "list chain inet nmsquota forward\n")
    assert {lim.rate_bps for lim in enforcer.driver.installed()} == {64_000}  # still listed


def test_a_flushed_chain_is_found_by_the_next_cycle_and_its_rules_put_back(net: Routed) -> None:
    nft = driver(net)
    enforcer = Enforcer(nft)
    _flushed(net, enforcer)
    assert nft.faults() == [RULES_GONE]
    outcome = enforcer.cycle([alice(64_000)], now=3)
    assert not outcome.errors and outcome.added == []
    assert outcome.drift == [f"{RULES_GONE}: rules reinstalled, limits re-applied"]
    # The rules of the rate in force are back; the 3 kbit sets, in force no more, are gone.
    chain = _nft(net, "list chain inet nmsquota forward\n")
    assert chain.count("@capped") == 4 and "@capped4_64000" in chain and "3000" not in chain
    assert nft.faults() == [] and nft.check() == "2 addresses limited in table inet nmsquota"
    assert enforcer.cycle([alice(64_000)], now=4).drift == []  # whole: nothing more to do


@pytest.mark.slow
def test_after_a_flushed_chain_is_repaired_the_limit_bites_again(net: Routed) -> None:
    enforcer = Enforcer(driver(net))
    _flushed(net, enforcer)
    assert net.download("sub1", 2) > FAST  # flushed: listed as limited, not held at all
    assert enforcer.cycle([alice(64_000)], now=3).drift
    goodput = net.download("sub1", 25, skip=5)
    assert 0.8 * 8_000 <= goodput <= 1.2 * 8_000, goodput
    assert net.download("sub2", 2) > FAST


def test_the_driver_command_drives_it_by_hand(
    namespaces: Namespaces, config_file: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    from nmsquota.cli import main

    require("nft")
    router = namespaces.add("rtr")
    config = config_file(drivers={
        "edge": {"type": "nftables", "options": {"namespace": router}},
        "broken": {"type": "tc", "options": {"namespace": router, "interfaces": ["nope0"]}},
    })  # fmt: skip
    run = ["-c", str(config), "driver"]
    assert main([*run, "add", "edge", "10.0.0.7", "--rate", "64kbit", "--subscriber", "al"]) == 0
    assert main([*run, "list", "edge"]) == 0
    out = capsys.readouterr().out
    assert "al          10.0.0.7  64kbit  -" in out and "1 limits installed" in out
    assert main([*run, "check"]) == 1
    out = capsys.readouterr().out
    assert "broken: FAILED: driver 'broken':" in out and "edge: OK: 1 addresses" in out
    assert main([*run, "clear", "edge", "--yes"]) == 0
    assert main([*run, "add", "edge", "10.0.0.999"]) == 2
    assert "not an address or prefix: '10.0.0.999'" in capsys.readouterr().err
