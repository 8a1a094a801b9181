"""tier0's RegionFailover operator (kopf).

It repoints the selectors of a failover group's Services from one region's pods to
another's when a RegionFailover object asks for it (or when a FailoverGroup's policy
decides to), after health, freshness and canary gates, and records what it did.
`python -m tier0_operator` runs it; see docs/operator.md.
"""
