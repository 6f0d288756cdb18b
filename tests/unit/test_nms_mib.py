"""NMSQUOTA-MIB's OID tree from a snapshot: which instances exist, their values, and the
lexicographic order getnext walks them in."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.quota_ledger import AS_OF, LONG_NAME, quota_ledger
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.config import load_config
from nmsquota.nms.mib import (
    CAP_ENTRY,
    FALSE,
    HEALTH,
    ROOT,
    SUBSCRIBER_ENTRY,
    TRUE,
    MibView,
    Oid,
    Tree,
    Value,
    name_index,
)
from nmsquota.standings import Reader

NOW = AS_OF + 60


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> MibView:
    config, ledger = quota_ledger(tmp_path_factory.mktemp("mib"))
    return MibView.of(Reader.open(ledger, load_config(config)).snapshot())


def walk(view: MibView, now: float = NOW) -> list[tuple[Oid, Value]]:
    """Every instance, by getnext from the MIB's root, as snmpwalk asks for them."""
    found = []
    oid = ROOT
    while (binding := view.next(oid, now)) is not None:
        found.append(binding)
        oid = binding[0]
    return found


def index(name: str, limit: int = 80) -> Oid:
    found = name_index(name, limit)
    assert found is not None
    return found


def subscriber(column: int, name: str) -> Oid:
    return (*SUBSCRIBER_ENTRY, column, *index(name))


def cap(column: int, name: str, label: str) -> Oid:
    return (*CAP_ENTRY, column, *index(name), *index(label, 32))


def test_a_name_index_is_its_length_then_its_utf8_octets() -> None:
    assert name_index("bob", 80) == (3, 98, 111, 98)
    assert name_index("zoë", 80) == (4, 122, 111, 195, 171)


def test_a_name_too_long_or_empty_has_no_index() -> None:
    assert name_index("x" * 81, 80) is None
    assert name_index("", 80) is None


def test_a_walk_visits_every_instance_once_in_increasing_oid_order(view: MibView) -> None:
    oids = [oid for oid, _ in walk(view)]
    assert oids == sorted(oids)
    assert len(set(oids)) == len(oids)
    scalars, tables = view.tree(NOW)
    assert set(oids) == {oid for oid, _ in scalars} | {oid for oid, _ in tables}


def test_the_walk_is_scalars_then_the_subscriber_table_then_the_cap_table(
    view: MibView,
) -> None:
    prefixes = [oid[: len(ROOT) + 2] for oid, _ in walk(view)]
    tables = [prefix[-1] for prefix in dict.fromkeys(prefixes)]
    assert tables == [1, 2, 3]


def test_a_column_lists_shorter_names_first_then_by_octet(view: MibView) -> None:
    plans = [oid for oid, _ in walk(view) if oid[: len(SUBSCRIBER_ENTRY) + 1] ==
             (*SUBSCRIBER_ENTRY, 2)]  # fmt: skip
    names = [bytes(oid[len(SUBSCRIBER_ENTRY) + 2 :]).decode() for oid in plans]
    # "zoë" is four octets: after "gina", before the five-letter names.
    assert names == ["bob", "dave", "erin", "gina", "zoë", "alice", "carol", "frank"]


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=20, unique=True))
def test_getnext_follows_snmp_order_for_any_names(names: list[str]) -> None:
    bindings = [((*SUBSCRIBER_ENTRY, 2, *index(name)), Value("string", name))
                for name in names]  # fmt: skip
    tree = Tree(list(bindings))
    walked = []
    oid: Oid = ROOT
    while (found := tree.next(oid)) is not None:
        oid = found[0]
        walked.append(bytes(oid[len(SUBSCRIBER_ENTRY) + 2 :]).decode())
    # RFC 2578 7.7: a length-prefixed string sorts by length, then octet by octet.
    assert walked == sorted(names, key=lambda n: (len(n.encode()), n.encode()))


def test_a_subscriber_row_has_the_cap_nearest_its_limit(view: MibView) -> None:
    get = lambda oid: view.get(oid, NOW)  # noqa: E731
    assert get(subscriber(2, "carol")) == Value("string", "fair")
    assert get(subscriber(3, "carol")) == Value("integer", 5)  # limited
    assert get(subscriber(4, "carol")) == Value("string", "1h")
    assert get(subscriber(5, "carol")) == Value("counter64", 1_200_000)
    assert get(subscriber(6, "carol")) == Value("counter64", 1_000_000)
    assert get(subscriber(7, "carol")) == Value("gauge", 1200)  # 120.0%
    assert get(subscriber(8, "carol")) == Value("gauge", AS_OF - 2100)
    assert get(subscriber(9, "carol")) == Value("gauge", 64_000)
    assert get(subscriber(10, "carol")) == Value("integer", FALSE)
    assert get(subscriber(11, "carol")) == Value("string", "over cap 1h: 1200000 of 1000000 bytes")


def test_a_limit_measured_not_to_bite_is_flagged(view: MibView) -> None:
    assert view.get(subscriber(10, "alice"), NOW) == Value("integer", TRUE)


def test_each_cap_has_a_row_under_its_subscriber(view: MibView) -> None:
    assert view.get(cap(2, "carol", "1d"), NOW) == Value("string", "1d")
    assert view.get(cap(3, "carol", "1d"), NOW) == Value("counter64", 1_200_000)
    assert view.get(cap(4, "carol", "1d"), NOW) == Value("counter64", 3_000_000)
    assert view.get(cap(5, "carol", "1d"), NOW) == Value("gauge", 400)
    assert view.get(cap(6, "carol", "1d"), NOW) == Value("integer", 1)  # ok
    assert view.get(cap(7, "carol", "1h"), NOW) == Value("gauge", 64_000)
    assert view.get(cap(8, "carol", "1h"), NOW) == Value("gauge", AS_OF + 900)
    assert view.get(cap(8, "carol", "1d"), NOW) == Value("gauge", 0)


def test_a_name_too_long_for_an_index_has_no_row(view: MibView) -> None:
    assert not any(len(oid) > 128 for oid, _ in walk(view))
    assert view.get((*HEALTH, 17, 0), NOW) == Value("gauge", 8)
    assert view.snapshot.subscriber(LONG_NAME) is not None


def test_health_scalars_follow_the_clock_not_the_snapshot(view: MibView) -> None:
    age, stale = (*HEALTH, 4, 0), (*HEALTH, 12, 0)
    assert view.get(age, NOW) == Value("gauge", 60)
    assert view.get(stale, NOW) == Value("integer", FALSE)
    assert view.get(age, AS_OF + 901) == Value("gauge", 901)
    assert view.get(stale, AS_OF + 901) == Value("integer", TRUE)


def test_driver_and_limit_health(view: MibView) -> None:
    assert view.get((*HEALTH, 13, 0), NOW) == Value("gauge", 2)  # both drivers failing
    assert view.get((*HEALTH, 15, 0), NOW) == Value("gauge", 1)  # alice
    assert view.get((*HEALTH, 16, 0), NOW) == Value("gauge", 5)


def test_a_string_value_never_spans_two_lines() -> None:
    assert Value("string", "one\ntwo\r\nthree").value == "one two three"


def test_gauges_latch_at_their_maximum() -> None:
    from nmsquota.nms.mib import gauge

    assert gauge(2**40) == Value("gauge", 2**32 - 1)
    assert gauge(-5) == Value("gauge", 0)


def test_without_a_cycle_the_poller_is_stale_and_its_cycle_zero(tmp_path: Path) -> None:
    from nmsquota.ledger import Ledger

    Ledger.open_writer(tmp_path / "ledger").close()
    empty = MibView.of(Reader.open(tmp_path / "ledger", None).snapshot())
    scalars = {oid[len(HEALTH)]: value for oid, value in walk(empty)}
    assert scalars[2] == Value("gauge", 0)
    assert scalars[12] == Value("integer", TRUE)
    assert 3 not in scalars and 4 not in scalars
