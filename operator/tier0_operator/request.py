"""One RegionFailover as the reconciler sees it, and the two ways a step can end early.

Kept apart from reconcile.py so the status builders (status.py) and the gates
(gates.py) can speak about a request without importing the phase machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tier0_common.failover_models import FailoverSpec
from tier0_operator.health import GateResult

#: Looks up a FailoverGroup's spec in the operator's in-memory index (None: not there).
GroupLookup = Callable[[str, str], Mapping[str, Any] | None]


class Outcome(StrEnum):
    DONE = "done"
    #: Another failover holds the lock on one of the Services; retry later.
    WAITING = "waiting"


class Refusal(Exception):
    """The request cannot be carried out as asked; becomes phase Refused."""

    def __init__(self, reason: str, message: str, gates: list[GateResult] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.gates = gates or []


@dataclass
class Request:
    """One RegionFailover being reconciled."""

    name: str
    namespace: str
    body: Mapping[str, Any]
    status: Mapping[str, Any]
    spec: FailoverSpec
    generation: int | None
    requested_at: float
    detected_at: float | None
    stamps: dict[str, str] = field(default_factory=dict)
    #: Wall-clock marks of the steps on the path (for the completion log's `steps_ms`).
    marks: dict[str, float] = field(default_factory=dict)

    @property
    def phase(self) -> str | None:
        value = self.status.get("phase")
        return str(value) if value else None
