"""One probe-and-decide cycle of a FailoverGroup's automatic failover.

kopf runs one daemon per FailoverGroup (handlers.py) that calls `tick()` every
probeIntervalSeconds. A tick probes every region at once (one after the other, a
slow region would delay noticing the failing one by its whole probe timeout; under
load a sequential tick took ~2.3 s), folds the results into the
trackers (policy.py), writes the group's status, and acts on the policy's decision:
create a RegionFailover with reason `automatic` (so automatic failovers go through
the same gates and leave the same record as manual ones), or freeze automation with
a Warning Event. The trackers live in the status, so a restarted operator resumes
the stabilization window instead of starting it over.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from tier0_common.failover_crd import (
    AUTOMATIC_REASON,
    DETECTED_AT_ANNOTATION,
    REQUESTED_AT_ANNOTATION,
    UNFREEZE_ANNOTATION,
)
from tier0_common.failover_models import (
    FailoverSpec,
    GroupSpec,
    RegionSpec,
    SpecError,
    failover_manifest,
    parse_group_spec,
)
from tier0_common.rfc3339 import maybe_from_rfc3339, to_rfc3339
from tier0_operator import conditions as cond
from tier0_operator import custom_objects, events, locks, metrics
from tier0_operator.cluster import Cluster, ClusterError
from tier0_operator.health import probe_region
from tier0_operator.policy import Decision, Health, RegionTracker, decide

log = structlog.get_logger(__name__)


@dataclass
class GroupState:
    """What a daemon remembers between ticks (the rest is re-read from status)."""

    trackers: dict[str, RegionTracker] = field(default_factory=dict)
    #: The automatic RegionFailover this daemon created last, until it finishes.
    pending_failover: str | None = None
    restored: bool = False


class GroupAutomation:
    def __init__(self, cluster: Cluster, http: httpx.Client) -> None:
        self.cluster = cluster
        self.http = http

    def tick(self, namespace: str, name: str, state: GroupState) -> GroupState:
        # Re-read the object each tick: the reconciler writes activeRegion and the lock
        # into the same status, and a stale copy must not decide (or overwrite) them.
        body = custom_objects.get_group(self.cluster, namespace, name)
        if body is None:
            return state
        now = time.time()
        meta = body.get("metadata") or {}
        status = dict(body.get("status") or {})
        bound = log.bind(fg=name, namespace=namespace)
        try:
            group = parse_group_spec(name, body.get("spec") or {})
        except SpecError as exc:
            self._patch_status(
                namespace,
                name,
                {
                    "conditions": cond.set_condition(
                        status.get("conditions"),
                        cond.ACTIVE_HEALTHY,
                        None,
                        "InvalidSpec",
                        str(exc),
                        generation=meta.get("generation"),
                        now=now,
                    )
                },
            )
            return state
        if not state.restored:
            state.trackers = {
                r["name"]: RegionTracker.from_status(r)
                for r in status.get("regions") or ()
                if "name" in r
            }
            state.restored = True
        for region, (ok, message) in zip(
            group.regions, self._probe_all(namespace, group.regions), strict=True
        ):
            tracker = state.trackers.get(region.name) or RegionTracker(region.name)
            state.trackers[region.name] = tracker.observe(ok, now, group.policy, message)
        state.trackers = {r.name: state.trackers[r.name] for r in group.regions}

        active = str(status.get("activeRegion") or self._active_from_services(namespace, group))
        frozen = bool(status.get("automationFrozen"))
        transitions = [
            t for t in (maybe_from_rfc3339(x) for x in status.get("transitions") or ()) if t
        ]
        patch: dict[str, Any] = {}
        if frozen and UNFREEZE_ANNOTATION in (meta.get("annotations") or {}):
            frozen, transitions = False, []
            patch.update(automationFrozen=False, frozenReason=None, transitions=[])
            self._drop_unfreeze_annotation(namespace, name)
            events.post_event(
                self.cluster,
                body,
                "Normal",
                "AutomationUnfrozen",
                "automation unfrozen by the tier0.io/unfreeze annotation; flap budget reset",
            )
            bound.info("automation_unfrozen")

        # The per-Service Leases are the lock; mirror their holder into the status
        # (the reconciler does not write it, to keep that write off the failover path).
        holders = sorted(
            {h for svc in group.services if (h := locks.holder_of(self.cluster, namespace, svc))}
        )
        patch["failoverInProgress"] = ", ".join(holders) or None
        # A failover that finished during this tick has already moved the Services, but
        # `body` (activeRegion) was read before that: deciding on it would ask for the
        # same switch again ("already on region2; nothing to change"). The next tick
        # re-reads the group and decides on the new active region.
        just_finished = False
        if state.pending_failover and self._is_finished(namespace, state.pending_failover):
            state.pending_failover = None
            just_finished = True
        decision = decide(
            group,
            active,
            state.trackers,
            now,
            last_transition=maybe_from_rfc3339(status.get("lastTransitionTime")),
            transitions=transitions,
            frozen=frozen,
            in_progress=bool(holders or state.pending_failover or just_finished),
            last_attempt=maybe_from_rfc3339(status.get("lastAutomaticAttemptTime")),
        )
        if decision.action == Decision.FREEZE:
            frozen = True
            patch.update(automationFrozen=True, frozenReason=decision.reason)
            events.post_event(
                self.cluster,
                body,
                "Warning",
                "AutomationFrozen",
                f"{decision.reason}; annotate the FailoverGroup with "
                f"{UNFREEZE_ANNOTATION}=<anything> to resume automation",
            )
            bound.warning("automation_frozen", reason=decision.reason)
        elif decision.action == Decision.FAILOVER and decision.target:
            created = self._create_failover(namespace, group, active, decision)
            state.pending_failover = created
            patch["lastAutomaticAttemptTime"] = to_rfc3339(now)
            events.post_event(
                self.cluster,
                body,
                "Normal",
                "AutomaticFailover",
                f"{decision.reason}: created RegionFailover {created} "
                f"{active} -> {decision.target}",
            )
            bound.info("automatic_failover", rfo=created, source=active, target=decision.target)

        active_tracker = state.trackers.get(active)
        healthy = (
            None
            if active_tracker is None or active_tracker.state is Health.UNKNOWN
            else (active_tracker.state is Health.HEALTHY)
        )
        conds = cond.set_condition(
            status.get("conditions"),
            cond.ACTIVE_HEALTHY,
            healthy,
            active_tracker.state.value if active_tracker else "Unknown",
            f"{active}: {active_tracker.message if active_tracker else 'not probed'}; "
            f"{decision.reason}",
            generation=meta.get("generation"),
            now=now,
        )
        conds = cond.set_condition(
            conds,
            cond.AUTOMATION_FROZEN,
            frozen,
            "FlapBudgetSpent" if frozen else "WithinBudget",
            str(patch.get("frozenReason") or status.get("frozenReason") or "")
            if frozen
            else "automation may act",
            generation=meta.get("generation"),
            now=now,
        )
        if not status.get("activeRegion"):
            patch["activeRegion"] = active
        patch.update(
            regions=[t.to_status() for t in state.trackers.values()],
            conditions=conds,
            observedGeneration=meta.get("generation"),
        )
        self._patch_status(namespace, name, patch)
        metrics.set_active_region(name, active, [r.name for r in group.regions])
        metrics.AUTOMATION_FROZEN.labels(group=name).set(1 if frozen else 0)
        return state

    def _probe_all(
        self, namespace: str, regions: Sequence[RegionSpec]
    ) -> list[tuple[bool | None, str]]:
        """Every region's probe, concurrently: the tick lasts as long as the slowest."""

        def probe(region: RegionSpec) -> tuple[bool | None, str]:
            return probe_region(self.cluster, self.http, namespace, region)

        if len(regions) < 2:
            return [probe(r) for r in regions]
        with ThreadPoolExecutor(max_workers=len(regions), thread_name_prefix="probe") as pool:
            return list(pool.map(probe, regions))

    def _active_from_services(self, namespace: str, group: GroupSpec) -> str:
        """Before the first failover the active region is whatever the Services select."""
        try:
            svc = self.cluster.get_service(namespace, group.services[0])
        except ClusterError:
            return group.initial_region
        if svc is None:
            return group.initial_region
        selector = (svc.get("spec") or {}).get("selector") or {}
        return str(selector.get(group.region_label) or group.initial_region)

    def _is_finished(self, namespace: str, name: str) -> bool:
        return custom_objects.failover_finished(self.cluster, namespace, name)

    def _create_failover(
        self, namespace: str, group: GroupSpec, active: str, decision: Decision
    ) -> str:
        # The request is made now, not when the tick began: the tick's probes and reads
        # are detection time, and counting them as "requested -> handler" hid where an
        # automatic failover's seconds went.
        annotations = {REQUESTED_AT_ANNOTATION: to_rfc3339(time.time())}
        if decision.detected_at is not None:
            annotations[DETECTED_AT_ANNOTATION] = to_rfc3339(decision.detected_at)
        spec = FailoverSpec(
            group=group.name,
            source_region=active,
            target_region=decision.target,
            reason=AUTOMATIC_REASON,
        )
        body = failover_manifest(
            spec,
            generate_name=f"{group.name}-auto-",
            annotations=annotations,
            namespace=namespace,
        )
        return custom_objects.create_failover(self.cluster, namespace, body)

    def _drop_unfreeze_annotation(self, namespace: str, name: str) -> None:
        custom_objects.patch_group(
            self.cluster,
            namespace,
            name,
            {"metadata": {"annotations": {UNFREEZE_ANNOTATION: None}}},
        )

    def _patch_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        custom_objects.patch_group_status(self.cluster, namespace, name, patch)
