"""The phase machine of one failover: gates, lock, selector switch, EndpointSlice wait, record.

Every step is idempotent and driven by the actual state plus the object's status, so
the same `reconcile()` serves a new object, a retry while another failover holds the
lock, and a restarted operator finding a failover InProgress:

* before the decision (phase absent or Pending): resolve the group, take the lock,
  run the gates, then commit by writing phase InProgress with decidedAt;
* after the decision (phase InProgress): patch whatever Service still selects the
  source region, wait for the EndpointSlices, probe the target once, and record.
  A resumed failover therefore finishes forward; if the EndpointSlices do not follow
  within ENDPOINTS_TIMEOUT_SECONDS the selectors are rolled back and the phase is Failed.

This module only sequences the steps. What they read is reads.py, the gates gates.py,
the EndpointSlice wait endpoints.py, what the status says status.py, the lock
locks.py; every Kubernetes call goes through the Cluster boundary (cluster.py). The
handlers in handlers.py are thin wrappers around this module. Why it is still ~430
lines: the order of the steps and what each outcome releases (the lock, the group's
record) is the one thing to read in one place; every step's own logic lives elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import structlog

from tier0_common.failover_crd import (
    AUTOMATIC_REASON,
    DETECTED_AT_ANNOTATION,
    PHASE_IN_PROGRESS,
    PHASE_PENDING,
    REQUESTED_AT_ANNOTATION,
    TERMINAL_PHASES,
)
from tier0_common.failover_models import GroupSpec, SpecError, parse_failover_spec, parse_group_spec
from tier0_common.rfc3339 import maybe_from_rfc3339, to_rfc3339
from tier0_operator import custom_objects, events, locks, measure, metrics, status
from tier0_operator.cluster import Cluster, Json
from tier0_operator.endpoints import EndpointWait
from tier0_operator.gates import refuse_on_failure, run_gates
from tier0_operator.health import GateResult, http_ok
from tier0_operator.reads import PendingReads, Reader, Reads
from tier0_operator.request import GroupLookup, Outcome, Refusal, Request
from tier0_operator.selectors import SelectorPlan, plan_selectors, selector_patch
from tier0_operator.settings import Settings

log = structlog.get_logger(__name__)

FIRST_REQUEST_POLL_SECONDS = 0.05
#: Called with a step's name as the failover passes it (see Failover).
Failpoint = Callable[[str], None]


def no_failpoint(step: str) -> None:
    """Production: nothing happens between steps."""


class Failover:
    """Reconciles RegionFailovers against a Cluster.

    ``failpoint`` is called after the decision ("after-decided") and after the Service
    patch ("after-selectors-patched"): the restart-safety tests inject one that blocks
    there until they kill the process (tests/support/operator_failpoint.py).
    """

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        http: httpx.Client,
        failpoint: Failpoint = no_failpoint,
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.http = http
        self.failpoint = failpoint
        self.reader = Reader(cluster, http)

    # -- entry point -------------------------------------------------------------

    def reconcile(self, body: Mapping[str, Any], groups: GroupLookup | None = None) -> Outcome:
        meta = body.get("metadata") or {}
        current = dict(body.get("status") or {})
        if current.get("phase") in TERMINAL_PHASES:
            return Outcome.DONE
        name, namespace = str(meta["name"]), str(meta["namespace"])
        annotations = meta.get("annotations") or {}
        stamps = dict(current.get("timestamps") or {})
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
            refused = status.refused(
                current, meta.get("generation"), "InvalidSpec", str(exc), [], stamps
            )
            custom_objects.write_failover_status(self.cluster, namespace, name, refused)
            metrics.FAILOVERS.labels(outcome="refused").inc()
            events.post_event(self.cluster, body, "Warning", "FailoverRefused", str(exc))
            return Outcome.DONE
        request = Request(
            name,
            namespace,
            body,
            current,
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
            return self._dry_run(req, group, self._plan(services, group, req), reads)
        if req.phase == PHASE_IN_PROGRESS:
            self._acquire(req, group)
            bound.info("failover_resumed", phase=req.phase)
            reads = self._finish_reads(req, group, pending)
            services = self._services(reads)
            return self._switch(
                req, group, self._plan(services, group, req), services, reads, bound
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
            plan = self._plan(services, group, req)
            if not plan.to_patch:
                self._complete_noop(req, group, plan)
                return Outcome.DONE
            gates = (
                []
                if spec.force
                else run_gates(self.http, group, spec, plan, reads, self.settings.canary_mqtt_auth)
            )
            refuse_on_failure(gates)
        except BaseException:
            self._release(req, group)
            raise
        req.stamps["decidedAt"] = to_rfc3339(time.time())
        committed = status.in_progress(req, plan, gates)
        self._write_status(req, committed)
        req.status = {**req.status, **committed}
        req.marks["committed"] = time.time()
        bound.info("failover_decided", source=spec.source_region, target=spec.target_region)
        self.failpoint("after-decided")
        return self._switch(req, group, plan, services, reads, bound)

    def _resolve_group(self, req: Request, groups: GroupLookup | None) -> GroupSpec:
        spec = req.spec
        if spec.group is None:
            return spec.inline_group()
        # The operator's index of FailoverGroups (kopf keeps it from the watch it runs
        # anyway) saves a round trip; a group created a moment ago may not be in it yet.
        group_spec = groups(req.namespace, spec.group) if groups else None
        if group_spec is None:
            obj = custom_objects.get_group(self.cluster, req.namespace, spec.group)
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
    def _services(reads: Reads) -> dict[str, Json]:
        services: dict[str, Json] = {}
        for name, svc in reads.services.items():
            if svc is None:
                raise Refusal("ServiceNotFound", f"Service {name!r} not found")
            services[name] = svc
        return services

    @staticmethod
    def _plan(
        services: Mapping[str, Mapping[str, Any]], group: GroupSpec, req: Request
    ) -> SelectorPlan:
        """What to patch (selectors.py); a Service on neither region is a Refusal."""
        spec = req.spec
        selectors = {n: (s.get("spec") or {}).get("selector") for n, s in services.items()}
        plan = plan_selectors(selectors, group.region_label, spec.source_region, spec.target_region)
        if plan.mismatched:
            detail = "; ".join(f"{n}: {why}" for n, why in plan.mismatched.items())
            raise Refusal("SelectorMismatch", detail)
        return plan

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
        patch = selector_patch(label, spec.target_region)
        self.reader.map(
            lambda svc: self.cluster.patch_service(req.namespace, svc, patch), plan.to_patch
        )
        req.marks["patched"] = time.time()
        req.stamps.setdefault("selectorsPatchedAt", to_rfc3339(req.marks["patched"]))
        self.failpoint("after-selectors-patched")
        deadline = time.monotonic() + self.settings.endpoints_timeout_seconds
        # The pods and EndpointSlices were listed before the decision (reads.py); the
        # wait watches from that list (endpoints.py).
        wait = EndpointWait(
            self.cluster,
            req.namespace,
            reads.target_pod_names,
            lambda: self._target_pods(req.namespace, label, spec.target_region),
        )
        ok, detail = wait.all_switched(reads.slices, deadline)
        if not ok:
            for svc in group.services:
                self.cluster.patch_service(
                    req.namespace, svc, selector_patch(label, spec.source_region)
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
        done = status.completed(req, plan, message, latency)
        # The group records its new active region before the object says Completed, so
        # whoever sees Completed also sees the group on the target (and a crash between
        # the two resumes through the no-op path, which records it too).
        self._release(req, group, transitioned=True)
        self._write_status(req, done)
        measure.observe(req, latency)
        metrics.FAILOVERS.labels(outcome="completed").inc()
        if group.name:
            metrics.set_active_region(
                group.name, spec.target_region, [r.name for r in group.regions]
            )
        bound.info(
            "failover_completed",
            latency_ms=round(latency * 1000, 1),
            forced=spec.force,
            steps_ms=measure.steps(req, ready_at),
        )
        events.post_event(self.cluster, req.body, "Normal", "FailoverCompleted", message)
        for svc in group.services:
            if svc in services:
                events.post_event(
                    self.cluster,
                    services[svc],
                    "Normal",
                    "SelectorSwitched",
                    f"{label}: {spec.source_region} -> {spec.target_region} "
                    f"by RegionFailover {req.name} ({spec.reason})",
                )
        return Outcome.DONE

    def _target_pods(self, namespace: str, label: str, target: str) -> frozenset[str]:
        """A consistent read: only used when the cached pod list looks out of date."""
        pods = self.reader.target_pods(namespace, label, target, cached=False)
        return frozenset(p["metadata"]["name"] for p in pods)

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

    # -- the lock and the group's record -------------------------------------------

    def _acquire(self, req: Request, group: GroupSpec) -> str | None:
        return locks.acquire_or_break_stale(self.cluster, req.namespace, group.services, req.name)

    def _release(
        self, req: Request, group: GroupSpec, *, transitioned: bool = False, settled: bool = False
    ) -> None:
        """Free the Services' lock and update the group: ``settled`` when its Services now
        select the target; ``transitioned`` when this request moved them there."""
        locks.release(self.cluster, req.namespace, group.services, req.name)
        if not group.name:
            return
        patch: dict[str, Any] = {"failoverInProgress": None}
        if settled or transitioned:
            patch["activeRegion"] = req.spec.target_region
        if transitioned:
            now = time.time()
            patch["lastTransitionTime"] = to_rfc3339(now)
            if req.spec.reason == AUTOMATIC_REASON:
                current = custom_objects.group_status(self.cluster, req.namespace, group.name)
                recent = [
                    t
                    for t in current.get("transitions") or []
                    if (maybe_from_rfc3339(t) or 0) > now - 3600
                ]
                patch["transitions"] = [*recent, to_rfc3339(now)]
        custom_objects.patch_group_status(self.cluster, req.namespace, group.name, patch)

    # -- the other outcomes ----------------------------------------------------------

    def _write_status(self, req: Request, new: dict[str, Any]) -> None:
        custom_objects.write_failover_status(self.cluster, req.namespace, req.name, new)

    def _refuse(self, req: Request, refusal: Refusal) -> None:
        refused = status.refused(
            req.status, req.generation, refusal.reason, refusal.message, refusal.gates, req.stamps
        )
        refused.update(forced=req.spec.force, dryRun=req.spec.dry_run)
        self._write_status(req, refused)
        metrics.FAILOVERS.labels(outcome="refused").inc()
        events.post_event(
            self.cluster,
            req.body,
            "Warning",
            "FailoverBlocked",
            f"{refusal.reason}: {refusal.message}",
        )

    def _mark_pending(self, req: Request, holder: str) -> None:
        message = f"waiting for RegionFailover {holder} to finish on the same Services"
        if req.phase == PHASE_PENDING and req.status.get("message") == message:
            return
        self._write_status(req, status.pending(req, message))

    def _dry_run(self, req: Request, group: GroupSpec, plan: SelectorPlan, reads: Reads) -> Outcome:
        spec = req.spec
        gates: list[GateResult] = (
            []
            if spec.force or not plan.to_patch
            else run_gates(self.http, group, spec, plan, reads, self.settings.canary_mqtt_auth)
        )
        refuse_on_failure(gates, prefix="dry run: ")
        changes = "; ".join(
            f"{svc}: {plan.before[svc]} -> {plan.after[svc]}" for svc in plan.to_patch
        )
        message = (
            f"dry run, nothing changed; would patch {changes or 'nothing (already on target)'}"
        )
        self._write_status(req, status.dry_run(req, plan, gates, message))
        metrics.FAILOVERS.labels(outcome="dry_run").inc()
        events.post_event(self.cluster, req.body, "Normal", "DryRun", message)
        return Outcome.DONE

    def _complete_noop(self, req: Request, group: GroupSpec, plan: SelectorPlan) -> None:
        noop = status.already_on_target(req, plan)
        # Already on the target (e.g. resumed after a crash that followed the patch):
        # the group must still name the target as active, without counting a transition.
        self._release(req, group, settled=True)
        self._write_status(req, noop)
        metrics.FAILOVERS.labels(outcome="completed").inc()

    def _fail(self, req: Request, group: GroupSpec, plan: SelectorPlan, message: str) -> None:
        self._write_status(req, status.failed(req, plan, message))
        self._release(req, group)
        metrics.FAILOVERS.labels(outcome="failed").inc()
        events.post_event(self.cluster, req.body, "Warning", "FailoverFailed", message)
