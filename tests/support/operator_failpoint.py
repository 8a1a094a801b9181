"""``python -m tests.support.operator_failpoint STEP``: the operator, stopping forever at STEP.

The restart-safety tests kill the operator at a chosen point of a failover and check
that a fresh one finishes it. The stop is injected here, through the operator's
``failpoint`` parameter, so no fault-injection switch exists in the product itself.
"""

from __future__ import annotations

import sys
import threading

import structlog

from tier0_operator.main import main
from tier0_operator.reconcile import Failpoint

STEPS = ("after-decided", "after-selectors-patched")


def blocking_failpoint(stop_at: str) -> Failpoint:
    def failpoint(step: str) -> None:
        if step == stop_at:
            structlog.get_logger(__name__).warning("failpoint_reached", failpoint=step)
            threading.Event().wait()

    return failpoint


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in STEPS:
        sys.exit(f"usage: python -m tests.support.operator_failpoint {{{'|'.join(STEPS)}}}")
    main(blocking_failpoint(sys.argv[1]))
