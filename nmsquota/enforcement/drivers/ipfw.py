"""`ipfw`: FreeBSD dummynet pipes, as in the paper, locally or through a prefix (`ssh router`).

layout = "rules" (the paper's): for each limited host, a pipe and a rule of the same number
in a reserved range placed before the firewall's own rules:

    ipfw pipe 1000 config bw 3Kbit/s queue 10KBytes
    ipfw add 1000 pipe 1000 ip from any to 10.0.0.7 in recv em0

layout = "table" (scales): one rule per address family sends whatever is in a lookup table
to the pipe that the table entry names, so a subscriber is one table entry:

    ipfw pipe 1000 config bw 3Kbit/s queue 10KBytes mask dst-ip 0xffffffff dst-ip6 /128
    ipfw add 1000 pipe tablearg ip from any to 'table(10)' in recv em0
    ipfw table 10 add 10.0.0.7 1000

There is one pipe per rate in this layout; its mask gives every host its own queue at that
rate (per host), or, with mode = "shared", no mask: every limited subscriber at a rate
shares one pipe, the paper's cure for the excess cost of per-host pipes. In the rules layout,
"shared" points every host's rule at one pipe per rate. Each batch is one `ipfw -q
/dev/stdin` (one ssh round trip); if ipfw refuses it, each subscriber goes alone.

A rate change does not leave a host unlimited: a per-host pipe is reconfigured; a shared
rule's replacement goes in before the old rule comes out (only when the rule range has no
number to spare is the old rule deleted and added again, within the one ipfw run); a
table entry is updated in place, which needs FreeBSD 11 or later (there `table add` under
-q updates an entry that exists; older ipfw ignores it, and the host keeps its old rate).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

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

RULE = re.compile(r"^(\d+)\s+pipe\s+(\d+|tablearg)\s+ip6?\s+from any to (\S+)")
PIPE = re.compile(r"^(\d+):\s+([\d.]+)\s*([KMG]?)bit/s")
TABLE_ENTRY = re.compile(r"^([0-9a-fA-F.:]+)(?:/(\d+))?\s+(\d+)")
SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}


class IpfwOptions(Options):
    external_interface: str = Field(description="where downloads come in (`in recv IF`)")
    layout: Literal["rules", "table"] = "rules"
    mode: Literal["per-host", "shared"] = "per-host"
    rules: tuple[int, int] = Field(default=(1000, 1999), description="reserved rule numbers")
    pipes: tuple[int, int] = Field(default=(1000, 1999), description="reserved pipe numbers")
    table: int = Field(default=10, ge=0, le=65534)
    namespace: str | None = None
    prefix: list[str] = Field(default=[], description="command prefix, e.g. ['ssh', 'router']")
    ipfw: str = "ipfw"

    @model_validator(mode="after")
    def _ranges(self) -> IpfwOptions:
        for name, (low, high) in (("rules", self.rules), ("pipes", self.pipes)):
            if not 1 <= low <= high <= 65534:
                raise ValueError(f"{name}: expected [low, high] within 1..65534, got {[low, high]}")
        return self


@dataclass(frozen=True)
class Entry:
    address: str
    rule: int | None
    pipe: int
    rate_bps: int


class IpfwDriver(Driver):
    type = "ipfw"
    options_model = IpfwOptions
    options: IpfwOptions

    def __init__(self, name: str, options: IpfwOptions) -> None:
        super().__init__(name, options)
        self.run = Command(command_prefix(options.namespace, options.prefix), driver=name)

    # -- what is there ---------------------------------------------------------------------

    def _pipes(self) -> dict[int, int]:
        """Pipe number -> rate (bit/s), for nmsquota's pipe range."""
        low, high = self.options.pipes
        pipes = {}
        for line in self.run(self.options.ipfw, "pipe", "show").splitlines():
            match = PIPE.match(line.strip())
            if match and low <= int(match.group(1)) <= high:
                rate = float(match.group(2)) * SCALE[match.group(3)]
                pipes[int(match.group(1))] = round(rate)
        return pipes

    def _entries(self, pipes: dict[int, int]) -> list[Entry]:
        o = self.options
        entries = []
        if o.layout == "rules":
            out = self.run(o.ipfw, "list", f"{o.rules[0]}-{o.rules[1]}", check=False)
            for line in out.splitlines():
                match = RULE.match(line.strip())
                if match and match.group(2) != "tablearg":
                    pipe = int(match.group(2))
                    entries.append(Entry(normalize_address(match.group(3)), int(match.group(1)),
                                         pipe, pipes.get(pipe, 0)))  # fmt: skip
        else:
            out = self.run(o.ipfw, "table", str(o.table), "list", check=False)
            for line in out.splitlines():
                match = TABLE_ENTRY.match(line.strip())
                if match:
                    address = match.group(1) + (f"/{match.group(2)}" if match.group(2) else "")
                    pipe = int(match.group(3))
                    entries.append(Entry(normalize_address(address), None, pipe,
                                         pipes.get(pipe, 0)))  # fmt: skip
        return entries

    def installed(self) -> list[Limit]:
        entries = self._entries(self._pipes())
        return sorted(Limit("", (e.address,), rate_bps=e.rate_bps) for e in entries)

    # -- changes ---------------------------------------------------------------------------

    def add(self, limits: Sequence[Limit]) -> None:
        o = self.options
        pipes = self._pipes()
        entries = {e.address: e for e in self._entries(pipes)}
        used_rules = {e.rule for e in entries.values() if e.rule is not None}
        used_pipes = set(pipes)
        rate_pipe = {rate: pipe for pipe, rate in sorted(pipes.items(), reverse=True)}
        setup: list[str] = []
        if o.layout == "table" and not self._table_rules_present():
            setup += [f"add {o.rules[0]} pipe tablearg ip from any to 'table({o.table})' in recv "
                      f"{o.external_interface}"]  # fmt: skip
        per_limit: list[tuple[str, list[str]]] = []
        for limit in limits:
            lines: list[str] = []
            for address in map(normalize_address, limit.addresses):
                entry = entries.get(address)
                if entry is not None and entry.rate_bps == limit.rate_bps:
                    continue
                if entry is not None and o.layout == "rules" and o.mode == "per-host":
                    # Its own pipe: reconfigured in place, the limit never lapses.
                    lines.append(self._pipe_config(entry.pipe, limit))
                    continue
                shared_pipe = o.layout == "table" or o.mode == "shared"
                if shared_pipe and limit.rate_bps in rate_pipe:
                    pipe = rate_pipe[limit.rate_bps]
                else:
                    pipe = self._free(used_pipes, o.pipes, "pipe")
                    lines.append(self._pipe_config(pipe, limit))
                    if shared_pipe:
                        rate_pipe[limit.rate_bps] = pipe
                if o.layout == "table":
                    # Under -q, ipfw's table add updates an entry that is there (FreeBSD 11+):
                    # the host moves to the other rate's pipe in place.
                    lines.append(f"table {o.table} add {address} {pipe}")
                    continue
                family = "ip6" if ipaddress.ip_network(address).version == 6 else "ip"
                rule_for = (f"pipe {pipe} {family} from any to {address} in recv "
                            f"{o.external_interface}")  # fmt: skip
                moving = entry is not None and entry.rule is not None
                if moving and len(used_rules) > o.rules[1] - o.rules[0]:
                    # No number to spare for a second rule: the host's own number is reused,
                    # with the old rule gone first (one ipfw run, so for a moment only).
                    lines += [f"delete {entry.rule}", f"add {entry.rule} {rule_for}"]
                    continue
                rule = self._free(used_rules, o.rules, "rule")
                lines.append(f"add {rule} {rule_for}")
                if moving:
                    # Shared pipes: the host's new rule is in before its old one goes, so
                    # one of the two always matches.
                    lines.append(f"delete {entry.rule}")
                    used_rules.discard(entry.rule)
            per_limit.append((limit.subscriber, lines))
        apply_batch(self.name, self._batch, setup, per_limit)

    def remove(self, limits: Sequence[Limit]) -> None:
        o = self.options
        entries = {e.address: e for e in self._entries(self._pipes())}
        per_limit = []
        for limit in limits:
            lines = []
            for address in map(normalize_address, limit.addresses):
                entry = entries.get(address)
                if entry is None:
                    continue
                if o.layout == "table":
                    lines.append(f"table {o.table} delete {address}")
                else:
                    lines.append(f"delete {entry.rule}")
                    if o.mode == "per-host":
                        lines.append(f"pipe {entry.pipe} delete")
            per_limit.append((limit.subscriber, lines))
        apply_batch(self.name, self._batch, [], per_limit)

    def clear(self) -> None:
        """Every rule and pipe in nmsquota's ranges, and its table: nothing else."""
        o = self.options
        lines = []
        if self.run(o.ipfw, "list", f"{o.rules[0]}-{o.rules[1]}", check=False).strip():
            lines.append(f"delete {' '.join(str(n) for n in self._rules_in_range())}")
        lines += [f"pipe {pipe} delete" for pipe in sorted(self._pipes())]
        if o.layout == "table":
            lines.append(f"table {o.table} flush")
        apply_batch(self.name, self._batch, [], [("", lines)])

    def check(self) -> str:
        self.run(self.options.ipfw, "pipe", "show")  # ipfw and dummynet are there
        faults = self.faults()
        if faults:
            raise DriverError(self.name, "; ".join(faults))
        return f"{len(self.installed())} hosts limited"

    def faults(self) -> list[str]:
        """Hosts listed as limited whose traffic nothing holds: their pipe deleted by hand,
        or (table layout) the one rule that sends the table to the pipes. Adding the limits
        again (the default repair) configures the pipes and puts the rule back."""
        o = self.options
        pipes = self._pipes()
        entries = self._entries(pipes)
        found = []
        gone = sorted({entry.pipe for entry in entries if entry.pipe not in pipes})
        if gone:
            found.append(f"pipes gone that hosts are sent to: {', '.join(map(str, gone))}")
        if o.layout == "table" and entries and not self._table_rules_present():
            found.append(f"the rule sending table({o.table}) to its pipes is missing")
        return found

    # -- helpers ---------------------------------------------------------------------------

    def _rules_in_range(self) -> list[int]:
        o = self.options
        out = self.run(o.ipfw, "list", f"{o.rules[0]}-{o.rules[1]}", check=False)
        numbers = {int(line.split()[0]) for line in out.splitlines() if line[:1].isdigit()}
        return sorted(n for n in numbers if o.rules[0] <= n <= o.rules[1])

    def _table_rules_present(self) -> bool:
        return f"table({self.options.table})" in self.run(
            self.options.ipfw, "list", f"{self.options.rules[0]}-{self.options.rules[1]}",
            check=False,
        )  # fmt: skip

    def _pipe_config(self, pipe: int, limit: Limit) -> str:
        rate = limit.rate_bps
        bandwidth = f"{rate // 1000}Kbit/s" if rate % 1000 == 0 else f"{rate}bit/s"
        queue = f"{max(1, math.ceil(limit.queue_bytes / 1024))}KBytes"
        mask = ""
        if self.options.layout == "table" and self.options.mode == "per-host":
            mask = " mask dst-ip 0xffffffff dst-ip6 /128"
        return f"pipe {pipe} config bw {bandwidth} queue {queue}{mask}"

    def _free(self, used: set[int], bounds: tuple[int, int], what: str) -> int:
        for number in range(bounds[0], bounds[1] + 1):
            if number not in used:
                used.add(number)
                return number
        raise DriverError(self.name, f"no free {what} number in {bounds[0]}-{bounds[1]}")

    def _batch(self, lines: list[str]) -> None:
        # One ipfw process reads the commands, one per line, from its standard input.
        self.run(self.options.ipfw, "-q", "/dev/stdin", input="\n".join(lines) + "\n")
