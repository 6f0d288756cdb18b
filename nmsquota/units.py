"""Human units at the edges: sizes ("63MB", "100GiB"), rates ("3kbit") and durations ("7d").

Inside nmsquota a volume is always an int of bytes, a rate an int of bits per second and a
duration an int of seconds; this module is the only place that knows about suffixes.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Decimal units are what ISPs sell ("100 GB a month"); binary units are accepted because
# operators copy them from router output. "Mb" is rejected for sizes: it reads as megabit.
_SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}

_RATE_UNITS: dict[str, int] = {
    "bit": 1,
    "kbit": 10**3,
    "mbit": 10**6,
    "gbit": 10**9,
    "bps": 1,
    "kbps": 10**3,
    "mbps": 10**6,
    "gbps": 10**9,
}

_DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_NUMBER = r"(\d+(?:\.\d+)?)"
_SIZE_RE = re.compile(rf"^{_NUMBER}\s*([A-Za-z]*)$")
_DURATION_PART_RE = re.compile(r"(\d+)\s*([smhdw])")


class UnitError(ValueError):
    """A value that does not parse; the message says what was expected."""


def parse_size(text: str | int) -> int:
    """Bytes in `text`: "63MB" -> 63_000_000, "10KiB" -> 10_240, 500 -> 500."""
    if isinstance(text, bool):
        raise UnitError(f"expected a size such as 63MB or 100GiB, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"a size cannot be negative, got {text}")
        return text
    match = _SIZE_RE.match(text.strip())
    unit = match.group(2).lower() if match else None
    # "63MB" is bytes; "63Mb" is megabits, which is never what a cap or a queue means.
    if match and unit in _SIZE_UNITS and unit != "b" and match.group(2).endswith("b"):
        raise UnitError(
            f"{text!r} reads as bits; a size is in bytes: write "
            f"{match.group(1)}{match.group(2)[:-1]}B"
        )
    if match is None or unit not in _SIZE_UNITS or match.group(2).endswith("b"):
        raise UnitError(
            f"expected a size such as 63MB, 10KB or 100GiB (B, KB, MB, GB, TB or KiB..TiB), "
            f"got {text!r}"
        )
    return _scaled(match.group(1), _SIZE_UNITS[unit], text)


def parse_rate(text: str | int) -> int:
    """Bits per second in `text`: "3kbit" -> 3000, "10Mbit" -> 10_000_000."""
    if isinstance(text, bool):
        raise UnitError(f"expected a rate such as 3kbit or 10Mbit, got {text!r}")
    if isinstance(text, int):
        if text <= 0:
            raise UnitError(f"a rate must be positive, got {text}")
        return text
    match = _SIZE_RE.match(text.strip())
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _RATE_UNITS:
        raise UnitError(
            f"expected a rate such as 3kbit, 64kbit or 10Mbit (bit, kbit, Mbit, Gbit), got {text!r}"
        )
    rate = _scaled(match.group(1), _RATE_UNITS[unit], text)
    if rate <= 0:
        raise UnitError(f"a rate must be positive, got {text!r}")
    return rate


def parse_duration(text: str | int) -> int:
    """Seconds in `text`: "7d" -> 604800, "1h30m" -> 5400, 300 -> 300."""
    if isinstance(text, bool):
        raise UnitError(f"expected a duration such as 300s, 5m or 7d, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"a duration cannot be negative, got {text}")
        return text
    compact = text.strip().replace(" ", "")
    if compact.isdigit():
        return int(compact)
    parts = _DURATION_PART_RE.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise UnitError(
            f"expected a duration such as 300s, 5m, 1h30m, 7d or 2w (s, m, h, d, w), got {text!r}"
        )
    return sum(int(n) * _DURATION_UNITS[u] for n, u in parts)


def _scaled(number: str, factor: int, original: str | int) -> int:
    # Decimal, not float: "1.1kbit" must be exactly 1100, not 1100.0000000000002.
    value = Decimal(number) * factor
    if value != value.to_integral_value():
        raise UnitError(f"{original!r} is not a whole number of the base unit")
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
