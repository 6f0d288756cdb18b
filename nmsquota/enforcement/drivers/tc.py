"""`tc`: limited addresses get HTB classes on the subscriber-facing interfaces of a Linux
access server, found through hashed u32 filters.

    qdisc htb 4e51: root default 0           # unclassified traffic is not shaped at all
    filter prio 1 ip:   ht 800:: hashkey (last octet of ip dst) -> ht 2: (256 buckets)
    filter prio 2 ipv6: ht 801:: hashkey (last octet of ip6 dst) -> ht 3: (256 buckets)
    per limited address: class 4e51:N htb rate R ceil R, leaf bfifo (the queue), and a filter
    in bucket (last octet) of ht 2: or 3: matching the host, flowid 4e51:N

A packet is checked against the few filters of one bucket, not against every limited host.
This is a shaper (it queues, like the paper's dummynet pipe), where the nftables driver
polices. `mode = "shared"` points every limited address at one class per rate and interface
instead (HTB shapes what leaves one interface: subscribers behind different interfaces do
not share a class).

Only an interface whose root qdisc is a kernel default (noqueue, pfifo_fast, fq_codel, mq,
fq) is taken over; CLEAR deletes nmsquota's root qdisc and the kernel's default comes back.
Turn off GSO/TSO/GRO on the interface (`ethtool -K IF tso off gso off gro off`) for low
rates: with them on, a 3 kbit class passed about twice its rate (FIELD-NOTES).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from nmsquota.enforcement.driver import (
    Command,
    Driver,
    DriverError,
    Limit,
    Options,
    command_prefix,
    normalize_address,
)

DEFAULT_QDISCS = {"noqueue", "pfifo_fast", "fq_codel", "mq", "fq", "pfifo"}
FAMILIES = {4: ("ip", 1, "2:", 16), 6: ("ipv6", 2, "3:", 36)}
"""IP version -> (protocol, filter prio, hash table, offset of the dst address's last word)."""

FILTER = re.compile(r"fh ([0-9a-f]+):([0-9a-f]+):([0-9a-f]+) .*flowid (\S+)")
MATCH = re.compile(r"match ([0-9a-f]{8})/([0-9a-f]{8}) at (\d+)")
CLASS = re.compile(r"class htb (\S+) .*? rate (\d+(?:\.\d+)?)([KMG]?)bit")
SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}


class TcOptions(Options):
    interfaces: list[str] = Field(min_length=1, description="subscriber-facing interfaces")
    mode: Literal["per-host", "shared"] = "per-host"
    handle: str = Field(default="4e51", pattern=r"^[0-9a-f]{1,4}$", description="root qdisc")
    quantum: int = Field(default=1600, ge=1000)
    namespace: str | None = None
    prefix: list[str] = Field(default=[], description="command prefix, e.g. ['ssh', 'bras']")
    tc: str = "tc"


@dataclass(frozen=True)
class Installed:
    interface: str
    address: str
    filter_handle: str
    classid: str
    rate_bps: int


class TcDriver(Driver):
    type = "tc"
    options_model = TcOptions
    options: TcOptions

    def __init__(self, name: str, options: TcOptions) -> None:
        super().__init__(name, options)
        self.run = Command(command_prefix(options.namespace, options.prefix), driver=name)

    # -- what is there ---------------------------------------------------------------------

    def _root(self, interface: str) -> str:
        """'ours', 'default' or the kind of someone else's root qdisc."""
        out = self.run(self.options.tc, "qdisc", "show", "dev", interface, "root")
        first = out.split()
        if len(first) < 3:
            return "default"
        kind, handle = first[1], first[2]
        if kind == "htb" and handle == f"{self.options.handle}:":
            return "ours"
        return "default" if kind in DEFAULT_QDISCS else f"{kind} {handle}"

    def _scan(self, interface: str) -> tuple[list[Installed], dict[str, int]]:
        """Installed filters (one per address) and every class's rate, on one interface."""
        o = self.options
        rates = {}
        for match in CLASS.finditer(self.run(o.tc, "class", "show", "dev", interface)):
            rates[match.group(1)] = round(float(match.group(2)) * SCALE[match.group(3)])
        found = []
        out = self.run(o.tc, "filter", "show", "dev", interface, "parent", f"{o.handle}:")
        current: tuple[str, str] | None = None
        words: dict[int, str] = {}
        for line in [*out.splitlines(), "filter end"]:
            if line.startswith("filter"):
                if current is not None:
                    address = _address(words)
                    if address:
                        found.append(Installed(interface, address, current[0], current[1],
                                               rates.get(current[1], 0)))  # fmt: skip
                header = FILTER.search(line)
                current = (":".join(header.groups()[:3]), header.group(4)) if header else None
                words = {}
            elif (match := MATCH.search(line)) and current is not None:
                words[int(match.group(3))] = match.group(1)
        return found, rates

    def installed(self) -> list[Limit]:
        limits = {}
        for interface in self.options.interfaces:
            if self._root(interface) != "ours":
                continue
            for item in self._scan(interface)[0]:
                limits[item.address] = Limit("", (item.address,), rate_bps=item.rate_bps)
        return sorted(limits.values())

    # -- changes ---------------------------------------------------------------------------

    def add(self, limits: Sequence[Limit]) -> None:
        failed: dict[str, str] = {}
        for limit in limits:
            for address in limit.addresses:
                network = ipaddress.ip_network(address, strict=False)
                if network.prefixlen != network.max_prefixlen:
                    failed[limit.subscriber] = (
                        f"{address}: the tc driver limits hosts, not prefixes"
                    )
        batch: list[tuple[str, str]] = []  # (subscriber, tc command)
        for interface in self.options.interfaces:
            batch += self._adds(interface, [lim for lim in limits if lim.subscriber not in failed])
        self._batch(batch, failed)

    def _adds(self, interface: str, limits: Sequence[Limit]) -> list[tuple[str, str]]:
        o = self.options
        root = self._root(interface)
        commands: list[tuple[str, str]] = []
        if root not in ("ours", "default"):
            raise DriverError(self.name, f"{interface} has a root qdisc of its own ({root}); "
                              "nmsquota will not replace it")  # fmt: skip
        if root == "default":
            commands += [("", line) for line in self._structure(interface)]
            existing: list[Installed] = []
            rates: dict[str, int] = {}
        else:
            existing, rates = self._scan(interface)
        by_address = {item.address: item for item in existing}
        # Leaf qdisc handles are the class minors, so the root's own handle is never one.
        used = {int(c.split(":")[1], 16) for c in rates} | {1, int(o.handle, 16)}
        shared = {rate: classid for classid, rate in rates.items()} if o.mode == "shared" else {}
        moved_from: set[str] = set()
        for limit in limits:
            for address in map(normalize_address, limit.addresses):
                item = by_address.get(address)
                if item is not None and item.rate_bps == limit.rate_bps:
                    continue
                if item is not None and o.mode == "per-host":
                    # Its own class: the rate changes in place, the limit never lapses; the
                    # leaf queue takes the new limit's size (a step's may differ).
                    for verb, line in (("change", self._class), ("replace", self._leaf)):
                        commands.append((limit.subscriber,
                                         line(verb, interface, item.classid, limit)))  # fmt: skip
                    continue
                classid = shared.get(limit.rate_bps) if o.mode == "shared" else None
                if classid is None:
                    minor = next(n for n in range(2, 0xFFFF) if n not in used)
                    used.add(minor)
                    classid = f"{o.handle}:{minor:x}"
                    for line in (self._class, self._leaf):
                        commands.append((limit.subscriber, line("add", interface, classid, limit)))
                    if o.mode == "shared":
                        shared[limit.rate_bps] = classid
                if item is None:
                    commands.append((limit.subscriber, self._filter(interface, address, classid)))
                    handle = ""  # a new filter: its handle is the kernel's to choose
                else:
                    # Shared classes: the host's filter is pointed at the other rate's class
                    # in place (same handle), so no packet finds it missing.
                    handle = item.filter_handle
                    moved = self._filter(interface, address, classid, handle)
                    commands.append((limit.subscriber, moved))
                    moved_from.add(item.classid)
                by_address[address] = Installed(interface, address, handle, classid,
                                                limit.rate_bps)  # fmt: skip
        # A shared class that every host has moved away from goes (with its leaf qdisc).
        pointed = {item.classid for item in by_address.values()}
        commands += [("", f"class del dev {interface} classid {classid}")
                     for classid in sorted(moved_from - pointed)]  # fmt: skip
        return commands

    def remove(self, limits: Sequence[Limit]) -> None:
        o = self.options
        batch: list[tuple[str, str]] = []
        for interface in o.interfaces:
            if self._root(interface) != "ours":
                continue
            existing, _ = self._scan(interface)
            by_address = {item.address: item for item in existing}
            going: dict[str, str] = {}
            for limit in limits:
                for address in map(normalize_address, limit.addresses):
                    item = by_address.get(address)
                    if item is None:
                        continue
                    batch.append((limit.subscriber, f"filter del dev {interface} parent "
                                  f"{o.handle}: prio {_family(address)[1]} handle "
                                  f"{item.filter_handle} u32"))  # fmt: skip
                    going[item.address] = item.classid
            # A class goes when no remaining filter points at it (always, per host).
            left = {item.classid for item in existing if item.address not in going}
            for classid in sorted(set(going.values()) - left):
                batch.append(("", f"class del dev {interface} classid {classid}"))
        self._batch(batch, {})

    def clear(self) -> None:
        for interface in self.options.interfaces:
            if self._root(interface) == "ours":
                self.run(self.options.tc, "qdisc", "del", "dev", interface, "root")

    def check(self) -> str:
        roots = {interface: self._root(interface) for interface in self.options.interfaces}
        foreign = {i: r for i, r in roots.items() if r not in ("ours", "default")}
        if foreign:
            raise DriverError(self.name, "root qdiscs not nmsquota's: " + ", ".join(
                f"{i} ({r})" for i, r in sorted(foreign.items())))  # fmt: skip
        faults = self.faults()
        if faults:
            raise DriverError(self.name, "; ".join(faults))
        return f"{len(self.installed())} addresses limited on {', '.join(roots)}"

    def faults(self) -> list[str]:
        """Our root qdisc without the hash table a family's host filters hang in, or without
        the filter linking to it (`tc filter del ... prio 1` by hand, say): those hosts'
        filters are listed, or their limits still wanted, but no packet reaches them."""
        found = []
        for interface in self.options.interfaces:
            if self._root(interface) != "ours":
                continue
            out = self.run(self.options.tc, "filter", "show", "dev", interface,
                           "parent", f"{self.options.handle}:")  # fmt: skip
            missing = [protocol for protocol, _, table, _ in FAMILIES.values()
                       if f"fh {table} ht divisor 256" not in out
                       or f"link {table} " not in out]  # fmt: skip
            if missing:
                found.append(f"{interface}: the {' and '.join(missing)} hash filters are missing")
        return found

    def repair(self, limits: Sequence[Limit]) -> None:
        """An interface with its hash filters missing is rebuilt: nmsquota's root qdisc
        deleted and every limit in force added again, structure first. Its limits lapse for
        the moment that takes; they were not biting anyway."""
        for fault in self.faults():
            interface = fault.split(":", 1)[0]
            self.run(self.options.tc, "qdisc", "del", "dev", interface, "root")
        self.add(limits)

    # -- commands --------------------------------------------------------------------------

    def _structure(self, interface: str) -> list[str]:
        h = self.options.handle
        lines = [f"qdisc replace dev {interface} root handle {h}: htb default 0"]
        for protocol, prio, table, offset in FAMILIES.values():
            lines.append(f"filter add dev {interface} parent {h}: prio {prio} handle {table} "
                         f"protocol {protocol} u32 divisor 256")  # fmt: skip
            root, match = ("800::", "ip dst 0.0.0.0/0") if prio == 1 else ("801::", "ip6 dst ::/0")
            lines.append(f"filter add dev {interface} parent {h}: prio {prio} protocol "
                         f"{protocol} u32 ht {root} match {match} hashkey mask 0x000000ff "
                         f"at {offset} link {table}")  # fmt: skip
        return lines

    def _class(self, verb: str, interface: str, classid: str, limit: Limit) -> str:
        rate = max(limit.rate_bps, 8)
        return (f"class {verb} dev {interface} parent {self.options.handle}: classid {classid} "
                f"htb rate {rate}bit ceil {rate}bit quantum {self.options.quantum}")  # fmt: skip

    def _leaf(self, verb: str, interface: str, classid: str, limit: Limit) -> str:
        """A class's leaf queue (the limit's queue): its handle is the class's minor."""
        minor = classid.split(":")[1]
        return (f"qdisc {verb} dev {interface} parent {classid} handle {minor}: bfifo limit "
                f"{max(limit.queue_bytes, 1600)}")  # fmt: skip

    def _filter(self, interface: str, address: str, classid: str, handle: str = "") -> str:
        """The host's filter; with the handle of an existing one, that filter is replaced."""
        protocol, prio, table, _ = _family(address)
        bucket = ipaddress.ip_address(address).packed[-1]
        match = "ip dst" if protocol == "ip" else "ip6 dst"
        length = 32 if protocol == "ip" else 128
        verb, which = ("replace", f" handle {handle}") if handle else ("add", "")
        return (f"filter {verb} dev {interface} parent {self.options.handle}: prio {prio}{which} "
                f"protocol {protocol} u32 ht {table}{bucket:x}: match {match} "
                f"{address}/{length} flowid {classid}")  # fmt: skip

    def _batch(self, batch: list[tuple[str, str]], failed: dict[str, str]) -> None:
        """One `tc -batch` for the lot; -force goes on past a failed line, and the line
        numbers it reports say whose command failed."""
        if batch:
            script = "\n".join(line for _, line in batch) + "\n"
            done = self.run.result(self.options.tc, "-force", "-batch", "-", input=script)
            for number, message in _batch_errors(done.stderr):
                who = batch[number - 1][0] if 0 < number <= len(batch) else ""
                failed.setdefault(who or "(setup)", message)
            if done.returncode and not failed:
                failed["(setup)"] = done.stderr.strip() or f"exit status {done.returncode}"
        if failed:
            raise DriverError(self.name, f"{len(failed)} not done", failed)


def _batch_errors(stderr: str) -> list[tuple[int, str]]:
    """`tc -force -batch` stderr as (line number, message): each "Command failed -:N" comes
    after the lines that explain it. Warnings (e.g. about quantum) are not errors."""
    errors, message = [], []
    for line in stderr.splitlines():
        failed = re.match(r"Command failed -:(\d+)", line)
        if failed:
            errors.append((int(failed.group(1)), " / ".join(message) or "failed"))
            message = []
        elif line.strip() and not line.startswith("Warning"):
            message.append(line.strip())
    return errors


def _family(address: str) -> tuple[str, int, str, int]:
    return FAMILIES[ipaddress.ip_address(address).version]


def _address(words: dict[int, str]) -> str | None:
    """The host a u32 filter's `match` words at offset 16 (IPv4) or 24..36 (IPv6) name."""
    if set(words) == {16}:
        return str(ipaddress.IPv4Address(bytes.fromhex(words[16])))
    if set(words) == {24, 28, 32, 36}:
        return str(
            ipaddress.IPv6Address(bytes.fromhex("".join(words[o] for o in (24, 28, 32, 36))))
        )
    return None
