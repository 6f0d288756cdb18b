"""Where each subscriber was last seen: learned from each poll and from ip-up/ip-down (the
paper's named socket), and what a driver may key on (address, access server, interface,
session)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from nmsquota.attribution import SessionKey
from nmsquota.snmp.cycle import DeviceResult

log = logging.getLogger("nmsquota.daemon")


@dataclass
class Session:
    """Where a subscriber was last seen: what a driver may key on."""

    access_server: str = ""
    interface: str = ""
    session: str = ""
    addresses: tuple[str, ...] = ()


@dataclass
class Sessions:
    seen: dict[str, Session] = field(default_factory=dict)
    """Subscriber -> where they were last seen."""
    logins: dict[str, str] = field(default_factory=dict)
    """Interface -> login, from ip-up/ip-down. The devices' interface maps share this dict,
    so a session event reaches the next poll without a reload."""
    keys: dict[str, list[tuple[str, SessionKey]]] = field(default_factory=dict)
    """Subscriber -> (device, session key) of each session the last polls found: what a
    targeted look GETs."""
    on_device: dict[str, set[str]] = field(default_factory=dict)
    """Device -> the subscribers its last poll found: a device's answer replaces only their
    keys (looking through every subscriber's for each device made a cycle cost devices x
    subscribers: 3 of a 40-device cycle's 8 CPU seconds)."""

    def online(self) -> set[str]:
        """Who has a session now: found by the last poll of their access server, or told
        of by ip-up (and not yet by ip-down)."""
        return {name for name, keys in self.keys.items() if keys} | set(self.logins.values())

    def knows(self, login: str) -> bool:
        """Whether the daemon knows a session of `login`: told of by ip-up, or seen on an
        access server since it started."""
        return login in self.seen or login in self.logins.values()

    def get(self, subscriber: str) -> Session:
        return self.seen.get(subscriber, Session())

    def learn(self, result: DeviceResult) -> None:
        """Take what a device's poll says about who is where (it answered)."""
        assert result.poll is not None
        for name in self.on_device.pop(result.device, ()):
            self.keys[name] = [(d, k) for d, k in self.keys.get(name, ()) if d != result.device]
        found = self.on_device[result.device] = set()
        for key, _ in result.poll.readings:
            self.keys.setdefault(key.subscriber, []).append((result.device, key))
            found.add(key.subscriber)
            self.seen[key.subscriber] = Session(
                key.access_server, key.interface, key.session,
                tuple(result.poll.addresses.get(key.subscriber, ())),
            )  # fmt: skip

    def event(self, event: str, interface: str, login: str, address: str) -> None:
        """A session started ("up") or ended ("down") on `interface`."""
        seen = self.get(login)
        addresses = [a for a in seen.addresses if a != address]
        if event == "up":
            self.logins[interface] = login
            addresses.append(address)
        else:
            if self.logins.get(interface) == login:
                del self.logins[interface]
            # The session a poll found on that interface ended too: without its key the
            # subscriber is offline now, as ip-down says, not only once the next poll
            # misses it (which would tell the event log a second time).
            if login in self.keys:
                self.keys[login] = [(d, k) for d, k in self.keys[login] if k.interface != interface]
        self.seen[login] = replace(seen, interface=interface, addresses=tuple(addresses))
        log.info("session %s: %s on %s (%s)", event, login, interface, address)

    def device_keys(self, subscriber: str) -> dict[str, list[Any]]:
        """A subscriber's session keys by the device they are on."""
        by_device: dict[str, list[Any]] = {}
        for device, key in self.keys.get(subscriber, ()):
            by_device.setdefault(device, []).append(key)
        return by_device
