"""A commit's samples checked and grouped by sample time, in columns: what every store
stores, whatever keeps it (the TinyDB shards write each group as one document; the
PostgreSQL store COPYs its rows in this order).

A group is {"t": time, "seq": commit, "names": [subscriber, ...], "in": [bytes, ...],
"out": [bytes, ...]}; rows keep the order they were given in. A sample that is not one (a
name with spaces, a negative or non-integer count) is refused here, with the same words for
every store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from nmsquota.usage import Sample, is_subscriber_name

Doc = dict[str, Any]


def new_doc(when: int, seq: int) -> Doc:
    return {"t": when, "seq": seq, "names": [], "in": [], "out": []}


def rows_of(doc: Doc) -> Iterator[tuple[str, int, int]]:
    """(subscriber, bytes_in, bytes_out) of each sample in a document, in recorded order."""
    return zip(doc["names"], doc["in"], doc["out"], strict=True)


def group_by_time(samples: Iterable[Sample], seq: int, known_names: set[str]) -> list[Doc]:
    """One document per sample time, in the order the times first appear; ValueError for a
    sample that is not one. `known_names` remembers names already checked, since the same
    subscribers come back every cycle."""
    docs: dict[int, Doc] = {}
    for sample in samples:
        name, when, bytes_in, bytes_out = (
            sample.subscriber,
            sample.time,
            sample.bytes_in,
            sample.bytes_out,
        )
        if name not in known_names:
            if not is_subscriber_name(name):
                raise ValueError(f"not a login name without spaces: {sample}")
            known_names.add(name)
        if (
            type(when) is not int
            or type(bytes_in) is not int
            or type(bytes_out) is not int
            or bytes_in < 0
            or bytes_out < 0
        ):
            raise ValueError(f"a sample needs an integer time and byte counts >= 0: {sample}")
        doc = docs.get(when)
        if doc is None:
            doc = docs[when] = new_doc(when, seq)
        doc["names"].append(name)
        doc["in"].append(bytes_in)
        doc["out"].append(bytes_out)
    return list(docs.values())
