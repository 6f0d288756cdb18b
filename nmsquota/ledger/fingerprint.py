"""The plans and subscribers of a configuration as the ledger keeps them, and a short
fingerprint of them (issue 24).

Several POPs' daemons share one ledger and must run the same plans and subscribers (the
deciding POP's decide for everyone). Each daemon puts the fingerprint of its own in every
health record it writes, so that `nmsquota status`, the console and the check plugin can
name a POP that runs other plans than the deciding POP's without reading its configuration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from nmsquota.ledger.codec import PLANS, SUBSCRIBERS, documents
from nmsquota.ledger.records import PlanRecord, SubscriberRecord

if TYPE_CHECKING:
    from nmsquota.config import Config

DIGITS = 12
"""Hex digits kept: 48 bits, enough that two different configurations of a handful of POPs
never share one by chance, and short enough for a status line."""


def quota_records(config: Config) -> tuple[list[SubscriberRecord], list[PlanRecord]]:
    """The configuration's subscribers and plans as the ledger keeps them, for readers that
    have no configuration file (what `nmsquota run` and `import` store)."""
    subscribers = SUBSCRIBERS.adapter.validate_python(config.subscriber_records())
    plans = sorted(config.settings.plans.items())
    return subscribers, PLANS.adapter.validate_python(
        [{**plan.model_dump(), "plan": name} for name, plan in plans]
    )


def fingerprint(subscribers: Sequence[SubscriberRecord], plans: Sequence[PlanRecord]) -> str:
    """A short hash of the records as stored (their JSON documents, keys sorted, by name):
    the same for the same plans and subscribers whatever the order they were written in."""
    stored = {
        "subscribers": sorted(documents(SUBSCRIBERS, subscribers), key=lambda d: d["name"]),
        "plans": sorted(documents(PLANS, plans), key=lambda d: d["plan"] or ""),
    }
    text = orjson.dumps(stored, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()[:DIGITS]


def of_configuration(config: Config) -> str:
    """The fingerprint of the plans and subscribers `config` runs."""
    return fingerprint(*quota_records(config))
