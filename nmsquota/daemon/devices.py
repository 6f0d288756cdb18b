"""The configured access servers as the poller's devices: the one place that reads the
configuration's `[access_servers]` for nmsquota.snmp, which takes plain settings."""

from __future__ import annotations

from collections.abc import Iterable

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.config import AccessServer, Config
from nmsquota.snmp.cycle import Device
from nmsquota.snmp.walk import Agent


def device_from(config: Config, name: str, server: AccessServer) -> Device:
    agent = Agent(
        name,
        server.host,
        server.port,
        server.version,
        config.secret(server.community) or "public",
        server.timeout,
        server.retries,
        server.deadline,
        user=server.user or "",
        auth_protocol=server.auth,
        auth_key=config.secret(server.auth_key),
        priv_protocol=server.priv,
        priv_key=config.secret(server.priv_key),
        max_repetitions=server.max_repetitions,
        bulk=server.bulk,
        transport=server.transport,
    )
    mapping = InterfaceMap(
        rules=[Rule.compile(m.field, m.pattern) for m in server.match],
        static=server.interfaces,
    )
    return Device(
        name,
        agent,
        mapping,
        source=server.source,
        download=server.download,
        speed_override_bps=server.speed_override,
        identity_refresh=server.identity_refresh,
        learn_addresses=server.learn_addresses,
    )


def devices_from(config: Config, names: Iterable[str] | None = None) -> list[Device]:
    servers = config.settings.access_servers
    return [device_from(config, n, servers[n]) for n in (names or servers)]
