"""The suite's configuration writer: what a test asks for is what nmsquota reads."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from fixtures.config_file import access_server, if_name, secret, toml, write_config
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.config import load_config

KEYS = st.text(min_size=1, max_size=8)
SCALARS = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
INLINE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
TABLES = st.recursive(
    st.dictionaries(KEYS, INLINE, max_size=4),
    lambda inner: st.dictionaries(KEYS, INLINE | inner, max_size=4),
    max_leaves=12,
)


@given(TABLES)
def test_any_tables_read_back_as_written(tables: dict) -> None:
    assert tomllib.loads(toml(tables)) == tables


def test_a_configuration_from_pieces_loads_with_its_ledger_in_the_tests_directory(
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path,
        secrets={"bras1": "s3cret"},
        plans={"home": {"cap": "1MB", "window": "1d"}},
        subscribers={"alice": {"plan": "home", "addresses": ["10.60.1.2"]}},
        access_servers={"bras1": access_server(1161, community=secret("bras1"),
                                               match=[if_name("<pppoe-(?P<user>.+)>")])},
        default_plan=None,
    )  # fmt: skip
    config = load_config(path)
    assert config.data_dir == tmp_path / "ledger"
    assert config.settings.plans["home"].cap == 1_000_000
    bras1 = config.settings.access_servers["bras1"]
    assert (bras1.host, bras1.port, config.secret(bras1.community)) == ("127.0.0.1", 1161, "s3cret")
    assert stat.S_IMODE((tmp_path / "secrets.toml").stat().st_mode) == 0o600
