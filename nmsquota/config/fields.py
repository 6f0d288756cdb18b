"""The value types every section of the configuration is made of: sizes, rates, durations
and percentages in the units an operator writes, names, and references to secrets."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from nmsquota import units
from nmsquota.usage import SUBSCRIBER_NAME


def _unit(parse: Callable[[str | int], int], kind: str) -> BeforeValidator:
    def validate(value: Any) -> int:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise PydanticCustomError(kind, f"expected a {kind} as a string, got {value!r}")
        try:
            return parse(value)
        except units.UnitError as error:
            raise PydanticCustomError(kind, str(error)) from None

    return BeforeValidator(validate)


def _percent(value: Any) -> float:
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    number = text[:-1] if text.endswith("%") else ""
    try:
        result = float(number)
    except ValueError:
        raise PydanticCustomError(
            "percent", f'expected a percentage such as "80%", got {value!r}'
        ) from None
    if not 0 < result <= 1000:
        raise PydanticCustomError("percent", f"expected a positive percentage, got {value!r}")
    return result


Percent = Annotated[float, BeforeValidator(_percent)]


def _under_100(margin: float) -> float:
    if margin >= 100:
        raise PydanticCustomError("percent", "a hysteresis margin must be under 100%")
    return margin


Margin = Annotated[float, BeforeValidator(_percent), AfterValidator(_under_100)]
"""A hysteresis margin: a percentage under 100%."""


def _more_than_nothing(value: Any) -> int:
    size: int = _unit(units.parse_size, "size").func(value)
    if size == 0:
        raise PydanticCustomError(
            "size",
            f"expected a cap of more than 0 bytes, such as 63MB (to hold a subscriber at the "
            f"limit from the start, use nmsquota limit), got {value!r}",
        )
    return size


Size = Annotated[int, _unit(units.parse_size, "size")]
CapSize = Annotated[int, BeforeValidator(_more_than_nothing)]
"""A cap: a size of more than nothing (a cap of 0 limits everyone on the plan at once)."""
Rate = Annotated[int, _unit(units.parse_rate, "rate")]
# A bare number is refused in the file: `window = 7` was read as 7 seconds, never what was meant.
Duration = Annotated[int, _unit(partial(units.parse_duration, bare_seconds=False), "duration")]
Name = Annotated[str, Field(pattern=rf"^{SUBSCRIBER_NAME}$", max_length=253)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class SecretRef(Strict):
    """`{ secret = "name" }`: the value is looked up in the secrets file."""

    secret: str
