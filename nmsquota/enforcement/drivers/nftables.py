"""`nftables`: limited subscribers are elements of a set in a table of nmsquota's own.

    table inet nmsquota {
        set capped4_3000  { type ipv4_addr; }                     # limited hosts, per rate
        set capped4p_3000 { type ipv4_addr; flags interval; }     # limited prefixes
        set meter4_3000  { type ipv4_addr; flags dynamic,timeout; }
        chain forward { type filter hook forward priority -10; policy accept;
            ip daddr @capped4_3000 update @meter4_3000
                { ip daddr limit rate over 375 bytes/second burst 10000 bytes } drop
        }
    }

Per host (the paper's pipe per address), each limited address gets its own token bucket in
the meter; `mode = "shared"` sends every limited subscriber at a rate through one named
limit instead, the paper's cure for the excess cost of per-host pipes. Limiting or releasing
a subscriber is one element added or deleted; rules are added only the first time a rate is
used. Each cycle's changes go in one `nft -f` transaction. IPv6 addresses and prefixes go in
the capped6 sets and are metered per /64. Nothing outside the table is ever touched: CLEAR deletes
the table.

This is a policer (it drops what exceeds the rate); the tc driver shapes (queues) instead.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import Field

from nmsquota.enforcement.driver import (
    Command,
    Driver,
    DriverError,
    Limit,
    Options,
    apply_batch,
    command_prefix,
    normalize_address,
)

SET_NAME = re.compile(r"^capped([46])(p?)_(\d+)$")


class NftablesOptions(Options):
    table: str = Field(default="nmsquota", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    mode: Literal["per-host", "shared"] = "per-host"
    hook: Literal["forward", "postrouting"] = "forward"
    priority: int = -10
    namespace: str | None = Field(default=None, description="run nft in this network namespace")
    prefix: list[str] = Field(default=[], description="command prefix, e.g. ['ssh', 'router']")
    nft: str = "nft"


class NftablesDriver(Driver):
    type = "nftables"
    options_model = NftablesOptions
    options: NftablesOptions

    def __init__(self, name: str, options: NftablesOptions) -> None:
        super().__init__(name, options)
        self.run = Command(command_prefix(options.namespace, options.prefix), driver=name)

    # -- what is there ---------------------------------------------------------------------

    def _listing(self) -> list[dict[str, Any]] | None:
        """Our table as nft's JSON objects, or None when it does not exist (yet)."""
        o = self.options
        out = self.run(o.nft, "-j", "list", "table", "inet", o.table, check=False)
        if not out.strip():
            probe = self.run(o.nft, "list", "tables", check=True)  # nft missing or no rights
            if f"inet {o.table}" not in probe:
                return None
            raise DriverError(self.name, f"nft could not list table inet {o.table}")
        items: list[dict[str, Any]] = json.loads(out)["nftables"]
        return items

    def _state(self) -> tuple[dict[str, dict[str, str]], set[str]]:
        """Elements per capped set ({set: {element: comment}}) and the sets rules refer to."""
        listing = self._listing() or []
        sets: dict[str, dict[str, str]] = {}
        used: set[str] = set()
        for item in listing:
            if "set" in item and SET_NAME.match(item["set"]["name"]):
                sets[item["set"]["name"]] = dict(_elements(item["set"].get("elem", [])))
            elif "rule" in item:
                used |= set(re.findall(r'"@(capped[46]p?_\d+)"', json.dumps(item["rule"])))
        return sets, used

    def installed(self) -> list[Limit]:
        sets, _ = self._state()
        limits = []
        for name, elements in sets.items():
            rate = int(SET_NAME.match(name).group(3))  # type: ignore[union-attr]
            for element, comment in elements.items():
                limits.append(Limit(comment, (element,), rate_bps=rate))
        return sorted(limits)

    # -- changes ---------------------------------------------------------------------------

    def add(self, limits: Sequence[Limit]) -> None:
        sets, used = self._state()
        lines: list[str] = []
        for rate, queue in sorted({(limit.rate_bps, limit.queue_bytes) for limit in limits}):
            lines += self._structure(rate, queue, sets, used)
        per_limit = [(limit.subscriber, self._element_changes(limit, sets)) for limit in limits]
        apply_batch(self.name, self._transaction, lines, per_limit)

    def remove(self, limits: Sequence[Limit]) -> None:
        sets, _ = self._state()
        per_limit = [
            (
                limit.subscriber,
                [
                    self._element("delete", name, address)
                    for address in map(normalize_address, limit.addresses)
                    for name, elements in sets.items()
                    if address in elements
                ],
            )
            for limit in limits
        ]
        apply_batch(self.name, self._transaction, [], per_limit)

    def clear(self) -> None:
        if self._listing() is not None:
            self._transaction([f"delete table inet {self.options.table}"])

    def check(self) -> str:
        sets, used = self._state()
        faults = _faults(sets, used)
        if faults:
            raise DriverError(self.name, "; ".join(faults))
        count = sum(len(elements) for elements in sets.values())
        return f"{count} addresses limited in table inet {self.options.table}"

    def faults(self) -> list[str]:
        sets, used = self._state()
        return _faults(sets, used)

    def repair(self, limits: Sequence[Limit]) -> None:
        """The rules of the rates in force back (a flushed chain keeps its sets, so the
        elements stay and nothing reconciliation compares is missing), and the sets of rates
        no longer in force, which no rule refers to any more, gone: then no set is left
        without its rule."""
        sets, used = self._state()
        wanted = {limit.rate_bps for limit in limits}
        table = f"inet {self.options.table}"
        lines = [
            f"delete set {table} {name}"
            for name, match in ((name, SET_NAME.match(name)) for name in sets)
            if match and int(match.group(3)) not in wanted and name not in used
        ]
        for rate, queue in sorted({(limit.rate_bps, limit.queue_bytes) for limit in limits}):
            lines += self._structure(rate, queue, sets, used)
        if lines:
            self._transaction(lines)
        self.add(limits)

    def _element_changes(self, limit: Limit, sets: dict[str, dict[str, str]]) -> list[str]:
        changes = []
        for address in map(normalize_address, limit.addresses):
            network = ipaddress.ip_network(address)
            family = "6" if network.version == 6 else "4"
            kind = "" if network.prefixlen == network.max_prefixlen else "p"
            target = f"capped{family}{kind}_{limit.rate_bps}"
            # Another rate's set first: moving rate is one transaction, never a gap.
            for name, elements in sets.items():
                if name != target and address in elements:
                    changes.append(self._element("delete", name, address))
            if address not in sets.get(target, {}):
                changes.append(self._element("add", target, address, limit.subscriber))
        return changes

    def _element(self, verb: str, name: str, address: str, comment: str = "") -> str:
        note = f" comment {json.dumps(comment)}" if comment and verb == "add" else ""
        return f"{verb} element inet {self.options.table} {name} {{ {address}{note} }}"

    def _structure(
        self, rate: int, queue: int, sets: dict[str, dict[str, str]], used: set[str]
    ) -> list[str]:
        """The table, chain, sets and rules a rate needs, for what is not there yet."""
        o = self.options
        table = f"inet {o.table}"
        lines = [
            f"add table {table}",
            f"add chain {table} {o.hook} {{ type filter hook {o.hook} priority {o.priority}; "
            "policy accept; }",
        ]
        per_second = max(rate // 8, 1)
        limit = f"limit rate over {per_second} bytes/second burst {max(queue, 1)} bytes"
        if o.mode == "shared":
            lines.append(f"add limit {table} shared_{rate} {{ rate over {per_second} "
                         f"bytes/second burst {max(queue, 1)} bytes }}")  # fmt: skip
        for family, kind, match, key in (
            ("4", "ipv4_addr", "ip daddr", "ip daddr"),
            # Per /64: a subscriber's privacy addresses share one bucket.
            ("6", "ipv6_addr", "ip6 daddr", "ip6 daddr & ffff:ffff:ffff:ffff::"),
        ):
            meter = f"meter{family}_{rate}"
            if o.mode != "shared":
                lines.append(f"add set {table} {meter} {{ type {kind}; size 65535; "
                             "flags dynamic,timeout; timeout 1m; }")  # fmt: skip
            # Hosts in a plain hash set, prefixes in an interval set: deleting 5,000 hosts
            # from an interval set took 11.6 s with nft 1.0.6, from a hash set 0.05 s.
            for capped, flags in ((f"capped{family}_{rate}", ""),
                                  (f"capped{family}p_{rate}", " flags interval;")):  # fmt: skip
                if capped not in sets:
                    lines.append(f'add set {table} {capped} {{ type {kind};{flags} '
                                 f'comment "nmsquota: limited at {rate} bit/s"; }}')  # fmt: skip
                if capped in used:
                    continue
                if o.mode == "shared":
                    lines.append(f'add rule {table} {o.hook} {match} @{capped} limit name '
                                 f'"shared_{rate}" drop')  # fmt: skip
                else:
                    lines.append(f"add rule {table} {o.hook} {match} @{capped} update "
                                 f"@{meter} {{ {key} {limit} }} drop")  # fmt: skip
        return lines

    def _transaction(self, lines: Iterable[str]) -> None:
        self.run(self.options.nft, "-f", "-", input="\n".join(_merged(lines)) + "\n")


def _faults(sets: dict[str, dict[str, str]], used: set[str]) -> list[str]:
    """A capped set that no rule refers to: its addresses are listed, and not limited."""
    missing = sorted(name for name in sets if name not in used)
    return [f"sets without their rule: {', '.join(missing)}"] if missing else []


ELEMENT = re.compile(r"^(add|delete) element (\S+ \S+ \S+) \{ (.*) \}$")


def _merged(lines: Iterable[str]) -> list[str]:
    """One statement per set and verb: 5,000 single-element deletes from an interval set
    took 5.8 s here, one statement with all of them a fraction of that. Deletes go before
    adds (a rate change moves an address between two sets in the same transaction)."""
    others: list[str] = []
    groups: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        match = ELEMENT.match(line)
        if match is None:
            others.append(line)
        else:
            groups.setdefault((match.group(1), match.group(2)), []).append(match.group(3))
    ordered = sorted(groups.items(), key=lambda item: item[0][0] != "delete")
    return others + [
        f"{verb} element {where} {{ {', '.join(elements)} }}" for (verb, where), elements in ordered
    ]


def _elements(raw: list[Any]) -> Iterable[tuple[str, str]]:
    """nft's JSON set elements as (address or prefix, comment)."""
    for item in raw:
        comment = ""
        if isinstance(item, dict) and "elem" in item:
            comment = item["elem"].get("comment", "")
            item = item["elem"]["val"]
        if isinstance(item, dict) and "prefix" in item:
            item = f"{item['prefix']['addr']}/{item['prefix']['len']}"
        if isinstance(item, str):
            yield normalize_address(item), comment
