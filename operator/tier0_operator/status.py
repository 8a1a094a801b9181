"""The status a RegionFailover records at each step, built without I/O.

Every outcome (InProgress, Completed, Failed, Refused, Pending, a dry run, a no-op)
writes the same base fields plus its phase, message and the three conditions
(Ready, Progressing, FailoverBlocked). The phase machine (reconcile.py) decides which
outcome; the builders here decide what it looks like, so both are tested apart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tier0_common.failover_crd import (
    PHASE_COMPLETED,
    PHASE_FAILED,
    PHASE_IN_PROGRESS,
    PHASE_PENDING,
    PHASE_REFUSED,
)
from tier0_common.rfc3339 import to_rfc3339
from tier0_operator import conditions as cond
from tier0_operator.health import GateResult
from tier0_operator.request import Request
from tier0_operator.selectors import SelectorPlan

#: (status, reason, message) of one condition.
Condition = tuple[bool | None, str, str]


def not_blocked(forced: bool) -> Condition:
    """The FailoverBlocked condition of a failover that goes ahead."""
    if forced:
        return (False, "Forced", "gates skipped: spec.force")
    return (False, "GatesPassed", "all gates passed")


def conditions(
    req: Request, *, ready: Condition, progressing: Condition, blocked: Condition
) -> list[dict[str, Any]]:
    now = time.time()
    conds = req.status.get("conditions")
    conds = cond.set_condition(conds, cond.READY, *ready, generation=req.generation, now=now)
    conds = cond.set_condition(
        conds, cond.PROGRESSING, *progressing, generation=req.generation, now=now
    )
    return cond.set_condition(
        conds, cond.FAILOVER_BLOCKED, *blocked, generation=req.generation, now=now
    )


def base(req: Request, plan: SelectorPlan | None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "observedGeneration": req.generation,
        "forced": req.spec.force,
        "dryRun": req.spec.dry_run,
        "startTime": req.status.get("startTime") or to_rfc3339(req.requested_at),
        "timestamps": dict(req.stamps),
    }
    if plan is not None:
        # A resumed failover sees the Services half-switched; the first record wins.
        status["selectorsBefore"] = req.status.get("selectorsBefore") or plan.before
        status["selectorsAfter"] = plan.after
    return status


def in_progress(req: Request, plan: SelectorPlan, gates: list[GateResult]) -> dict[str, Any]:
    spec = req.spec
    message = f"switching {', '.join(plan.to_patch)} {spec.source_region} -> {spec.target_region}"
    status = base(req, plan)
    status.update(phase=PHASE_IN_PROGRESS, message=message, gates=[g.to_status() for g in gates])
    status["conditions"] = conditions(
        req,
        ready=(False, "InProgress", message),
        progressing=(True, "Switching", message),
        blocked=not_blocked(spec.force),
    )
    return status


def final(
    req: Request,
    plan: SelectorPlan | None,
    phase: str,
    message: str,
    *,
    latency: float | None = None,
) -> dict[str, Any]:
    status = base(req, plan)
    status.update(phase=phase, message=message, endTime=to_rfc3339(time.time()))
    if latency is not None:
        status["latencySeconds"] = round(latency, 4)
    return status


def completed(req: Request, plan: SelectorPlan, message: str, latency: float) -> dict[str, Any]:
    status = final(req, plan, PHASE_COMPLETED, message, latency=latency)
    status["conditions"] = conditions(
        req,
        ready=(True, "FailoverCompleted", message),
        progressing=(False, "Completed", message),
        blocked=not_blocked(req.spec.force),
    )
    return status


def already_on_target(req: Request, plan: SelectorPlan) -> dict[str, Any]:
    message = f"already on {req.spec.target_region}; nothing to change"
    status = final(req, plan, PHASE_COMPLETED, message, latency=0.0)
    status["conditions"] = conditions(
        req,
        ready=(True, "AlreadyOnTarget", message),
        progressing=(False, "Completed", message),
        blocked=(False, "GatesPassed", message),
    )
    return status


def dry_run(
    req: Request, plan: SelectorPlan, gates: list[GateResult], message: str
) -> dict[str, Any]:
    status = final(req, plan, PHASE_COMPLETED, message)
    status["gates"] = [g.to_status() for g in gates]
    status["conditions"] = conditions(
        req,
        ready=(True, "DryRun", message),
        progressing=(False, "DryRun", message),
        blocked=(False, "GatesPassed", "all gates passed"),
    )
    return status


def failed(req: Request, plan: SelectorPlan, message: str) -> dict[str, Any]:
    status = final(req, plan, PHASE_FAILED, message)
    status["conditions"] = conditions(
        req,
        ready=(False, "EndpointsTimeout", message),
        progressing=(False, "Failed", message),
        blocked=(False, "GatesPassed", "gates passed; the switch itself failed"),
    )
    return status


def pending(req: Request, message: str) -> dict[str, Any]:
    status = base(req, None)
    status.update(phase=PHASE_PENDING, message=message)
    status["conditions"] = conditions(
        req,
        ready=(False, "Pending", message),
        progressing=(False, "WaitingForLock", message),
        blocked=(False, "WaitingForLock", message),
    )
    return status


def refused(
    current: Mapping[str, Any],
    generation: int | None,
    reason: str,
    message: str,
    gates: list[GateResult],
    stamps: dict[str, str],
) -> dict[str, Any]:
    now = time.time()
    conds = cond.set_condition(
        current.get("conditions"),
        cond.FAILOVER_BLOCKED,
        True,
        reason,
        message,
        generation=generation,
        now=now,
    )
    conds = cond.set_condition(
        conds, cond.READY, False, reason, message, generation=generation, now=now
    )
    conds = cond.set_condition(
        conds, cond.PROGRESSING, False, "Refused", message, generation=generation, now=now
    )
    return {
        "phase": PHASE_REFUSED,
        "message": f"{reason}: {message}",
        "observedGeneration": generation,
        "endTime": to_rfc3339(now),
        "gates": [g.to_status() for g in gates],
        "conditions": conds,
        "timestamps": stamps,
    }
