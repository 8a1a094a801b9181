"""Helpers shared by the test suites (waiting, free ports, server fixtures)."""
