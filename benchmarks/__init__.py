"""Benchmarks: scripts that print measured figures next to their baselines (make bench)."""
