"""Fixtures for the operator against a real local control plane.

They live in tests/support/k8s_objects.py (the region API's failover tests use them
too); importing them here makes them available to every test in this folder.
"""

from __future__ import annotations

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    admin,
    cluster,
    make_group,
    namespace,
    operator,
    regions,
)
