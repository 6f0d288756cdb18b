"""Benchmark of one poll cycle against Net-SNMP snmpd with many subscriber interfaces.

It builds a network namespace (nq-<random>) holding --pairs veth pairs (2 x pairs
interfaces, 1,000 by default), starts --agents snmpd processes in it on different ports (all
serving the same interfaces), and measures, inside the namespace:

* one walk of the poller's counter columns (ifName, ifHCInOctets, ifHCOutOctets) by
  nmsquota against one agent through each transport (pysnmp, netsnmp: Net-SNMP's library
  through netsnmp-cffi), wall and CPU time, and the same columns walked by Net-SNMP's
  snmpbulkwalk with the same max-repetitions, in the same run: the ratios;
* the wall and CPU cost per 1,000 varbinds of each;
* nmsquota's polling cycle (nmsquota/snmp/cycle.py): the first cycle, which walks every
  IF-MIB column it uses, and a usual one, which walks the counters and names; of one agent
  alone and of all agents at once with one engine, against the slowest agent alone
  (target: at most 1.3x), through --transport (pysnmp unless given).

Run as root from the repository root (needs iproute2 and snmpd; takes about a minute):

    .venv/bin/python bench/bench_poll.py
    .venv/bin/python bench/bench_poll.py --pairs 100 --agents 5     # a quick check

Only the namespace the benchmark creates is touched; it is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

COLUMNS = ["1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=500, help="veth pairs (2 interfaces each)")
    parser.add_argument("--agents", type=int, default=20, help="snmpd processes")
    parser.add_argument("--repetitions", type=int, default=25, help="GETBULK max-repetitions")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement")
    parser.add_argument(
        "--transport", default="pysnmp", choices=["pysnmp", "netsnmp"], help="for the cycles"
    )
    parser.add_argument("--inside", metavar="NS", help=argparse.SUPPRESS)
    parser.add_argument("--base-port", type=int, default=17100, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        return measure(args)
    return orchestrate(args)


def orchestrate(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        sys.exit("bench_poll: needs root (it creates a network namespace)")
    for tool in ("ip", "snmpd", "snmpbulkwalk"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            sys.exit(f"bench_poll: {tool} is not installed")
    namespace = f"nq-{secrets.token_hex(3)}-bench"
    workdir = Path(tempfile.mkdtemp(prefix="nmsquota-bench-poll-"))
    agents: list[subprocess.Popen] = []
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        inside = ["ip", "netns", "exec", namespace]
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True)
        batch = workdir / "links.batch"
        batch.write_text(
            "".join(f"link add sub{i} type veth peer name peer{i}\n" for i in range(args.pairs))
        )
        started = time.perf_counter()
        subprocess.run([*inside, "ip", "-batch", str(batch)], check=True)
        print(f"{2 * args.pairs} interfaces made in {time.perf_counter() - started:.1f}s")
        conf = workdir / "snmpd.conf"
        conf.write_text("rocommunity public 127.0.0.1\n")
        snmpd = shutil.which("snmpd") or shutil.which("snmpd", path="/usr/sbin")
        for n in range(args.agents):
            agents.append(
                subprocess.Popen(
                    [
                        *inside,
                        snmpd,
                        "-f",
                        "-Lo",
                        "-C",
                        "-c",
                        str(conf),
                        "-I",
                        "-smux",
                        f"udp:127.0.0.1:{args.base_port + n}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(2)
        command = [
            *inside,
            sys.executable,
            __file__,
            "--inside",
            namespace,
            "--pairs",
            str(args.pairs),
            "--agents",
            str(args.agents),
            "--repetitions",
            str(args.repetitions),
            "--repeats",
            str(args.repeats),
            "--base-port",
            str(args.base_port),
            "--transport",
            args.transport,
        ]
        return subprocess.run(command).returncode
    finally:
        for agent in agents:
            agent.terminate()
        for agent in agents:
            agent.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: argparse.Namespace) -> int:
    from nmsquota.attribution import InterfaceMap, Rule
    from nmsquota.snmp.connect import Transports, open_transport
    from nmsquota.snmp.cycle import Device, poll_devices
    from nmsquota.snmp.walk import Agent

    port = args.base_port
    walker = shutil.which("snmpbulkwalk")
    assert walker

    # Net-SNMP's snmpbulkwalk, one process per column, as an operator would run it.
    net_wall, net_cpu, net_varbinds = [], [], 0
    for _ in range(args.repeats):
        before_cpu, started = cpu_children(), time.perf_counter()
        count = 0
        for column in COLUMNS:
            out = subprocess.run(
                [
                    walker,
                    "-v2c",
                    "-c",
                    "public",
                    "-Cr" + str(args.repetitions),
                    "-On",
                    "-Oq",
                    f"127.0.0.1:{port}",
                    "." + column,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            count += len(out.splitlines())
        net_wall.append(time.perf_counter() - started)
        net_cpu.append(cpu_children() - before_cpu)
        net_varbinds = count

    async def ours_walk(name: str) -> tuple[float, float, int]:
        agent = Agent("a", "127.0.0.1", port, deadline=120, transport=name)
        async with await open_transport(agent) as transport:
            before_cpu, started = cpu_self(), time.perf_counter()
            table = await transport.walk(COLUMNS, max_repetitions=args.repetitions)
            wall, cpu = time.perf_counter() - started, cpu_self() - before_cpu
        return wall, cpu, sum(map(len, table.values()))

    # name -> (median wall, median CPU, varbinds per walk)
    walks: dict[str, tuple[float, float, int]] = {}
    for name in ("pysnmp", "netsnmp"):
        runs = [asyncio.run(ours_walk(name)) for _ in range(args.repeats)]
        walks[name] = (
            statistics.median(w for w, _, _ in runs),
            statistics.median(c for _, c, _ in runs),
            runs[0][2],
        )
    net = (statistics.median(net_wall), statistics.median(net_cpu), net_varbinds)
    walks["snmpbulkwalk"] = net

    mapping = InterfaceMap(rules=[Rule.compile("ifName", r"(?P<user>sub\d+)")])

    async def cycles(ports: list[int]) -> tuple[list[float], list[float]]:
        """Two cycles over the agents, as the daemon runs them: the first walks every
        column, the second (a usual one) the counters and names. Wall time of each, and of
        each agent within it, [total, per agent...]."""
        transports = Transports()
        devices = [
            Device(
                f"a{p}",
                Agent(f"a{p}", "127.0.0.1", p, deadline=300, transport=args.transport),
                mapping,
            )
            for p in ports
        ]
        walls = []
        for _ in range(2):
            started = time.perf_counter()
            results = await poll_devices(transports, devices, time.time(), lambda _: {})
            assert not any(r.error for r in results), [r.error for r in results]
            walls.append([time.perf_counter() - started, *(r.seconds for r in results)])
        return walls[0], walls[1]

    ports = [port + n for n in range(args.agents)]
    first_alone, usual_alone = {}, {}
    for p in ports:
        runs = [asyncio.run(cycles([p])) for _ in range(2)]
        first_alone[p] = statistics.median(first[0] for first, _ in runs)
        usual_alone[p] = statistics.median(usual[0] for _, usual in runs)
    slowest_first, slowest_usual = max(first_alone.values()), max(usual_alone.values())
    before_cpu = cpu_self()
    together = [asyncio.run(cycles(ports)) for _ in range(2)]
    together_cpu = (cpu_self() - before_cpu) / 2
    first_together = statistics.median(first[0] for first, _ in together)
    usual_together = statistics.median(usual[0] for _, usual in together)

    def row(name: str, value: str, note: str = "") -> None:
        print(f"{name:<58} {value:>14}  {note}")

    print(
        f"\nagent: Net-SNMP snmpd, {2 * args.pairs} veth interfaces (+lo), max-repetitions "
        f"{args.repetitions}, medians of {args.repeats} runs"
    )
    row("columns walked", "3", "ifName, ifHCInOctets, ifHCOutOctets")
    row(
        "varbinds per walk (pysnmp / netsnmp / snmpbulkwalk)",
        " / ".join(str(walks[name][2]) for name in walks),
    )
    net_wall_1k = walks["snmpbulkwalk"][0] / net_varbinds * 1e6
    net_cpu_1k = walks["snmpbulkwalk"][1] / net_varbinds * 1e6
    for name, (wall, cpu, _) in walks.items():
        note = "3 processes, one per column" if name == "snmpbulkwalk" else "one walk, 3 columns"
        row(f"walk wall / CPU time, {name}", f"{wall * 1000:.0f} / {cpu * 1000:.0f} ms", note)
    for name, (wall, cpu, varbinds) in walks.items():
        wall_1k, cpu_1k = wall / varbinds * 1e6, cpu / varbinds * 1e6
        row(
            f"per 1,000 varbinds, wall / CPU, {name}",
            f"{wall_1k:.1f} / {cpu_1k:.1f} ms",
            f"{wall_1k / net_wall_1k:.2f}x / {cpu_1k / net_cpu_1k:.2f}x snmpbulkwalk's",
        )
    row("cycles below through", args.transport)
    row(
        f"first cycle (every column), one agent alone, slowest of {args.agents}",
        f"{slowest_first * 1000:.0f} ms",
    )
    row(
        f"usual cycle (counters + names), one agent alone, slowest of {args.agents}",
        f"{slowest_usual * 1000:.0f} ms",
    )
    row(
        f"first cycle of all {args.agents} agents at once, one engine",
        f"{first_together * 1000:.0f} ms",
    )
    row(
        f"usual cycle of all {args.agents} agents at once, one engine",
        f"{usual_together * 1000:.0f} ms",
        f"CPU of both cycles {together_cpu * 1000:.0f} ms",
    )
    row("first: all at once / slowest alone", f"{first_together / slowest_first:.2f}")
    row(
        "usual: all at once / slowest alone (target <= 1.3)",
        f"{usual_together / slowest_usual:.2f}",
    )
    row(
        "usual: all at once / (agents x slowest alone / cores)",
        f"{usual_together / (args.agents * slowest_usual / (os.cpu_count() or 1)):.2f}",
        "1.0 = every core busy all the time",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
