"""nmsquota: per-subscriber download caps over a rolling window, enforced by rate limits."""

__version__ = "0.1.0"
