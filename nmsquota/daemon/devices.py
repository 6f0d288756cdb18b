"""The configured access servers as the poller's devices: the one place that reads the
configuration's `[access_servers]` for nmsquota.snmp, which takes plain settings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from nmsquota.attribution import InterfaceMap, Rule
from nmsquota.config import AccessServer, Config
from nmsquota.snmp.cycle import Device
from nmsquota.snmp.profile import Profile
from nmsquota.snmp.profiles import load
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
        source=_profile(config, server.profile) if server.profile else server.source,
        download=server.download,
        speed_override_bps=server.speed_override,
        identity_refresh=server.identity_refresh,
        learn_addresses=server.learn_addresses,
    )


def _profile(config: Config, path: str) -> Profile:
    """An operator's profile file, relative to the configuration's directory (ProfileError,
    a UsageError naming the file and key, if it cannot be used)."""
    where = Path(path).expanduser()
    if not where.is_absolute():
        where = config.path.parent / where
    return load(where)


def devices_from(config: Config, names: Iterable[str] | None = None) -> list[Device]:
    servers = config.settings.access_servers
    return [device_from(config, n, servers[n]) for n in (names or servers)]
