"""Enforcement: the driver interface, the drivers found by name, and reconciliation of what
should be limited with what a driver has installed."""
