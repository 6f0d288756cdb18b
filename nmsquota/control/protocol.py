"""The control protocol: one JSON object per line, UTF-8, validated before anything acts.

A request names its operation in "op" and carries only the keys that operation takes:

    {"op": "ping"}
    {"op": "session", "event": "up", "interface": "ppp0", "login": "bob", "address": "10.0.0.7"}
    {"op": "limit" | "exempt", "subscriber": "bob", "reason": "...", "for": "2h", "cap": "1d"}
    {"op": "topup", "subscriber": "bob", "size": "5GB", "reason": "...", "for": ..., "cap": ...}
    {"op": "release", "subscriber": "bob", "reason": "..."}
    {"op": "override", "action": "remove", "id": "3f9a1c2e", "reason": "..."}
    {"op": "subscriber", "action": "add", "name": "carol", "plan": "home", "addresses": [...]}
    {"op": "subscriber", "action": "set", "name": "carol", "plan": ..., "addresses": [...]}
    {"op": "subscriber", "action": "remove", "name": "carol"}

"for" and "cap" are optional, and so is a release's "reason"; "for" is a duration ("2h", or
seconds as a number, more than 0), "size" a size ("5GB", or bytes as a number, more than 0).
The reply is one line too: {"ok": true, ...} or {"ok": false, "error": "one line saying what
was wrong"}.

Validation is the whole point: the text form this replaces split a line on whitespace, so a
newline in a subscriber's name became a second command. Here every value is a JSON string
that is checked for what it is (a subscriber name, an address, a duration) and a reason is
one line of text, so nothing a client sends can become a second request or a forged log line.
The value types are in nmsquota.control.values; the framing (a line out, the reply back,
and the replies) in nmsquota.control.wire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from nmsquota.control.values import (
    MAX_ADDRESSES,
    Address,
    Bytes,
    CapName,
    Interface,
    Login,
    OverrideId,
    PlanName,
    Prefix,
    Reason,
    Seconds,
    SubscriberName,
)

# The framing's names, where the requests' users have always found them.
from nmsquota.control.wire import ControlError as ControlError
from nmsquota.control.wire import Response as Response
from nmsquota.control.wire import decode_response as decode_response
from nmsquota.control.wire import encode_response as encode_response
from nmsquota.control.wire import refusal as refusal
from nmsquota.control.wire import shown
from nmsquota.errors import UsageError

MAX_LINE = 64 * 1024
"""Bytes in one request line, newline not counted; a longer line is refused."""


class RequestError(UsageError):
    """A request that is not valid; the message is one line naming the field."""


class _Request(BaseModel):
    # Frozen: the daemon dispatches on a value nobody can change after it was checked.
    # By name too, so that code can write Exempt(duration=...); the wire takes only the
    # protocol's spelling ("for"), see parse_request.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True,
                              validate_by_alias=True)  # fmt: skip


class Ping(_Request):
    op: Literal["ping"] = "ping"


class Session(_Request):
    """A session started or ended: what pppd's ip-up/ip-down pass ($1, $PEERNAME, $5)."""

    op: Literal["session"] = "session"
    event: Literal["up", "down"]
    interface: Interface
    login: Login
    address: Address


class _Override(_Request):
    subscriber: SubscriberName
    reason: Reason
    duration: Seconds | None = Field(default=None, alias="for")
    """Seconds until it expires; None: until released."""
    cap: CapName | None = None
    """One cap of a plan with several (its name, e.g. "1d"); None: the whole plan."""


class Limit(_Override):
    """Limit the subscriber whatever their usage (a force override)."""

    op: Literal["limit"] = "limit"


class Exempt(_Override):
    """Never limit the subscriber (an exempt override)."""

    op: Literal["exempt"] = "exempt"


class Topup(_Override):
    """Add `size` bytes to the subscriber's cap."""

    op: Literal["topup"] = "topup"
    size: Bytes


class Release(_Request):
    """Drop the subscriber's force overrides."""

    op: Literal["release"] = "release"
    subscriber: SubscriberName
    reason: Reason | None = None
    """Why, for the event log; optional, as releasing undoes an override that has one."""


class OverrideRemove(_Request):
    """Remove one override, named by its id (nmsquota.ledger.records.OverrideRecord.id):
    an exempt or a top-up "until removed" has no other end."""

    op: Literal["override"] = "override"
    action: Literal["remove"] = "remove"
    id: OverrideId
    reason: Reason


class SubscriberAdd(_Request):
    op: Literal["subscriber"] = "subscriber"
    action: Literal["add"] = "add"
    name: SubscriberName
    plan: PlanName
    addresses: tuple[Prefix, ...] = Field(default=(), max_length=MAX_ADDRESSES)


class SubscriberSet(_Request):
    """Change a provisioned subscriber: the plan, the addresses (replaced), or both."""

    op: Literal["subscriber"] = "subscriber"
    action: Literal["set"] = "set"
    name: SubscriberName
    plan: PlanName | None = None
    addresses: tuple[Prefix, ...] | None = Field(default=None, max_length=MAX_ADDRESSES)

    @model_validator(mode="after")
    def _something(self) -> SubscriberSet:
        if self.plan is None and self.addresses is None:
            raise PydanticCustomError("set", "set needs a plan, addresses or both")
        return self


class SubscriberRemove(_Request):
    op: Literal["subscriber"] = "subscriber"
    action: Literal["remove"] = "remove"
    name: SubscriberName


Override = Limit | Exempt | Topup
Provision = SubscriberAdd | SubscriberSet | SubscriberRemove
Request = Ping | Session | Override | Release | OverrideRemove | Provision
"""Every request the daemon serves, validated."""

_KINDS: dict[str, type[_Request]] = {
    "ping": Ping,
    "session": Session,
    "limit": Limit,
    "exempt": Exempt,
    "topup": Topup,
    "release": Release,
    "override remove": OverrideRemove,
    "subscriber add": SubscriberAdd,
    "subscriber set": SubscriberSet,
    "subscriber remove": SubscriberRemove,
}
OPS = tuple(dict.fromkeys(tag.split()[0] for tag in _KINDS))
ACTIONS: dict[str, tuple[str, ...]] = {}
"""The ops that name an action too, and their actions."""
for _tagged in _KINDS:
    if " " in _tagged:
        _op, _action = _tagged.split()
        ACTIONS[_op] = (*ACTIONS.get(_op, ()), _action)


def _tag(value: Any) -> str | None:
    """Which kind of request: the op, and for "subscriber" its action too."""
    if isinstance(value, _Request):
        op, action = value.op, getattr(value, "action", None)  # type: ignore[attr-defined]
    elif isinstance(value, Mapping):
        op, action = value.get("op"), value.get("action")
    else:
        return None
    return f"{op} {action}" if op in ACTIONS else op


# The union of every kind, each tagged as _tag names it: built from _KINDS, so that a new
# kind is added in one place.
_TAGGED: Any = Annotated[
    Union[tuple(Annotated[model, Tag(tag)] for tag, model in _KINDS.items())],  # noqa: UP007
    Discriminator(_tag),
]
_ADAPTER: TypeAdapter[Request] = TypeAdapter(_TAGGED)


def parse_request(value: Any) -> Request:
    """A decoded JSON value as a typed request, or RequestError naming the field."""
    if not isinstance(value, Mapping):
        raise RequestError(f"expected a JSON object, got {_json_kind(value)}")
    op = value.get("op")
    if "op" not in value:
        raise RequestError(f"op: missing (expected one of: {', '.join(OPS)})")
    if not isinstance(op, str) or op not in OPS:
        raise RequestError(f"op: expected one of {', '.join(OPS)}, got {shown(op)}")
    if op in ACTIONS and value.get("action") not in ACTIONS[op]:
        got = f"got {shown(value['action'])}" if "action" in value else "missing"
        *most, last = ACTIONS[op]
        expected = f"{', '.join(most)} or {last}" if most else last
        raise RequestError(f"action: expected {expected}, {got}")
    try:
        # By alias only: one spelling of each key on the wire, the one documented.
        return _ADAPTER.validate_python(value, by_alias=True, by_name=False)
    except ValidationError as error:
        raise RequestError(describe(error)) from None


def describe(error: ValidationError) -> str:
    """A validation error as one line: each problem as `field: what was expected`."""
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"][1:])  # [0] is the request's kind
        kind = item["type"]
        if kind == "missing":
            text = "missing (required)"
        elif kind == "extra_forbidden":
            model = _KINDS[str(item["loc"][0])]
            keys = ", ".join(sorted((f.alias or name for name, f in model.model_fields.items()),
                                    key=lambda key: key != "op"))  # fmt: skip
            text = f"unknown key (expected one of: {keys})"
        elif kind in ("tuple_type", "list_type"):
            text = f"expected a list, got {shown(item['input'])}"
        elif kind == "literal_error":
            expected = item["msg"].removeprefix("Input should be ")
            text = f"expected {expected}, got {shown(item['input'])}"
        else:
            text = item["msg"][0].lower() + item["msg"][1:]
        problems.append(f"{where}: {text}" if where else text)
    return "; ".join(problems)


def _json_kind(value: Any) -> str:
    kinds = {list: "a JSON array", str: "a JSON string", bool: "true or false",
             type(None): "null", int: "a number", float: "a number"}  # fmt: skip
    return kinds.get(type(value), type(value).__name__)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; a reader that keeps the first would see
    # another request in the same line. One meaning per line: refuse them.
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RequestError(f"{key}: given twice")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise RequestError(f"not JSON: {name} is not a JSON number")


def decode_request(line: bytes) -> Request:
    """One request line as received (newline included or not), or RequestError."""
    if len(line.rstrip(b"\r\n")) > MAX_LINE:
        raise RequestError(f"request line over {MAX_LINE} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(f"not UTF-8 (byte {error.start}): a request is a JSON object on "
                           "one line") from None  # fmt: skip
    if not text.strip():
        raise RequestError("empty line: expected a JSON object")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise RequestError("not JSON: nested too deeply") from None
    except RequestError:
        raise
    except ValueError as error:  # JSONDecodeError, and ints too long to convert
        raise RequestError(f"not JSON: {error}") from None
    return parse_request(value)


def encode_request(request: Request) -> bytes:
    """A request as one line on the wire. ASCII only (JSON escapes the rest), so it passes
    through any tool and can never hold a raw newline."""
    fields = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    fields = {"op": fields.pop("op"), **fields}  # first, for a person reading a capture
    return json.dumps(fields, separators=(",", ":")).encode("ascii") + b"\n"
