"""Simulated subscribers and access servers (the demo, `simulate`, tests)."""
