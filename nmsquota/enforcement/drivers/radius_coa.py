"""`radius_coa`: RFC 5176 CoA-Requests to the NAS to apply and lift a limit per session.

The request names the session with the `identify` attributes (by default User-Name and
Acct-Session-Id, filled from the limit) and carries the `apply` attributes to limit it or
the `lift` ones to restore it, e.g. for MikroTik:

    options = { host = "192.0.2.1", secret = { secret = "nas1" },
                apply = { Mikrotik-Rate-Limit = "{rate_kbit}k/{rate_kbit}k" },
                lift = { Mikrotik-Rate-Limit = "100M/100M" } }

or for Cisco, `apply = { Cisco-AVPair = ["subscriber:sub-qos-policy-out=LIMITED"] }`.
Placeholders as in the exec driver. A CoA-NAK is an error naming the subscriber (with its
Error-Cause), and so is a NAS that does not answer within timeout x (retries + 1). A NAS
cannot be asked what it has applied, so the driver remembers what it applied (and, with
`state_file`, across restarts). Message encoding and authenticators: pyrad.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Sequence
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from nmsquota.enforcement.driver import (
    Driver,
    DriverError,
    Limit,
    Options,
    check_placeholders,
    template_fields,
)

ERROR_CAUSES = {
    401: "Unsupported Attribute", 403: "NAS Identification Mismatch", 404: "Invalid Request",
    503: "Session Context Not Found", 504: "Session Context Not Removable",
    506: "Resources Unavailable",
}  # fmt: skip

Template = str | list[str]


class RadiusCoaOptions(Options):
    host: str
    port: int = Field(default=3799, ge=1, le=65535)
    secret: str = Field(min_length=1)
    timeout: float = Field(default=3.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    identify: dict[str, Template] = Field(
        default={"User-Name": "{subscriber}", "Acct-Session-Id": "{session}"},
        description="the attributes that name the session to the NAS",
    )
    apply: dict[str, Template] = Field(min_length=1)
    lift: dict[str, Template] = Field(min_length=1)
    dictionary: Path | None = Field(default=None, description="more attributes (FreeRADIUS)")
    state_file: Path | None = None

    @field_validator("identify", "apply", "lift")
    @classmethod
    def _placeholders(cls, attributes: dict[str, Template]) -> dict[str, Template]:
        check_placeholders(
            value for values in attributes.values()
            for value in ([values] if isinstance(values, str) else values)
        )  # fmt: skip
        return attributes


class RadiusCoaDriver(Driver):
    type = "radius_coa"
    options_model = RadiusCoaOptions
    options: RadiusCoaOptions

    def __init__(self, name: str, options: RadiusCoaOptions) -> None:
        super().__init__(name, options)
        from pyrad.client import Client
        from pyrad.dictionary import Dictionary

        files = [str(resources.files("nmsquota") / "data" / "radius.dictionary")]
        if options.dictionary is not None:
            files.append(str(options.dictionary))
        self.dictionary = Dictionary(*files)
        for attribute in [*options.identify, *options.apply, *options.lift]:
            if attribute not in self.dictionary.attributes:
                raise DriverError(name, f"unknown RADIUS attribute {attribute!r} (add it with "
                                  "the dictionary option)")  # fmt: skip
        self.client = Client(server=options.host, coaport=options.port,
                             secret=options.secret.encode(), dict=self.dictionary,
                             retries=options.retries + 1, timeout=options.timeout)  # fmt: skip
        self._applied: dict[str, Limit] = self._load()

    # -- state: what was applied -----------------------------------------------------------

    def _load(self) -> dict[str, Limit]:
        path = self.options.state_file
        if path is None or not path.exists():
            return {}
        try:
            raw = json.loads(path.read_text())
            return {key: Limit(**{**fields, "addresses": tuple(fields["addresses"])})
                    for key, fields in raw.items()}  # fmt: skip
        except (ValueError, TypeError, KeyError) as error:
            raise DriverError(self.name, f"state file {path} is unreadable: {error}") from None

    def _save(self) -> None:
        path = self.options.state_file
        if path is None:
            return
        data = {key: asdict(limit) for key, limit in sorted(self._applied.items())}
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=1, default=list))
        os.replace(temporary, path)

    @staticmethod
    def _key(limit: Limit) -> str:
        return f"{limit.access_server}\t{limit.subscriber}\t{limit.session}"

    # -- the driver ------------------------------------------------------------------------

    def add(self, limits: Sequence[Limit]) -> None:
        self._send(limits, self.options.apply, applying=True)

    def remove(self, limits: Sequence[Limit]) -> None:
        self._send(limits, self.options.lift, applying=False)

    def installed(self) -> list[Limit]:
        return sorted(self._applied.values())

    def clear(self) -> None:
        self.remove(list(self._applied.values()))

    def keys(self, limit: Limit) -> list[Hashable]:
        return [self._key(limit)]

    def needs_addresses(self) -> bool:
        return False

    def _send(
        self, limits: Sequence[Limit], attributes: dict[str, Template], applying: bool
    ) -> None:
        from pyrad import packet
        from pyrad.client import Timeout

        failed = {}
        for limit in limits:
            request = self.client.CreateCoAPacket(code=packet.CoARequest)
            fields = template_fields(limit, limit.addresses[0] if limit.addresses else "")
            for attribute, template in [*self.options.identify.items(), *attributes.items()]:
                for value in [template] if isinstance(template, str) else template:
                    filled = value.format_map(fields)
                    if filled:
                        request.AddAttribute(attribute, filled)
            try:
                reply = self.client.SendPacket(request)
            except Timeout:
                failed[limit.subscriber] = (
                    f"no answer from {self.options.host}:{self.options.port} within "
                    f"{self.options.timeout * (self.options.retries + 1):g}s"
                )
                continue
            except OSError as error:
                failed[limit.subscriber] = f"cannot send to {self.options.host}: {error}"
                continue
            if reply.code != packet.CoAACK:
                failed[limit.subscriber] = "CoA-NAK" + _cause(reply)
                continue
            if applying:
                self._applied[self._key(limit)] = limit
            else:
                self._applied.pop(self._key(limit), None)
        self._save()
        if failed:
            raise DriverError(self.name, f"{len(failed)} of {len(limits)} not done", failed)


def _cause(reply: Any) -> str:
    causes = reply.get("Error-Cause") or reply.get(101) or []
    if not causes:
        return ""
    cause = int(causes[0]) if not isinstance(causes[0], bytes) else int.from_bytes(causes[0])
    return f" (Error-Cause {cause}: {ERROR_CAUSES.get(cause, 'unknown')})"
