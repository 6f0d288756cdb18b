"""The ledger's files are written as json.dumps writes them, whichever encoder runs, and
fsynced unless the ledger is thrown away after (the simulator's)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nmsquota.ledger.storage import dumps

scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.text(max_size=8))  # non-ASCII and lone surrogates included  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=30,
)  # fmt: skip


def json_writes(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


@given(documents)
def test_the_text_is_jsons_byte_for_byte(data: Any) -> None:
    assert dumps(data) == json_writes(data)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5))
def test_finite_floats_read_back_as_json_writes_them(values: list[float]) -> None:
    assert json.loads(dumps({"x": values})) == json.loads(json_writes({"x": values}))


def test_what_orjson_refuses_or_writes_otherwise_is_written_by_json() -> None:
    for data in ({1: "an int key"}, [2**64], {"name": "caf\u00e9"}, ["\ud800"]):
        assert dumps(data) == json_writes(data), data


def test_writes_are_fsynced_except_inside_without_fsync(tmp_path, monkeypatch) -> None:
    import os

    from nmsquota.ledger import storage

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    path = tmp_path / "state.json"
    storage.write_json_atomically(path, {"a": 1})
    assert len(synced) == 2  # the file, then its directory
    with storage.without_fsync():
        storage.write_json_atomically(path, {"a": 2})
        with storage.without_fsync():
            pass
        storage.write_json_atomically(path, {"a": 3})
    assert len(synced) == 2
    assert json.loads(path.read_text()) == {"a": 3}
    storage.write_json_atomically(path, {"a": 4})  # durable again after the block
    assert len(synced) == 4
