"""The failover itself: gates, lock, selector switch, EndpointSlice wait, record.

Every step is idempotent and driven by the actual state plus the object's status, so
the same `reconcile()` serves a new object, a retry while another failover holds the
lock, and a restarted operator finding a failover InProgress:

* before the decision (phase absent or Pending): resolve the group, take the lock,
  run the gates, then commit by writing phase InProgress with decidedAt;
* after the decision (phase InProgress): patch whatever Service still selects the
  source region, wait for the EndpointSlices, probe the target once, and record.
  A resumed failover therefore finishes forward; if the EndpointSlices do not follow
  within ENDPOINTS_TIMEOUT_SECONDS the selectors are rolled back and the phase is Failed.

The handlers in handlers.py are thin wrappers around this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import structlog
from kubernetes.client.exceptions import ApiException

from tier0_common import kube_client
from tier0_common.failover_crd import (
    AUTOMATIC_REASON,
    DETECTED_AT_ANNOTATION,
    FG_PLURAL,
    GROUP,
    PHASE_COMPLETED,
    PHASE_FAILED,
    PHASE_IN_PROGRESS,
    PHASE_PENDING,
    PHASE_REFUSED,
    REQUESTED_AT_ANNOTATION,
    RF_PLURAL,
    TERMINAL_PHASES,
    VERSION,
)
from tier0_operator import conditions as cond
from tier0_operator import events, locks, metrics
from tier0_operator.consts import SERVICE_NAME_LABEL
from tier0_operator.health import (
    GateResult,
    canary_gate,
    count_ready,
    freshness_gate,
    http_ok,
    judge_deployment,
)
from tier0_operator.kube import Kube
from tier0_operator.objects import failover_finished, get_object, patch_group_status
from tier0_operator.reads import PendingReads, Reader, Reads, Snapshot
from tier0_operator.selectors import SelectorPlan, judge_endpoints, plan_selectors, selector_patch
from tier0_operator.settings import Settings
from tier0_operator.spec import (
    FailoverSpec,
    GroupSpec,
    SpecError,
    parse_failover_spec,
    parse_group_spec,
)
from tier0_operator.timeutil import maybe_from_rfc3339, to_rfc3339

log = structlog.get_logger(__name__)

#: Which FailoverBlocked reason a failing gate maps to.
GATE_REASONS = {
    "TargetReady": "TargetUnhealthy",
    "TargetDeployment": "TargetUnhealthy",
    "TargetHealthURL": "TargetUnhealthy",
    "Freshness": "TargetStale",
    "Canary": "CanaryFailed",
}
FIRST_REQUEST_POLL_SECONDS = 0.05
#: Looks up a FailoverGroup's spec in the operator's in-memory index (None: not there).
GroupLookup = Callable[[str, str], Mapping[str, Any] | None]


def _not_blocked(forced: bool) -> tuple[bool, str, str]:
    """The FailoverBlocked condition of a failover that goes ahead."""
    if forced:
        return (False, "Forced", "gates skipped: spec.force")
    return (False, "GatesPassed", "all gates passed")


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
    """One RegionFailover as the reconciler sees it."""

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


class Failover:
    def __init__(self, kube: Kube, settings: Settings, http: httpx.Client) -> None:
        self.kube = kube
        self.settings = settings
        self.http = http
        self.reader = Reader(kube, http)

    # -- entry point -------------------------------------------------------------

    def reconcile(self, body: Mapping[str, Any], groups: GroupLookup | None = None) -> Outcome:
        meta = body.get("metadata") or {}
        status = dict(body.get("status") or {})
        if status.get("phase") in TERMINAL_PHASES:
            return Outcome.DONE
        name, namespace = str(meta["name"]), str(meta["namespace"])
        annotations = meta.get("annotations") or {}
        stamps = dict(status.get("timestamps") or {})
        now = time.time()
        requested_at = (
            maybe_from_rfc3339(annotations.get(REQUESTED_AT_ANNOTATION))
            or maybe_from_rfc3339(stamps.get("requestedAt"))
            or now
        )
        stamps.setdefault("requestedAt", to_rfc3339(requested_at))
        detected_at = maybe_from_rfc3339(annotations.get(DETECTED_AT_ANNOTATION))
        if detected_at is not None:
            stamps.setdefault("detectedAt", to_rfc3339(detected_at))
        bound = log.bind(rfo=name, namespace=namespace)
        try:
            spec = parse_failover_spec(body.get("spec") or {})
        except SpecError as exc:
            self._write_status(
                namespace,
                name,
                self._refused_status(
                    status, meta.get("generation"), "InvalidSpec", str(exc), [], stamps
                ),
            )
            metrics.FAILOVERS.labels(outcome="refused").inc()
            events.post_event(self.kube, body, "Warning", "FailoverRefused", str(exc))
            return Outcome.DONE
        request = Request(
            name,
            namespace,
            body,
            status,
            spec,
            meta.get("generation"),
            requested_at,
            detected_at,
            stamps,
            marks={"handler": now},
        )
        try:
            group = self._resolve_group(request, groups)
            return self._run(request, group, bound)
        except Refusal as refusal:
            self._refuse(request, refusal)
            bound.info("failover_refused", reason=refusal.reason, message=refusal.message)
            return Outcome.DONE

    # -- decision ----------------------------------------------------------------

    def _run(self, req: Request, group: GroupSpec, bound: Any) -> Outcome:
        spec = req.spec
        # The reads that need no lock run while we take it (reads.py).
        gates_due = not spec.force and req.phase != PHASE_IN_PROGRESS
        pending = self._start_reads(req, group, gates=gates_due)
        if spec.dry_run:
            reads = self._finish_reads(req, group, pending)
            services = self._services(reads)
            return self._dry_run(req, group, self._plan(services, group, spec), reads)
        if req.phase == PHASE_IN_PROGRESS:
            self._acquire(req, group)
            bound.info("failover_resumed", phase=req.phase)
            reads = self._finish_reads(req, group, pending)
            services = self._services(reads)
            return self._switch(
                req, group, self._plan(services, group, spec), services, reads, bound
            )
        holder = self._acquire(req, group)
        if holder is not None:
            self._mark_pending(req, holder)
            return Outcome.WAITING
        req.marks["locked"] = time.time()
        try:
            # Read the Services under the lock: another failover may have just moved them.
            reads = self._finish_reads(req, group, pending)
            req.marks["read"] = time.time()
            services = self._services(reads)
            plan = self._plan(services, group, spec)
            if not plan.to_patch:
                self._complete_noop(req, group, plan)
                return Outcome.DONE
            gates = [] if spec.force else self._gates(group, spec, plan, reads)
            failed = next((g for g in gates if not g.passed), None)
            if failed is not None:
                raise Refusal(GATE_REASONS.get(failed.name, "GateFailed"), failed.message, gates)
        except BaseException:
            self._release(req, group)
            raise
        req.stamps["decidedAt"] = to_rfc3339(time.time())
        self._write_status(req.namespace, req.name, self._in_progress_status(req, plan, gates))
        req.marks["committed"] = time.time()
        bound.info("failover_decided", source=spec.source_region, target=spec.target_region)
        self._failpoint("after-decided")
        return self._switch(req, group, plan, services, reads, bound)

    def _resolve_group(self, req: Request, groups: GroupLookup | None) -> GroupSpec:
        spec = req.spec
        if spec.group is None:
            return spec.inline_group()
        # The operator's index of FailoverGroups (kopf keeps it from the watch it runs
        # anyway) saves a round trip; a group created a moment ago may not be in it yet.
        group_spec = groups(req.namespace, spec.group) if groups else None
        if group_spec is None:
            obj = get_object(self.kube, req.namespace, FG_PLURAL, spec.group)
            if obj is None:
                raise Refusal("GroupNotFound", f"FailoverGroup {spec.group!r} not found")
            group_spec = obj.get("spec") or {}
        try:
            group = parse_group_spec(spec.group, group_spec)
        except SpecError as exc:
            raise Refusal("InvalidGroup", f"FailoverGroup {spec.group}: {exc}") from exc
        known = [r.name for r in group.regions]
        for region in (spec.source_region, spec.target_region):
            if region not in known:
                raise Refusal(
                    "UnknownRegion", f"{region} is not a region of {spec.group} ({known})"
                )
        return group

    def _start_reads(self, req: Request, group: GroupSpec, *, gates: bool) -> PendingReads:
        """Start the reads the gates and the EndpointSlice wait need (reads.py)."""
        target = group.region(req.spec.target_region)
        return self.reader.start(
            req.namespace,
            group.services,
            group.region_label,
            req.spec.target_region,
            deployment=target.deployment if gates and target else None,
            health_url=target.health_url if gates and target else None,
        )

    def _finish_reads(self, req: Request, group: GroupSpec, pending: PendingReads) -> Reads:
        return pending.result(self.reader.services(req.namespace, group.services))

    @staticmethod
    def _services(reads: Reads) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = {}
        for name, svc in reads.services.items():
            if svc is None:
                raise Refusal("ServiceNotFound", f"Service {name!r} not found")
            services[name] = svc
        return services

    @staticmethod
    def _plan(
        services: Mapping[str, Mapping[str, Any]], group: GroupSpec, spec: FailoverSpec
    ) -> SelectorPlan:
        selectors = {n: (s.get("spec") or {}).get("selector") for n, s in services.items()}
        plan = plan_selectors(selectors, group.region_label, spec.source_region, spec.target_region)
        if plan.mismatched:
            detail = "; ".join(f"{n}: {why}" for n, why in plan.mismatched.items())
            raise Refusal("SelectorMismatch", detail)
        return plan

    def _gates(
        self, group: GroupSpec, spec: FailoverSpec, plan: SelectorPlan, reads: Reads
    ) -> list[GateResult]:
        """Judge the gates in order, stopping at the first that fails.

        The Kubernetes and health-URL inputs were read concurrently up front; the
        freshness and canary gates (opt-in, slower, the canary has side effects) run
        here, in order, only once the cheaper gates have passed.
        """
        target = group.region(spec.target_region)
        source = group.region(spec.source_region)
        results: list[GateResult] = []

        counts = {svc: count_ready(reads.target_pods, sel) for svc, sel in plan.after.items()}
        empty = sorted(svc for svc, n in counts.items() if n == 0)
        detail = ", ".join(f"{svc}: {n}" for svc, n in sorted(counts.items()))
        results.append(
            GateResult(
                "TargetReady",
                not empty,
                f"ready {spec.target_region} pods per Service: {detail}"
                + (f" (no ready pods behind {', '.join(empty)})" if empty else ""),
            )
        )
        if empty or target is None:
            return results
        if target.deployment:
            ok, msg = judge_deployment(reads.deployment, target.deployment)
            results.append(GateResult("TargetDeployment", ok, msg))
            if not ok:
                return results
        if target.health_url:
            ok, msg = reads.health or http_ok(self.http, target.health_url)
            results.append(GateResult("TargetHealthURL", ok, msg))
            if not ok:
                return results
        budget = group.gates.freshness_budget_seconds
        if budget is not None and source is not None:
            result = freshness_gate(self.http, source, target, budget)
            results.append(result)
            if not result.passed:
                return results
        if group.gates.canary.enabled:
            results.append(canary_gate(self.http, target, group.gates.canary))
        return results

    # -- the switch --------------------------------------------------------------

    def _switch(
        self,
        req: Request,
        group: GroupSpec,
        plan: SelectorPlan,
        services: Mapping[str, Mapping[str, Any]],
        reads: Reads,
        bound: Any,
    ) -> Outcome:
        spec = req.spec
        label = group.region_label
        # The pods and EndpointSlices were listed before the decision (reads.py); the
        # wait watches from that resourceVersion, so no change can slip between list
        # and watch, and no list sits between the patch and "switched".
        pods = reads.target_pod_names
        snapshots = reads.slices
        patch = selector_patch(label, spec.target_region)
        self.reader.map(
            lambda svc: self.kube.patch_service(svc, req.namespace, patch), plan.to_patch
        )
        req.marks["patched"] = time.time()
        req.stamps.setdefault("selectorsPatchedAt", to_rfc3339(req.marks["patched"]))
        self._failpoint("after-selectors-patched")
        deadline = time.monotonic() + self.settings.endpoints_timeout_seconds
        ok, detail = self._wait_endpoints(
            req.namespace, snapshots, pods, label, spec.target_region, deadline
        )
        if not ok:
            for svc in group.services:
                self.kube.patch_service(
                    svc, req.namespace, selector_patch(label, spec.source_region)
                )
            self._fail(
                req,
                group,
                plan,
                f"EndpointSlices did not switch within "
                f"{self.settings.endpoints_timeout_seconds}s ({detail}); selectors rolled back",
            )
            return Outcome.DONE
        ready_at = time.time()
        req.stamps["endpointsReadyAt"] = to_rfc3339(ready_at)
        first = self._first_request(group, spec.target_region)
        if first is not None:
            req.stamps["firstSuccessfulRequestAt"] = to_rfc3339(first)
        latency = max(ready_at - req.requested_at, 0.0)
        message = (
            f"{', '.join(group.services)} switched {spec.source_region} -> "
            f"{spec.target_region} in {latency * 1000:.0f} ms"
        )
        status = self._final_status(req, plan, PHASE_COMPLETED, message, latency=latency)
        status["conditions"] = self._conditions(
            req,
            ready=(True, "FailoverCompleted", message),
            progressing=(False, "Completed", message),
            blocked=_not_blocked(spec.force),
        )
        # The group records its new active region before the object says Completed, so
        # whoever sees Completed also sees the group on the target (and a crash between
        # the two resumes through the no-op path below, which records it too).
        self._release(req, group, transitioned=True)
        self._write_status(req.namespace, req.name, status)
        self._observe(req, latency)
        metrics.FAILOVERS.labels(outcome="completed").inc()
        if group.name:
            metrics.set_active_region(
                group.name, spec.target_region, [r.name for r in group.regions]
            )
        bound.info(
            "failover_completed",
            latency_ms=round(latency * 1000, 1),
            forced=spec.force,
            steps_ms=self._steps(req, ready_at),
        )
        events.post_event(self.kube, req.body, "Normal", "FailoverCompleted", message)
        for svc in group.services:
            if svc in services:
                events.post_event(
                    self.kube,
                    services[svc],
                    "Normal",
                    "SelectorSwitched",
                    f"{label}: {spec.source_region} -> {spec.target_region} "
                    f"by RegionFailover {req.name} ({spec.reason})",
                )
        return Outcome.DONE

    def _wait_endpoints(
        self,
        namespace: str,
        snapshots: Mapping[str, Snapshot],
        pods: frozenset[str],
        label: str,
        target: str,
        deadline: float,
    ) -> tuple[bool, str]:
        for svc, snapshot in snapshots.items():
            ok, detail, pods = self._wait_service(
                namespace, svc, snapshot, pods, label, target, deadline
            )
            if not ok:
                return False, f"{svc}: {detail}"
        return True, ""

    def _target_pods(self, namespace: str, label: str, target: str) -> frozenset[str]:
        """A consistent read: only used when the cached pod list looks out of date."""
        pods = self.reader.target_pods(namespace, label, target, cached=False)
        return frozenset(p["metadata"]["name"] for p in pods)

    def _wait_service(
        self,
        namespace: str,
        svc: str,
        snapshot: Snapshot,
        pods: frozenset[str],
        label: str,
        target: str,
        deadline: float,
    ) -> tuple[bool, str, frozenset[str]]:
        """Watch the Service's EndpointSlices until they hold only target pods."""
        slices, version = dict(snapshot[0]), snapshot[1]
        ok, detail, pods = self._judge(slices, pods, namespace, label, target)
        while not ok and time.monotonic() < deadline:
            try:
                with kube_client.watch_stream(
                    self.kube.discovery.list_namespaced_endpoint_slice,
                    namespace,
                    label_selector=f"{SERVICE_NAME_LABEL}={svc}",
                    resource_version=version,
                    timeout_seconds=max(1, int(deadline - time.monotonic() + 1)),
                    allow_watch_bookmarks=True,
                    deserialize=False,
                ) as events:
                    for event in events:
                        obj = event["object"]
                        version = str(obj.get("metadata", {}).get("resourceVersion") or version)
                        if event["type"] == "BOOKMARK":
                            continue
                        if event["type"] == "DELETED":
                            slices.pop(obj["metadata"]["name"], None)
                        else:
                            slices[obj["metadata"]["name"]] = obj
                        ok, detail, pods = self._judge(slices, pods, namespace, label, target)
                        if ok or time.monotonic() >= deadline:
                            break
            except ApiException as exc:
                if exc.status != 410:  # 410 Gone: history compacted; list again
                    raise
                slices, version = self.reader.slices(namespace, svc)
                ok, detail, pods = self._judge(slices, pods, namespace, label, target)
        return ok, detail, pods

    def _judge(
        self,
        slices: Mapping[str, Mapping[str, Any]],
        pods: frozenset[str],
        namespace: str,
        label: str,
        target: str,
    ) -> tuple[bool, str, frozenset[str]]:
        verdict = judge_endpoints(slices.values(), pods)
        if verdict.unknown_pods:
            # A target pod created after our pod list looks foreign; refresh once.
            pods = self._target_pods(namespace, label, target)
            verdict = judge_endpoints(slices.values(), pods)
        return verdict.switched, verdict.detail, pods

    def _first_request(self, group: GroupSpec, target: str) -> float | None:
        region = group.region(target)
        if region is None or not region.health_url:
            return None
        deadline = time.monotonic() + self.settings.first_request_timeout_seconds
        while time.monotonic() < deadline:
            ok, _ = http_ok(self.http, region.health_url)
            if ok:
                return time.time()
            time.sleep(FIRST_REQUEST_POLL_SECONDS)
        return None

    # -- the lock ----------------------------------------------------------------

    def _acquire(self, req: Request, group: GroupSpec) -> str | None:
        holder = locks.acquire(self.kube, req.namespace, group.services, req.name)
        if holder is not None and self._is_stale(req.namespace, holder):
            for svc in group.services:
                locks.break_lease(self.kube, req.namespace, svc, holder)
            holder = locks.acquire(self.kube, req.namespace, group.services, req.name)
        return holder

    def _is_stale(self, namespace: str, holder: str) -> bool:
        """A lock is stale when its holder is gone or finished (it died before releasing)."""
        return failover_finished(self.kube, namespace, holder)

    def _release(
        self, req: Request, group: GroupSpec, *, transitioned: bool = False, settled: bool = False
    ) -> None:
        """Free the Services' lock and update the group: ``settled`` when its Services now
        select the target; ``transitioned`` when this request moved them there."""
        locks.release(self.kube, req.namespace, group.services, req.name)
        if not group.name:
            return
        patch: dict[str, Any] = {"failoverInProgress": None}
        if settled or transitioned:
            patch["activeRegion"] = req.spec.target_region
        if transitioned:
            now = time.time()
            patch["lastTransitionTime"] = to_rfc3339(now)
            if req.spec.reason == AUTOMATIC_REASON:
                current = self._group_status(req.namespace, group.name).get("transitions") or []
                recent = [t for t in current if (maybe_from_rfc3339(t) or 0) > now - 3600]
                patch["transitions"] = [*recent, to_rfc3339(now)]
        self._patch_group_status(req.namespace, group.name, patch)

    def _group_status(self, namespace: str, name: str) -> dict[str, Any]:
        obj = get_object(self.kube, namespace, FG_PLURAL, name)
        return dict((obj or {}).get("status") or {})

    def _patch_group_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        patch_group_status(self.kube, namespace, name, patch)

    # -- status ------------------------------------------------------------------

    def _write_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.kube.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, RF_PLURAL, name, {"status": status}
        )

    def _conditions(
        self,
        req: Request,
        *,
        ready: tuple[bool | None, str, str],
        progressing: tuple[bool | None, str, str],
        blocked: tuple[bool | None, str, str],
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

    def _base_status(self, req: Request, plan: SelectorPlan | None) -> dict[str, Any]:
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

    def _in_progress_status(
        self, req: Request, plan: SelectorPlan, gates: list[GateResult]
    ) -> dict[str, Any]:
        spec = req.spec
        message = (
            f"switching {', '.join(plan.to_patch)} {spec.source_region} -> {spec.target_region}"
        )
        status = self._base_status(req, plan)
        status.update(
            phase=PHASE_IN_PROGRESS, message=message, gates=[g.to_status() for g in gates]
        )
        status["conditions"] = self._conditions(
            req,
            ready=(False, "InProgress", message),
            progressing=(True, "Switching", message),
            blocked=_not_blocked(spec.force),
        )
        req.status = {**req.status, **status}
        return status

    def _final_status(
        self,
        req: Request,
        plan: SelectorPlan | None,
        phase: str,
        message: str,
        *,
        latency: float | None = None,
    ) -> dict[str, Any]:
        status = self._base_status(req, plan)
        status.update(phase=phase, message=message, endTime=to_rfc3339(time.time()))
        if latency is not None:
            status["latencySeconds"] = round(latency, 4)
        return status

    def _refused_status(
        self,
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

    def _refuse(self, req: Request, refusal: Refusal) -> None:
        status = self._refused_status(
            req.status, req.generation, refusal.reason, refusal.message, refusal.gates, req.stamps
        )
        status.update(forced=req.spec.force, dryRun=req.spec.dry_run)
        self._write_status(req.namespace, req.name, status)
        metrics.FAILOVERS.labels(outcome="refused").inc()
        events.post_event(
            self.kube,
            req.body,
            "Warning",
            "FailoverBlocked",
            f"{refusal.reason}: {refusal.message}",
        )

    def _mark_pending(self, req: Request, holder: str) -> None:
        message = f"waiting for RegionFailover {holder} to finish on the same Services"
        if req.phase == PHASE_PENDING and req.status.get("message") == message:
            return
        status = self._base_status(req, None)
        status.update(phase=PHASE_PENDING, message=message)
        status["conditions"] = self._conditions(
            req,
            ready=(False, "Pending", message),
            progressing=(False, "WaitingForLock", message),
            blocked=(False, "WaitingForLock", message),
        )
        self._write_status(req.namespace, req.name, status)

    def _dry_run(self, req: Request, group: GroupSpec, plan: SelectorPlan, reads: Reads) -> Outcome:
        spec = req.spec
        gates = [] if spec.force or not plan.to_patch else self._gates(group, spec, plan, reads)
        failed = next((g for g in gates if not g.passed), None)
        if failed is not None:
            raise Refusal(
                GATE_REASONS.get(failed.name, "GateFailed"), f"dry run: {failed.message}", gates
            )
        changes = "; ".join(
            f"{svc}: {plan.before[svc]} -> {plan.after[svc]}" for svc in plan.to_patch
        )
        message = (
            f"dry run, nothing changed; would patch {changes or 'nothing (already on target)'}"
        )
        status = self._final_status(req, plan, PHASE_COMPLETED, message)
        status["gates"] = [g.to_status() for g in gates]
        status["conditions"] = self._conditions(
            req,
            ready=(True, "DryRun", message),
            progressing=(False, "DryRun", message),
            blocked=(False, "GatesPassed", "all gates passed"),
        )
        self._write_status(req.namespace, req.name, status)
        metrics.FAILOVERS.labels(outcome="dry_run").inc()
        events.post_event(self.kube, req.body, "Normal", "DryRun", message)
        return Outcome.DONE

    def _complete_noop(self, req: Request, group: GroupSpec, plan: SelectorPlan) -> None:
        message = f"already on {req.spec.target_region}; nothing to change"
        status = self._final_status(req, plan, PHASE_COMPLETED, message, latency=0.0)
        status["conditions"] = self._conditions(
            req,
            ready=(True, "AlreadyOnTarget", message),
            progressing=(False, "Completed", message),
            blocked=(False, "GatesPassed", message),
        )
        # Already on the target (e.g. resumed after a crash that followed the patch):
        # the group must still name the target as active, without counting a transition.
        self._release(req, group, settled=True)
        self._write_status(req.namespace, req.name, status)
        metrics.FAILOVERS.labels(outcome="completed").inc()

    def _fail(self, req: Request, group: GroupSpec, plan: SelectorPlan, message: str) -> None:
        status = self._final_status(req, plan, PHASE_FAILED, message)
        status["conditions"] = self._conditions(
            req,
            ready=(False, "EndpointsTimeout", message),
            progressing=(False, "Failed", message),
            blocked=(False, "GatesPassed", "gates passed; the switch itself failed"),
        )
        self._write_status(req.namespace, req.name, status)
        self._release(req, group)
        metrics.FAILOVERS.labels(outcome="failed").inc()
        events.post_event(self.kube, req.body, "Warning", "FailoverFailed", message)

    @staticmethod
    def _steps(req: Request, ready_at: float) -> dict[str, float]:
        """Milliseconds from each mark to the next, starting at the request."""
        marks = [("requested", req.requested_at), *req.marks.items(), ("endpoints", ready_at)]
        return {
            f"{a}->{b}": round((tb - ta) * 1000, 1)
            for (a, ta), (b, tb) in zip(marks, marks[1:], strict=False)
        }

    def _observe(self, req: Request, latency: float) -> None:
        metrics.FAILOVER_LATENCY.observe(latency)
        stamps = {k: maybe_from_rfc3339(v) for k, v in req.stamps.items()}
        phases = (
            ("detect", "detectedAt", "requestedAt"),
            ("decide", "requestedAt", "decidedAt"),
            ("patch", "decidedAt", "selectorsPatchedAt"),
            ("endpoints", "selectorsPatchedAt", "endpointsReadyAt"),
            ("first_request", "endpointsReadyAt", "firstSuccessfulRequestAt"),
        )
        for phase, start, end in phases:
            begin, finish = stamps.get(start), stamps.get(end)
            if begin is not None and finish is not None:
                metrics.PHASE_SECONDS.labels(phase=phase).observe(max(finish - begin, 0.0))

    def _failpoint(self, name: str) -> None:
        if self.settings.operator_failpoint == name:
            log.warning("failpoint_reached", failpoint=name)
            threading.Event().wait()
