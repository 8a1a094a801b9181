"""Kubernetes access for the failover endpoints: the API creates RegionFailover objects
and reads FailoverGroups; the operator does the failover itself.

``resources`` (wire names), ``errors`` (Kubernetes failures as HTTP answers),
``connection`` (credentials, lazily), ``failovers`` (the blocking API calls, run in a
worker thread by the routes) and ``decisions`` (pure: which regions, which manifest,
which answer).
"""
