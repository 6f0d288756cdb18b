"""Human units at the edges: sizes ("63MB", "100GiB"), rates ("3kbit", "256kBps") and
durations ("7d").

Inside nmsquota a volume is always an int of bytes, a rate an int of bits per second and a
duration an int of seconds; this module is the only place that knows about suffixes, so every
command, the configuration and the control protocol read units by the same rule:

    NUMBER [PREFIX] UNIT [ps | /s]        e.g. 63MB, 10 KiB, 3kbit, 20mbps, 256kBps, 1Gbit/s

- PREFIX, in any case: k = 10^3, M = 10^6, G = 10^9, T = 10^12, P = 10^15 (SI, as ISPs sell
  volumes and links), and Ki, Mi, Gi, Ti, Pi = 2^10 ... 2^50 (IEC, as router output often
  shows). There is no milli: "m" is mega, so "20mb" is 20 megabits, never millibits.
- UNIT: `B` = bytes; `b` or `bit` (any case) = bits. The one place where case matters is the
  single letter: B is a byte, b is a bit.
- `ps` or `/s` after the unit, optional, says per second; only a rate may have it.

A size (a cap, a queue, a top-up) is in bytes: a bare number is bytes, and a size written in
bits ("20Mb") is refused with the spelling in bytes, since converting it silently would make a
cap eight times smaller than meant. A rate (a limit) is in bits per second: a rate written in
bytes ("256kBps") is converted (x 8); a rate needs its unit, because a bare number could be
either. A duration is NUMBER UNIT parts with s, m, h, d, w (lower case: m is minutes here),
combined as in "1h30m".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

PREFIXES: dict[str, int] = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "p": 10**15,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
    "pi": 2**50,
}
"""Each prefix, lower-cased, and its factor."""

# How a suggestion spells a prefix: "KB" as the example file and format_bytes write sizes,
# "kbit" as tc and the paper write rates.
_SIZE_PREFIX = {"": "", "k": "K", "m": "M", "g": "G", "t": "T", "p": "P",
                "ki": "Ki", "mi": "Mi", "gi": "Gi", "ti": "Ti", "pi": "Pi"}  # fmt: skip
_RATE_PREFIX = _SIZE_PREFIX | {"k": "k"}
_PREFIX_NAMES = {"": "", "k": "kilo", "m": "mega", "g": "giga", "t": "tera", "p": "peta",
                 "ki": "kibi", "mi": "mebi", "gi": "gibi", "ti": "tebi", "pi": "pebi"}  # fmt: skip

_DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# (?i:...) makes the prefix, the word "bit" and "ps" case-blind; the single letters B and b
# stay case-sensitive, since they are the difference between a byte and a bit.
_QUANTITY_RE = re.compile(
    r"(?P<number>\d+(?:\.\d+)?)\s*"
    r"(?P<prefix>(?i:[kmgtp]i?))?"
    r"(?P<unit>(?i:bit)|B|b)?"
    r"(?P<per_second>(?i:ps|/s))?"
)
_DURATION_PART_RE = re.compile(r"(\d+)\s*([smhdw])")

SIZE_EXAMPLES = "such as 63MB, 10KB or 100GiB"
RATE_EXAMPLES = "such as 3kbit, 10Mbit or 256kB/s"
UNIT_RULE = "B = bytes, b or bit = bits; k M G T (x1000) or Ki Mi Gi Ti (x1024) in any case"


class UnitError(ValueError):
    """A value that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class Quantity:
    """A size or rate as written, before it is scaled: "256kBps" is 256, k, bytes, per second."""

    number: str
    prefix: str
    """Lower-cased: "", "k", "mi", ..."""
    unit: str | None
    """"bytes", "bits", or None when none was written."""
    per_second: bool
    spelled: str = ""
    """The unit as written: "B", "b", "bit", "Bit", ..."""

    @classmethod
    def read(cls, text: str) -> Quantity | None:
        """The parts of `text`, or None if it is not NUMBER [PREFIX] [UNIT] [ps|/s]."""
        match = _QUANTITY_RE.fullmatch(text.strip())
        if match is None:
            return None
        unit = match["unit"]
        return cls(
            match["number"],
            (match["prefix"] or "").lower(),
            None if unit is None else "bytes" if unit == "B" else "bits",
            match["per_second"] is not None,
            unit or "",
        )

    def factor(self) -> int:
        return PREFIXES[self.prefix]

    def as_size(self) -> str:
        """The same amount written as a size: "20Mb" -> "20MB"."""
        return f"{self.number}{_SIZE_PREFIX[self.prefix]}B"

    def in_bytes(self) -> str | None:
        """The same amount of bits written in bytes: "10Mbit" -> "1.25MB", "5Gb" -> "625MB",
        "3kbit" -> "375B" (None if it is not a whole number of bytes). The prefix is the
        largest of the same family (SI or IEC) that leaves at least 1."""
        total = Decimal(self.number) * self.factor()
        if total % 8:
            return None
        count = total / 8
        family = [p for p in PREFIXES if p.endswith("i") == self.prefix.endswith("i") and p]
        for prefix in sorted(family, key=PREFIXES.__getitem__, reverse=True):
            if PREFIXES[prefix] <= PREFIXES[self.prefix] and count >= PREFIXES[prefix]:
                scaled = (count / PREFIXES[prefix]).normalize()
                return f"{format(scaled, 'f')}{_SIZE_PREFIX[prefix]}B"
        return f"{int(count)}B"

    def spoken(self, unit: str) -> str:
        """The amount in words: "20 megabytes", "5 kibibits"."""
        plural = unit if Decimal(self.number) != 1 else unit.removesuffix("s")
        return f"{self.number} {_PREFIX_NAMES[self.prefix]}{plural}"

    def as_rate(self, unit: str = "bit") -> str:
        """The same amount written as a rate: "3k" -> "3kbit" (or "3kB/s" with unit="B/s")."""
        return f"{self.number}{_RATE_PREFIX[self.prefix]}{unit}"


def parse_size(text: str | int) -> int:
    """Bytes in `text`: "63MB" -> 63_000_000, "10KiB" -> 10_240, "500" and 500 -> 500.

    A size in bits ("63Mb") or per second ("63MB/s") is refused with the spelling meant."""
    if isinstance(text, bool):
        raise UnitError(f"expected a size {SIZE_EXAMPLES}, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"a size cannot be negative, got {text}")
        return text
    quantity = Quantity.read(text)
    if quantity is None:
        raise UnitError(f"expected a size {SIZE_EXAMPLES} ({UNIT_RULE}), got {text!r}")
    if quantity.per_second:
        raise UnitError(
            f"{text!r} is a rate (per second); a size is a volume: write {quantity.as_size()}"
        )
    if quantity.unit == "bits":
        raise UnitError(_size_in_bits(text, quantity))
    if quantity.unit is None and quantity.prefix:
        raise UnitError(f"{text!r} has no unit: write {quantity.as_size()} (bytes)")
    return _scaled(quantity.number, quantity.factor(), text, "bytes")


def parse_rate(text: str | int) -> int:
    """Bits per second in `text`: "3kbit" -> 3000, "10Mbps" -> 10_000_000, and a rate in
    bytes converted: "256kBps" -> 2_048_000. An int is bits per second already."""
    if isinstance(text, bool):
        raise UnitError(f"expected a rate {RATE_EXAMPLES}, got {text!r}")
    if isinstance(text, int):
        if text <= 0:
            raise UnitError(f"a rate must be positive, got {text}")
        return text
    quantity = Quantity.read(text)
    if quantity is None:
        raise UnitError(f"expected a rate {RATE_EXAMPLES} ({UNIT_RULE}), got {text!r}")
    if quantity.unit is None:
        raise UnitError(
            f"{text!r} has no unit: write {quantity.as_rate()} (bits per second) or "
            f"{quantity.as_rate('B/s')} (bytes per second)"
        )
    bits_per_unit = 8 if quantity.unit == "bytes" else 1
    rate = _scaled(quantity.number, quantity.factor() * bits_per_unit, text, "bits per second")
    if rate <= 0:
        raise UnitError(f"a rate must be positive, got {text!r}")
    return rate


def parse_duration(text: str | int, *, bare_seconds: bool = True) -> int:
    """Seconds in `text`: "7d" -> 604800, "1h30m" -> 5400, 300 -> 300.

    With `bare_seconds=False` (the configuration file) a number without a unit is refused:
    `window = 7` is far more likely to mean days than the seconds it used to be read as."""
    if isinstance(text, bool):
        raise UnitError(f"expected a duration such as 300s, 5m or 7d, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"a duration cannot be negative, got {text}")
        if not bare_seconds:
            raise _bare_duration(text)
        return text
    compact = text.strip().replace(" ", "")
    if compact.isdigit():
        if not bare_seconds:
            raise _bare_duration(text)
        return int(compact)
    parts = _DURATION_PART_RE.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise UnitError(
            f"expected a duration such as 300s, 5m, 1h30m, 7d or 2w (s, m, h, d, w), got {text!r}"
        )
    return sum(int(n) * _DURATION_UNITS[u] for n, u in parts)


def _size_in_bits(text: str, quantity: Quantity) -> str:
    """What to say of a size written in bits. "20mb" is most likely 20 megabytes with the
    wrong case; "20Mbit" was meant as bits, so its suggestion is the same amount in bytes."""
    in_bytes = quantity.in_bytes()
    if quantity.spelled == "b":
        other = f" ({quantity.spoken('bits')} would be {in_bytes})" if in_bytes else ""
        return (
            f"{text!r} is in bits (b = bit, B = byte); a size is in bytes: write "
            f"{quantity.as_size()} for {quantity.spoken('bytes')}{other}"
        )
    if in_bytes is None:
        return f"{text!r} is in bits and not a whole number of bytes; a size is in bytes"
    return f"{text!r} is in bits; a size is in bytes: write {in_bytes} for the same amount"


def _bare_duration(value: str | int) -> UnitError:
    number = str(value).strip()
    return UnitError(
        f"{value!r} has no unit: write {number}d, {number}h or {number}m (or {number}s for seconds)"
    )


def _scaled(number: str, factor: int, original: str | int, base: str) -> int:
    # Decimal, not float: "1.1kbit" must be exactly 1100, not 1100.0000000000002.
    value = Decimal(number) * factor
    if value != value.to_integral_value():
        raise UnitError(f"{original!r} is not a whole number of {base}")
    return int(value)


def format_bytes(count: int, *, binary: bool = False) -> str:
    """A volume for people: 63000000 -> "63.0 MB" (decimal, as ISPs sell it)."""
    step, names = (
        (1024, ("KiB", "MiB", "GiB", "TiB", "PiB"))
        if binary
        else (
            1000,
            ("KB", "MB", "GB", "TB", "PB"),
        )
    )
    if abs(count) < step:
        return f"{count} B"
    value = float(count)
    for name in names:
        value /= step
        if abs(value) < step or name == names[-1]:
            return f"{value:.1f} {name}"
    raise AssertionError("unreachable")


def format_rate(bits_per_second: int) -> str:
    """A rate for people: 3000 -> "3kbit", 10_000_000 -> "10Mbit"."""
    for name, factor in (("Gbit", 10**9), ("Mbit", 10**6), ("kbit", 10**3)):
        if bits_per_second >= factor and bits_per_second % factor == 0:
            return f"{bits_per_second // factor}{name}"
    # Exact, so that parse_rate(format_rate(r)) == r: 1000001 stays "1000001bit".
    return f"{bits_per_second}bit"


def format_measured_rate(bits_per_second: float) -> str:
    """A measured rate, rounded for people: 53333 -> "53.3kbit", 9_000_000 -> "9.0Mbit"."""
    for name, factor in (("Gbit", 10**9), ("Mbit", 10**6), ("kbit", 10**3)):
        if bits_per_second >= factor:
            return f"{bits_per_second / factor:.1f}{name}"
    return f"{bits_per_second:.0f}bit"


def format_duration(seconds: int) -> str:
    """A duration in the same notation parse_duration reads: 5400 -> "1h30m"."""
    if seconds == 0:
        return "0s"
    parts = []
    remaining = seconds
    # Days, not weeks: operators write windows as 7d and 30d.
    for name in ("d", "h", "m", "s"):
        size = _DURATION_UNITS[name]
        if remaining >= size:
            parts.append(f"{remaining // size}{name}")
            remaining %= size
    return "".join(parts)
