"""SNMPv2c traps to the operator's managers: the poller's engine sends what it is given.

Which notification and which objects is NMSQUOTA-MIB's business (nmsquota.nms.mib); here
only the wire: sysUpTime.0 and snmpTrapOID.0 first (RFC 3416 4.2.6), then the objects, to
each receiver, fire and forget (a trap has no answer to wait for).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    send_notification,
)
from pysnmp.proto.rfc1902 import Counter64, Gauge32, Integer32, ObjectName, OctetString, TimeTicks

log = logging.getLogger(__name__)

SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
TrapType = Literal["integer", "gauge", "counter64", "string"]
TrapBinding = tuple[tuple[int, ...], TrapType, int | str]
"""An object instance's OID, its type and value."""
_TYPES = {"integer": Integer32, "gauge": Gauge32, "counter64": Counter64, "string": OctetString}


def _dotted(oid: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in oid)


async def send_trap(engine: SnmpEngine, receivers: Sequence[tuple[str, int]], community: str,
                    uptime_seconds: float, trap: tuple[int, ...],
                    bindings: Sequence[TrapBinding]) -> list[str]:  # fmt: skip
    """Send one SNMPv2c trap to every receiver. Returns what failed, one line each (also
    logged): a receiver that cannot be reached costs nothing else."""
    objects = [
        ObjectType(ObjectIdentity(SYS_UP_TIME), TimeTicks(int(uptime_seconds * 100) % 2**32)),
        ObjectType(ObjectIdentity(SNMP_TRAP_OID), ObjectName(_dotted(trap))),
        *(ObjectType(ObjectIdentity(_dotted(oid)), _TYPES[kind](value))
          for oid, kind, value in bindings),
    ]  # fmt: skip
    failed = []
    auth = CommunityData(community, mpModel=1)
    for host, port in receivers:
        error: object
        try:
            target = await UdpTransportTarget.create((host, port), timeout=1, retries=0)
            error, *_ = await send_notification(engine, auth, target, ContextData(), "trap",
                                                *objects)  # fmt: skip
        except (PySnmpError, OSError) as exc:  # a name that does not resolve, no route
            error = exc
        if error:
            failed.append(f"trap to {host}:{port}: {error}")
            log.warning("%s", failed[-1])
    return failed
