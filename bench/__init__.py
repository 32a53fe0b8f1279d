"""Benchmarks: component limits and the gateway end to end, measured in one run (DESIGN.md 12)."""
