"""Plans and their caps: how much, over which window, counted how, and the limit (and the
steps before it) that applies beyond it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from nmsquota import units
from nmsquota.config.fields import CapSize, Duration, Margin, Percent, Rate, Size, Strict
from nmsquota.usage import FreeHours, Monthly, Tally


class LimitProfile(Strict):
    """What a limited subscriber gets: the paper's 3 kbit/s pipe with a 10 KB queue."""

    rate: Rate = 3_000
    queue: Size = 10_000


class Step(Strict):
    """A graded limit before the cap: from `at` percent of it, this rate."""

    at: Percent
    rate: Rate
    queue: Size | None = Field(default=None, description="default: the cap's limit's queue")
    hysteresis: Margin | None = Field(
        default=None, description="lift this step only below its threshold less this"
    )

    @field_validator("at")
    @classmethod
    def _before_the_cap(cls, at: float) -> float:
        if at >= 100:
            raise PydanticCustomError(
                "percent",
                "a step comes before the cap: under 100% (the cap's own limit is the last step)",
            )
        return at


class Cap(Strict):
    """One cap of a plan: so many bytes over a window (or a calendar month), else a limit."""

    cap: CapSize
    window: Duration = 7 * 86400
    period: Literal["rolling", "monthly"] = Field(
        default="rolling",
        description="the last `window` (rolling), or the calendar month from reset_day",
    )
    reset_day: int = Field(default=1, ge=1, le=28, description="monthly: the day it starts")
    direction: Literal["download", "upload", "both"] = "download"
    free_hours: str | None = Field(
        default=None, description='off-peak hours that do not count, "HH:MM-HH:MM" local time'
    )
    limit: LimitProfile = LimitProfile()
    hysteresis: Margin | None = Field(
        default=None, description='lift a limit only below the cap less this, e.g. "5%"'
    )
    warn_at: list[Percent] = Field(
        default=[], description='notify when usage crosses these, e.g. ["80%", "100%"]'
    )
    name: str | None = Field(
        default=None, description='what status calls it (default: "1d", "30d", "monthly")'
    )
    steps: list[Step] = Field(
        default=[], description='limits before the cap: [{ at = "80%", rate = "50Mbit" }]'
    )

    @field_validator("steps")
    @classmethod
    def _distinct_steps(cls, steps: list[Step]) -> list[Step]:
        seen: set[float] = set()
        for step in steps:
            if step.at in seen:
                raise PydanticCustomError(
                    "steps", f"two steps at {step.at:g}%: each step needs its own threshold"
                )
            seen.add(step.at)
        return sorted(steps, key=lambda step: step.at)

    @field_validator("window")
    @classmethod
    def _positive_window(cls, window: int) -> int:
        if window <= 0:
            raise PydanticCustomError("duration", "a window must be longer than 0s")
        return window

    @field_validator("free_hours")
    @classmethod
    def _hours(cls, text: str | None) -> str | None:
        if text is not None:
            _parse_free_hours(text)
        return text

    @model_validator(mode="after")
    def _period(self) -> Cap:
        if self.period == "monthly" and "window" in self.model_fields_set:
            raise PydanticCustomError("period", "a monthly plan has no window (it is the month)")
        if self.period == "rolling" and "reset_day" in self.model_fields_set:
            raise PydanticCustomError("period", 'reset_day is for period = "monthly"')
        return self

    @property
    def label(self) -> str:
        """Its name, or what it counts over: "1d", "30d upload", "monthly"."""
        if self.name:
            return self.name
        span = "monthly" if self.period == "monthly" else units.format_duration(self.window)
        return span if self.direction == "download" else f"{span} {self.direction}"

    @property
    def span(self) -> str:
        """What two caps of a plan may not share: the same window (or month) and direction."""
        length = self.reset_day if self.period == "monthly" else self.window
        return f"{self.period} {length} {self.direction}"

    def tally(self, timezone: str) -> Tally:
        free = None
        if self.free_hours:
            start, end = _parse_free_hours(self.free_hours)
            free = FreeHours(start, end, timezone)
        if self.period == "monthly":
            # The window is only nominal here (the longest month); the period sets the edge.
            return Tally(31 * 86400, free, Monthly(self.reset_day, timezone))
        return Tally(self.window, free)


# A plan's own keys that describe its one cap: with [[plans.X.caps]] they belong there.
# free_hours may stay on the plan, for every cap that does not set its own.
ONE_CAP_KEYS = tuple(key for key in Cap.model_fields if key != "free_hours")


class Plan(Cap):
    """A plan: one cap given by its own keys (the paper's "63 MB a week, then 3 kbit/s"), or
    several in `[[plans.NAME.caps]]` ("5 GB a day, else 10 Mbit/s" and "100 GB in 30 days,
    else 1 Mbit/s"): the strictest limit among the caps exceeded applies. `free_hours` on
    the plan applies to each of its caps that does not set its own."""

    cap: CapSize | None = None  # type: ignore[assignment]
    caps: list[Cap] = Field(default=[], description="several caps, each with its own limit")

    @model_validator(mode="after")
    def _caps(self) -> Plan:
        if self.caps:
            mixed = [key for key in ONE_CAP_KEYS if key in self.model_fields_set]
            if mixed:
                raise PydanticCustomError(
                    "caps", f"a plan with [[caps]] keeps {mixed[0]} in each cap, not beside them"
                )
            seen: dict[str, str] = {}
            for index, cap in enumerate(self.caps):
                key = cap.span
                if key in seen:
                    raise PydanticCustomError(
                        "caps",
                        f"caps.{seen[key]} and caps.{index} count the same window and "
                        f"direction ({cap.label}): one of them would never matter",
                    )
                seen[key] = str(index)
            labels = [cap.label for cap in self.all_caps()]
            if len(set(labels)) != len(labels):
                raise PydanticCustomError("caps", f"two caps share a name: {labels}")
        elif self.cap is None:
            raise PydanticCustomError("caps", 'a plan needs a cap (cap = "63MB"), or [[caps]]')
        return self

    def all_caps(self) -> list[Cap]:
        """The plan's caps, the one-cap form included; free hours inherited."""
        if not self.caps:
            # Already validated, as the plan's own keys: copied, not parsed again.
            values = {key: getattr(self, key) for key in Cap.model_fields}
            return [Cap.model_construct(_fields_set=self.model_fields_set & set(values), **values)]
        return [
            cap if cap.free_hours or not self.free_hours
            else cap.model_copy(update={"free_hours": self.free_hours})
            for cap in self.caps
        ]  # fmt: skip

    def tally(self, timezone: str) -> Tally:
        """The first cap's window (a one-cap plan's only one)."""
        return self.all_caps()[0].tally(timezone)


def _parse_free_hours(text: str) -> tuple[int, int]:
    try:
        start_text, end_text = text.split("-")
        start, end = (_minutes(part) for part in (start_text, end_text))
    except ValueError:
        raise PydanticCustomError(
            "hours", f'expected off-peak hours as "HH:MM-HH:MM" (e.g. "00:00-06:00"), got {text!r}'
        ) from None
    if start == end:
        raise PydanticCustomError("hours", f"off-peak hours {text!r} are empty")
    return start, end


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 24 or int(minutes) > 59 or value > 24 * 60:
        raise ValueError(text)
    return value
