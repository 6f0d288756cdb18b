"""Benchmark: the poller under load (issue 27). N Net-SNMP snmpd agents, one access server
each, all serving the same 501 interfaces; `nmsquota run` against one snmpbulkwalk per agent
and column, all in parallel (the way LibreNMS polls).

The rig: a namespace nq-<random>-load holding the agents and one end of --pairs veth pairs
(500: 500 interfaces sub0..sub499, plus lo = 501); the other ends wait in a second namespace
nq-<random>-peers, so the agents serve 501 interfaces, not 1,001. Both are deleted at the end,
also on an error, Ctrl-C or SIGTERM. Nothing outside them is touched; the only processes
stopped are the ones this script started, by PID.

For each N of --agents: start N snmpd, wait until each answers, then
* snmpbulkwalk: one process per agent and column (ifName, ifHCInOctets, ifHCOutOctets,
  -Cr --repetitions), all started at once, --repeats times: wall and CPU of the round;
* nmsquota: `nmsquota run --cycles K` (K = --cycles) on a fresh ledger in a temporary
  directory, its configuration naming the N agents (sub0..sub499 on one plan, the product's
  own defaults for timeouts, deadlines and concurrency) at --interval; for each cycle, its
  seconds and devices answered / failed / skipped from the daemon's log, the failures by
  cause, and `nmsquota status --json` after the run;
* the CPU seconds of each (nmsquota's process; all snmpbulkwalks of a round; the agents
  meanwhile) and the 1-minute load average when each measurement started: this machine is
  shared, and a busy neighbour shows there.

Run as root from the repository root (needs ip, snmpd, snmpget and snmpbulkwalk):

    sudo .venv/bin/python bench/bench_load.py --agents 30 40          # the issue's rows
    sudo .venv/bin/python bench/bench_load.py --agents 40 --cycles 3 --interval 40s
    sudo .venv/bin/python bench/bench_load.py --agents 40 --workers 2   # over 2 processes
    git archive COMMIT nmsquota | tar -x -C /tmp/before              # another version's:
    sudo .venv/bin/python bench/bench_load.py --agents 40 --code /tmp/before
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_overshoot_ns import daemon  # noqa: E402
from conftest import Namespaces, snmpd_command  # noqa: E402
from fixtures.config_file import access_server, if_name, write_config  # noqa: E402

COLUMNS = {
    "ifName": ".1.3.6.1.2.1.31.1.1.1.1",
    "ifHCInOctets": ".1.3.6.1.2.1.31.1.1.1.6",
    "ifHCOutOctets": ".1.3.6.1.2.1.31.1.1.1.10",
}
BASE_PORT = 17300
KNOWN_CYCLE_FIELDS = {
    "number",
    "started",
    "due",
    "seconds",
    "devices_ok",
    "devices_failed",
    "limited",
    "changed",
    "drivers",
    "no_plan",
    "not_effective",
    "skipped",
    "lateness",
    "interval",
    "updated",
}
"""The fields of `status --json`'s cycle before issue 27."""
CYCLE_LINE = re.compile(r"cycle (\d+): ([\d.]+)s, .*?(\d+)/(\d+) devices answered(.*)$")


@dataclass
class Walks:
    """One round of snmpbulkwalks, all at once."""

    load: float
    seconds: float
    cpu: float
    varbinds: int
    failed: int


@dataclass
class Cycle:
    """One nmsquota cycle as its log line tells it."""

    number: int
    seconds: float
    answered: int
    devices: int
    rest: str  # what the log line says after "devices answered" (skipped, limited, ...)


@dataclass
class Run:
    """One `nmsquota run --cycles K`."""

    load: float
    wall: float
    cpu: float
    agents_cpu: float
    others_cpu: float  # the machine's busy CPU time during the run that was neither
    exit_status: int
    cycles: list[Cycle]
    failures: dict[str, int]  # cause (the error without the device's name) -> devices
    status: dict[str, Any] = field(default_factory=dict)  # `status --json`'s last cycle


@dataclass
class Row:
    agents: int
    interfaces: int
    walks: list[Walks]
    run: Run
    agents_idle: float  # CPU cores the agents use while nobody asks them anything


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--agents",
        type=int,
        nargs="+",
        default=[30, 40],
        help="numbers of agents, one measurement each (default: 30 40)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=500,
        help="veth pairs: the agents serve this many interfaces, plus lo",
    )
    parser.add_argument("--cycles", type=int, default=1, help="cycles of `nmsquota run`")
    parser.add_argument("--interval", default="5m", help="the configuration's interval")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of snmpbulkwalk")
    parser.add_argument(
        "--repetitions",
        type=int,
        default=25,
        help="snmpbulkwalk's -Cr (nmsquota's own default max_repetitions)",
    )
    parser.add_argument(
        "--transport",
        choices=["pysnmp", "netsnmp"],
        default="pysnmp",
        help="each access server's SNMP transport (default pysnmp, the product's default)",
    )
    parser.add_argument(
        "--workers",
        type=lambda text: text if text == "auto" else int(text),
        help='poll_workers in the configuration: a number or "auto" (default: left out, the '
        "product's default)",
    )
    parser.add_argument("--code", type=Path, help="run the nmsquota package in this directory")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--walk-inside", nargs="+", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.walk_inside:
        return walk_inside(args.walk_inside, args.repetitions)
    problem = unusable(args)
    if problem:
        print(f"bench_load: {problem}", file=sys.stderr)
        return 2
    # Ctrl-C raises KeyboardInterrupt; SIGTERM and SIGHUP do the same, so the namespaces
    # and agents are cleaned up by the `finally` below whichever way the run is stopped.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    rows: list[Row] = []
    spaces = Namespaces()
    try:
        agents_ns = spaces.add("load")
        peers_ns = spaces.add("peers")
        interfaces = make_interfaces(spaces, agents_ns, peers_ns, args.pairs)
        print(f"namespace {agents_ns}: {interfaces} interfaces", flush=True)
        for count in args.agents:
            rows.append(measure(spaces, agents_ns, count, interfaces, args))
        status = 0
    except KeyboardInterrupt:
        print("bench_load: stopped; cleaning up", file=sys.stderr)
        status = 130
    finally:
        spaces.close()
        # The rows measured so far, also when a later one failed or was stopped.
        print_table(rows, args)
        if args.json:
            args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))
    return status


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def unusable(args: argparse.Namespace) -> str | None:
    if os.geteuid() != 0:
        return "needs root (it creates network namespaces)"
    for tool in ("ip", "snmpd", "snmpget", "snmpbulkwalk", "sysctl"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")):
            return f"{tool} is not installed"
    if any(n < 1 for n in args.agents) or args.cycles < 1 or args.repeats < 1 or args.pairs < 1:
        return "--agents, --cycles, --repeats and --pairs take numbers of 1 or more"
    if max(args.agents) > 1000:
        return "--agents: at most 1000"
    if args.code is not None and not (args.code / "nmsquota" / "__init__.py").is_file():
        return f"--code {args.code}: no nmsquota package there"
    return None


def make_interfaces(spaces: Namespaces, agents_ns: str, peers_ns: str, pairs: int) -> int:
    """`pairs` veth pairs in one `ip -batch` (FIELD-NOTES: far faster than one call each):
    sub<i> where the agents run, peer<i> in the peers' namespace. Returns the interfaces the
    agents serve."""
    with tempfile.NamedTemporaryFile("w", suffix=".batch") as batch:
        batch.writelines(
            f"link add sub{i} type veth peer name peer{i} netns {peers_ns}\n" for i in range(pairs)
        )
        batch.flush()
        spaces.run(agents_ns, "ip", "-batch", batch.name)
    return len(spaces.run(agents_ns, "ip", "-o", "link", "show").splitlines())


def measure(
    spaces: Namespaces, namespace: str, count: int, interfaces: int, args: argparse.Namespace
) -> Row:
    with tempfile.TemporaryDirectory(prefix="nmsquota-bench-load-") as scratch:
        directory = Path(scratch)
        ports = [BASE_PORT + n for n in range(count)]
        agents = start_agents(spaces, namespace, ports, directory)
        try:
            print(f"\n{count} agents x {interfaces} interfaces", flush=True)
            idle = agents_idle(agents)
            print(f"  agents alone: {idle:.2f} CPU cores", flush=True)
            walks = [walk_round(spaces, namespace, ports, args.repetitions)]
            run = nmsquota_run(spaces, namespace, ports, agents, directory, args)
            walks += [
                walk_round(spaces, namespace, ports, args.repetitions)
                for _ in range(args.repeats - 1)
            ]
        finally:
            stop(spaces, agents)
    for w in walks:
        print(
            f"  snmpbulkwalk x {3 * count}: {w.seconds:.2f}s, CPU {w.cpu:.2f}s, "
            f"{w.varbinds} varbinds, {w.failed} failed (load {w.load:.2f})"
        )
    return Row(count, interfaces, walks, run, idle)


def agents_idle(agents: list[subprocess.Popen[bytes]], seconds: float = 5.0) -> float:
    """The agents' own CPU load while nobody polls them (snmpd refreshes its interface
    caches on a timer): on this machine they share the cores with the poller they serve."""
    pids = [agent.pid for agent in agents]
    before = cpu_of(pids)
    time.sleep(seconds)
    return (cpu_of(pids) - before) / seconds


def start_agents(
    spaces: Namespaces, namespace: str, ports: list[int], directory: Path
) -> list[subprocess.Popen[bytes]]:
    conf = directory / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\n")
    agents = [
        spaces.start(
            namespace,
            *snmpd_command(conf, port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    # Each agent answers once before anything is timed (it also fills snmpd's caches).
    waiting = set(ports)
    until = time.monotonic() + 60 + len(ports) / 2
    while waiting and time.monotonic() < until:
        for port in sorted(waiting):
            try:
                spaces.run(
                    namespace,
                    "snmpget",
                    "-v2c",
                    "-c",
                    "public",
                    "-t",
                    "1",
                    "-r",
                    "0",
                    f"127.0.0.1:{port}",
                    ".1.3.6.1.2.1.1.3.0",
                )
                waiting.discard(port)
            except RuntimeError:
                pass
        if any(agent.poll() is not None for agent in agents):
            raise RuntimeError("an snmpd exited at start (port in use?)")
    if waiting:
        raise RuntimeError(f"{len(waiting)} agents never answered")
    return agents


def stop(spaces: Namespaces, processes: list[subprocess.Popen[bytes]]) -> None:
    """Stops the given processes (ours: each by its PID) and forgets them."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        spaces.processes.remove(process)


def cpu_of(pids: list[int]) -> float:
    """CPU seconds the given live processes have used so far (user + system)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def busy_cpu() -> float:
    """CPU seconds this machine has been busy (all cores, all processes), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def walk_round(spaces: Namespaces, namespace: str, ports: list[int], repetitions: int) -> Walks:
    """One snmpbulkwalk per agent and column, all at once, timed inside the namespace (by
    this script run there with --walk-inside), so `ip netns exec` is not in the figure."""
    load = os.getloadavg()[0]
    walker = spaces.start(
        namespace,
        sys.executable,
        __file__,
        "--repetitions",
        str(repetitions),
        "--walk-inside",
        *map(str, ports),
        stdout=subprocess.PIPE,
    )
    try:
        # No short timeout: under a heavy load a round of hundreds of walks takes minutes.
        out, _ = walker.communicate(timeout=1800)
    finally:
        stop(spaces, [walker])  # on an error, SIGTERM: it stops its walks (walk_inside)
    return Walks(load=load, **json.loads(out))


def walk_inside(ports: list[int], repetitions: int) -> int:
    walker = shutil.which("snmpbulkwalk") or "snmpbulkwalk"
    processes: list[subprocess.Popen[bytes]] = []

    def give_up(signum: int, frame: object) -> None:
        for process in processes:
            process.kill()
        sys.exit(1)

    signal.signal(signal.SIGTERM, give_up)
    with tempfile.TemporaryDirectory(prefix="nmsquota-bench-walks-") as scratch:
        # Output to files, not pipes: a walk never waits for this process to read it.
        targets = [(port, oid) for port in ports for oid in COLUMNS.values()]
        outputs = [Path(scratch) / f"{port}{oid}" for port, oid in targets]
        cpu, started = children_cpu(), time.perf_counter()
        for output, (port, oid) in zip(outputs, targets, strict=True):
            argv = [walker, "-v2c", "-c", "public", f"-Cr{repetitions}", "-On", "-Oq"]
            with output.open("wb") as sink:
                processes.append(
                    subprocess.Popen(
                        [*argv, f"127.0.0.1:{port}", oid], stdout=sink, stderr=subprocess.DEVNULL
                    )
                )
        failed = sum(process.wait() != 0 for process in processes)
        seconds = time.perf_counter() - started
        cpu = children_cpu() - cpu
        varbinds = sum(output.read_bytes().count(b"\n") for output in outputs)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "varbinds": varbinds, "failed": failed}))
    return 0


def nmsquota_run(
    spaces: Namespaces,
    namespace: str,
    ports: list[int],
    agents: list[subprocess.Popen[bytes]],
    directory: Path,
    args: argparse.Namespace,
) -> Run:
    pairs = args.pairs
    config = write_config(
        directory,
        interval=args.interval,
        plans={"home": {"cap": "1TB", "window": "1d"}},
        subscribers={f"sub{i}": {"plan": "home"} for i in range(pairs)},
        access_servers={
            f"bras{port - BASE_PORT:03d}": access_server(
                port, match=[if_name(r"(?P<user>sub\d+)")], **transport_of(args)
            )
            for port in ports
        },
        **({} if args.workers is None else {"poll_workers": args.workers}),
    )
    log = directory / "nmsquota.log"
    command = [*daemon(args.code), "-c", str(config)]
    load, agents_cpu = os.getloadavg()[0], cpu_of([a.pid for a in agents])
    cpu, busy, started = children_cpu(), busy_cpu(), time.perf_counter()
    # `ip netns exec` execs nmsquota in its own place: the PID is nmsquota's, and its CPU is
    # counted in this process's children once it is waited for.
    with (directory / "stderr").open("w") as stderr:
        process = spaces.start(
            namespace,
            *command,
            "run",
            "--cycles",
            str(args.cycles),
            "--log-file",
            str(log),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            exit_status = process.wait()
        finally:
            stop(spaces, [process])
    said = (directory / "stderr").read_text().strip()
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    agents_cpu = cpu_of([a.pid for a in agents]) - agents_cpu
    # What the neighbours took meanwhile (other helpers' tests on a shared machine): the
    # honest measure of noise, which the load average, a minute behind, is not.
    others_cpu = max(0.0, busy_cpu() - busy - cpu - agents_cpu)
    text = log.read_text() if log.exists() else ""
    cycles = [
        Cycle(int(m[1]), float(m[2]), int(m[3]), int(m[4]), m[5].strip("; "))
        for m in map(CYCLE_LINE.search, text.splitlines())
        if m
    ]
    failures = collections.Counter(
        re.sub(r"\bbras\d+ \([^)]*\)|\bbras\d+\b", "DEVICE", line.split(": ", 1)[-1])
        for line in text.splitlines()
        if re.search(r"WARNING .*\bbras\d+\b", line)
    )
    status = subprocess.run(
        [*daemon(args.code), "-c", str(config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        state = json.loads(status.stdout).get("cycle") or {}
    except json.JSONDecodeError:
        state = {"error": status.stderr.strip()[-300:]}
    # What the last cycle's record holds beyond today's fields (counts by cause, CPU, ...,
    # once the poller records them): shown as they are, so a rerun after a change needs no
    # change here.
    news = {key: value for key, value in state.items() if key not in KNOWN_CYCLE_FIELDS}
    for c in cycles:
        print(
            f"  nmsquota cycle {c.number}: {c.seconds:.1f}s, {c.answered}/{c.devices} "
            f"answered; {c.rest}",
            flush=True,
        )
    print(
        f"  nmsquota run: {wall:.1f}s, CPU {cpu:.1f}s, agents' CPU {agents_cpu:.1f}s, "
        f"others' CPU {others_cpu:.1f}s, exit {exit_status} (load {load:.2f})",
        flush=True,
    )
    if said:
        print(f"    it said: {said[:160]}")
    for cause, devices in failures.most_common(5):
        print(f"    {devices} x {cause[:150]}")
    for key, value in news.items():
        print(f"    status --json cycle.{key}: {json.dumps(value)[:300]}")
    return Run(load, wall, cpu, agents_cpu, others_cpu, exit_status, cycles, dict(failures), state)


def transport_of(args: argparse.Namespace) -> dict[str, str]:
    """The access servers' transport key: left out for pysnmp, so a --code older than the
    transport seam still reads the configuration."""
    return {"transport": args.transport} if args.transport != "pysnmp" else {}


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    if not rows:
        return
    code = args.code or REPO
    print(
        f"\nnmsquota from {code}, transport {args.transport}, interval {args.interval}, "
        f"--cycles {args.cycles}, "
        f"poll_workers {args.workers if args.workers is not None else 'default'}; "
        f"snmpbulkwalk -Cr{args.repetitions}, {args.repeats} rounds; load = 1-minute load "
        f"average when the measurement started; CPU in the nmsquota run: its own, the agents' "
        "and everything else's on the machine (others'); "
        f"agents alone = the cores they use unpolled; {os.cpu_count()} CPUs\n"
    )
    print(
        "| agents x interfaces | nmsquota cycle | answered | nmsquota CPU | agents' CPU "
        "| others' CPU | load | snmpbulkwalk, all in parallel | its CPU | load | agents alone |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        cycles = row.run.cycles
        seconds = ", ".join(f"{c.seconds:.1f} s" for c in cycles) or "no cycle logged"
        answered = ", ".join(f"{c.answered} of {c.devices}" for c in cycles) or "-"
        walls = [w.seconds for w in row.walks]
        cpus = [w.cpu for w in row.walks]
        loads = [w.load for w in row.walks]
        print(
            f"| {row.agents} x {row.interfaces} | {seconds} | {answered} "
            f"| {row.run.cpu:.1f} s | {row.run.agents_cpu:.1f} s | {row.run.others_cpu:.1f} s "
            f"| {row.run.load:.2f} "
            f"| {span(walls, 's')} | {span(cpus, 's')} | {span(loads, '')} "
            f"| {row.agents_idle:.2f} cores |"
        )


def span(values: list[float], unit: str) -> str:
    low, high = min(values), max(values)
    text = f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"
    return f"{text} {unit}".strip()


if __name__ == "__main__":
    raise SystemExit(main())
