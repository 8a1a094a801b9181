"""Client-side checks of rendered manifests, the parts kubeconform would not catch.

The API server validates shapes (see test_install_k8s.py); these checks are about
how the objects fit together: selectors that select, ports that exist, env names
the components read, no credential copied from values. Pure functions over the
objects `helm template` produced, each returning a list of problems (empty = fine).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: A label value as the API server accepts it (empty, or 63 characters at most).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")

#: Environment variables the tier0 components read (docs/kubernetes.md lists them).
TIER0_ENV = {
    "REGION",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_PASSWORD",
    "MQTT_HOST",
    "MQTT_PORT",
    "AMQP_URL",
    "METRICS_PORT",
    "LOG_LEVEL",
    "API_HOST",
    "API_PORT",
    "APP_VERSION",
    "ACTIVE_WINDOW_SECONDS",
    "NUM_DEVICES",
    "NUM_SITES",
    "PUBLISH_INTERVAL_SECONDS",
    "MQTT_SHARE_GROUP",
    "USER_SIM_INTERVAL_SECONDS",
    "COHERE_API_KEY",
    "WATCH_NAMESPACE",
    "OPERATOR_METRICS_PORT",
    "OPERATOR_HEALTH_PORT",
    "SHARD_INDEX",
    "SHARD_COUNT",
    "FAILOVER_ENABLED",
    "FAILOVER_NAMESPACE",
    "FAILOVER_GROUP",
    "SHUTDOWN_DRAIN_SECONDS",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "CONNECTION_MAX_AGE_SECONDS",
    "PROBE_TIMEOUT_SECONDS",
}
#: The entrypoints of the one tier0 image.
TIER0_MODULES = {
    "tier0_api",
    "tier0_ingest.mqtt",
    "tier0_ingest.amqp",
    "tier0_simulators.iot",
    "tier0_simulators.users",
    "tier0_operator",
}


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_template(obj: Obj) -> Obj:
    return obj["spec"]["template"]


def pod_templates(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            yield obj, pod_template(obj)


def containers(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj, template in pod_templates(objects):
        for container in template["spec"]["containers"]:
            yield obj, container


def is_tier0(container: Obj) -> bool:
    return container.get("command", [None])[0] == "python"


def label_of(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def basic_shape(objects: list[Obj]) -> list[str]:
    problems = []
    seen = set()
    for obj in objects:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in obj:
                problems.append(f"object without {key}: {obj}")
        name = obj["metadata"].get("name", "")
        key = (obj["kind"], name)
        if key in seen:
            problems.append(f"duplicate {label_of(obj)}")
        seen.add(key)
        if obj["kind"] in {
            "Service",
            "Deployment",
            "StatefulSet",
            "Job",
            "Pod",
        } and not DNS_LABEL.match(name):
            problems.append(f"{label_of(obj)}: name is not a DNS label")
        if len(name) > 63:
            problems.append(f"{label_of(obj)}: name longer than 63 characters")
    return problems


def selectors_match_templates(objects: list[Obj]) -> list[str]:
    problems = []
    for obj, template in pod_templates(objects):
        if obj["kind"] == "Job":
            continue  # Jobs generate their own selector
        selector = obj["spec"]["selector"]["matchLabels"]
        labels = template["metadata"]["labels"]
        extra = {k: v for k, v in selector.items() if labels.get(k) != v}
        if extra:
            problems.append(f"{label_of(obj)}: selector {extra} not in its pod labels")
        if "app.kubernetes.io/version" in selector or "helm.sh/chart" in selector:
            problems.append(f"{label_of(obj)}: selector uses a label that changes on upgrade")
    return problems


def services_select_pods(objects: list[Obj]) -> list[str]:
    problems = []
    templates = [t for _, t in pod_templates(objects)]
    for svc in of_kind(objects, "Service"):
        selector = svc["spec"].get("selector") or {}
        if not selector:
            problems.append(f"{label_of(svc)}: no selector")
            continue
        selected = [
            t
            for t in templates
            if all(t["metadata"]["labels"].get(k) == v for k, v in selector.items())
        ]
        if not selected:
            problems.append(f"{label_of(svc)}: selector {selector} matches no rendered pod")
            continue
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for template in selected:
                ports = [p for c in template["spec"]["containers"] for p in c.get("ports", [])]
                names = {p.get("name") for p in ports}
                numbers = {p["containerPort"] for p in ports}
                if target not in names and target not in numbers:
                    problems.append(
                        f"{label_of(svc)}: targetPort {target!r} missing in a selected pod"
                    )
    return problems


def label_values_are_valid(objects: list[Obj]) -> list[str]:
    """Every label value of every object and pod template is one the API server accepts
    (an image tag with a digest, "v1@sha256:...", is not)."""
    problems = []
    templates = [(obj, t["metadata"]) for obj, t in pod_templates(objects)]
    for obj, metadata in [*((o, o["metadata"]) for o in objects), *templates]:
        for key, value in (metadata.get("labels") or {}).items():
            if not isinstance(value, str) or not LABEL_VALUE.match(value):
                problems.append(f"{label_of(obj)}: label {key}={value!r} is not a valid value")
    return problems


def root_filesystems_read_only(objects: list[Obj]) -> list[str]:
    """Every container of every workload runs with a read-only root filesystem."""
    return [
        f"{label_of(obj)}: container {c['name']} has a writable root filesystem"
        for obj, c in containers(objects)
        if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True
    ]


def probes_use_declared_ports(objects: list[Obj]) -> list[str]:
    problems = []
    for obj, container in containers(objects):
        names = {p.get("name") for p in container.get("ports", [])}
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = container.get(probe_name) or {}
            for handler in ("httpGet", "tcpSocket"):
                port = (probe.get(handler) or {}).get("port")
                if isinstance(port, str) and port not in names:
                    problems.append(f"{label_of(obj)}: {probe_name} uses undeclared port {port}")
    return problems


def tier0_containers_are_consistent(objects: list[Obj]) -> list[str]:
    problems = []
    for obj, container in containers(objects):
        if not is_tier0(container):
            continue
        command = container["command"]
        if command[1] != "-m" or command[2] not in TIER0_MODULES:
            problems.append(f"{label_of(obj)}: unknown entrypoint {command}")
        unknown = {e["name"] for e in container.get("env", [])} - TIER0_ENV
        if unknown:
            problems.append(f"{label_of(obj)}: env names no component reads: {sorted(unknown)}")
        context = container.get("securityContext", {})
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{label_of(obj)}: allowPrivilegeEscalation is not false")
    return problems


def bound_service_accounts(objects: list[Obj]) -> set[str]:
    """ServiceAccounts some rendered RoleBinding or ClusterRoleBinding grants rights to."""
    return {
        subject["name"]
        for binding in objects
        if binding["kind"] in {"RoleBinding", "ClusterRoleBinding"}
        for subject in binding.get("subjects") or []
        if subject["kind"] == "ServiceAccount"
    }


def tokens_only_where_bound(objects: list[Obj]) -> list[str]:
    """A pod mounts a ServiceAccount token only when the chart grants that account rights.

    A token without a binding is an unused credential in the pod's filesystem. An
    unset automountServiceAccountToken counts as mounted (the Kubernetes default).
    """
    bound = bound_service_accounts(objects)
    problems = []
    for obj, template in pod_templates(objects):
        spec = template["spec"]
        account = spec.get("serviceAccountName", "default")
        if spec.get("automountServiceAccountToken") is not False and account not in bound:
            problems.append(f"{label_of(obj)}: mounts the token of unbound account {account}")
    return problems


def secret_values(objects: list[Obj]) -> dict[str, str]:
    """Every decoded Secret value, keyed by secret/key."""
    out = {}
    for secret in of_kind(objects, "Secret"):
        for key, value in (secret.get("data") or {}).items():
            out[f"{secret['metadata']['name']}/{key}"] = base64.b64decode(value).decode()
        for key, value in (secret.get("stringData") or {}).items():
            out[f"{secret['metadata']['name']}/{key}"] = value
    return out


def scalar_strings(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        return set().union(*(scalar_strings(v) for v in tree.values())) if tree else set()
    if isinstance(tree, list):
        return set().union(*(scalar_strings(v) for v in tree)) if tree else set()
    return {str(tree)} if isinstance(tree, str) and len(tree) >= 6 else set()


def secrets_hold_no_values_literals(objects: list[Obj], values: Any) -> list[str]:
    """A Secret value equal to (or containing) a string from values is a leaked literal.

    The RabbitMQ user name is public by design (values.rabbitmq.auth.username), so only
    the keys holding a secret are checked.
    """
    literals = scalar_strings(values)
    problems = []
    for where, value in secret_values(objects).items():
        if where.endswith("/username"):
            continue
        secret_part = value.split("@")[0] if where.endswith("amqp-url") else value
        for literal in literals:
            if literal in secret_part.split(":") or literal == value.strip():
                problems.append(f"{where} holds the values literal {literal!r}")
    return problems


def unknown_fields(document: Any, schema: Obj, path: str = "") -> list[str]:
    """Fields of a custom object that its CRD's structural schema does not declare.

    A typo in the chart's FailoverGroup (healthUrl for healthURL) would be pruned
    silently by the API server; this names it instead.
    """
    problems = []
    if isinstance(document, dict) and schema.get("type") == "object" and "properties" in schema:
        props = schema["properties"]
        for key, value in document.items():
            if key not in props:
                problems.append(f"{path}.{key}")
            else:
                problems += unknown_fields(value, props[key], f"{path}.{key}")
        for key in schema.get("required", []):
            if key not in document:
                problems.append(f"{path}.{key} (required, missing)")
    elif isinstance(document, list) and "items" in schema:
        for i, item in enumerate(document):
            problems += unknown_fields(item, schema["items"], f"{path}[{i}]")
    return problems
