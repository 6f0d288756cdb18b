"""Opening an agent's transport: the one place that knows which implementations there are.

An agent with a local table (the simulator's) is read in-process; any other through the
library its configuration names (Agent.transport), over the walk logic they all share.
"""

from __future__ import annotations

from typing import Any

from nmsquota.snmp.local import LocalTransport
from nmsquota.snmp.pysnmp_transport import PysnmpRequests, new_engine
from nmsquota.snmp.transport import Agent, SnmpError, Transport
from nmsquota.snmp.walk import Walker

TRANSPORTS = ("pysnmp", "netsnmp")
"""The libraries an agent's requests may be sent with, by the name that picks them."""


class Transports:
    """Opens the transport of each agent polled in one event loop (transport.Opener). It
    holds what they share: pysnmp's engine, made in the loop at the first use unless given
    (the daemon's, which also sends its traps)."""

    def __init__(self, engine: Any = None) -> None:
        self._engine = engine

    async def open(self, agent: Agent) -> Transport:
        if agent.local is not None:
            return LocalTransport(agent, agent.local)
        if agent.transport == "pysnmp":
            if self._engine is None:
                self._engine = new_engine()
            return Walker(agent, await PysnmpRequests.open(self._engine, agent))
        if agent.transport == "netsnmp":
            # Imported here: only a configuration that names it loads Net-SNMP's C library
            # (an optional extra; the configuration's check says when it is missing).
            from nmsquota.snmp.netsnmp_transport import NetsnmpRequests

            return Walker(agent, await NetsnmpRequests.open(agent))
        raise SnmpError(
            f"{agent.where}: unknown transport {agent.transport!r} "
            f"(one of: {', '.join(TRANSPORTS)})"
        )


async def open_transport(agent: Agent) -> Transport:
    """One agent's transport, on its own engine (a command or a test that reads one agent)."""
    return await Transports().open(agent)
