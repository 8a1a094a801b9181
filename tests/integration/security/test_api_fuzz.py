"""Fuzz every endpoint of both region APIs from their own OpenAPI schema (schemathesis).

Both APIs run as `make up` runs them (`python -m tier0_api`, AI routes mounted, Redis
with a small AI corpus, the failover endpoints on the REAL local API server under the
API ServiceAccount, called with the `make up` user's token). Every generated request
must get an answer that is not a 5xx and that matches the schema (status code, content
type, body). POST /api/failover/* get ``wait_seconds=0`` (no operator runs here, so a
wait would only time out); their validation and authorization are still fuzzed.

Quick part (`make test`): TIER0_FUZZ_EXAMPLES examples per operation (default 8).
Long part: `TIER0_FUZZ_EXAMPLES=300 .venv/bin/python -m pytest
tests/integration/security/test_api_fuzz.py` (docs/security.md), or `st run` against
`make up` as docs/security.md shows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    SERVICE,
    Namespace,
    admin,
    bare_group,
    cluster,
)
from tests.support.processes import Service, child_env, run_module
from tests.support.servers import Endpoint, clean_redis, free_port
from tier0_devenv.k8s import LocalCluster
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.settings import DevenvSettings
from tier0_operator.kube import Kube

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

EXAMPLES = int(os.environ.get("TIER0_FUZZ_EXAMPLES", "8"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@dataclass(frozen=True)
class Regions:
    urls: tuple[str, ...]
    token: str


@pytest.fixture(scope="module")
def fuzz_namespace(cluster: LocalCluster, admin: Kube) -> Iterator[Namespace]:  # noqa: F811
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    yield Namespace(name, cluster, admin)
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def fuzz_regions(
    fuzz_namespace: Namespace,
    redis_region1: Endpoint,
    redis_region2: Endpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Regions]:
    namespace = fuzz_namespace
    work = tmp_path_factory.mktemp("fuzz")
    settings_ = DevenvSettings(run_dir=work / "run")
    kube_stack.apply_identities(namespace.cluster, namespace.name, settings_)
    namespace.apply(bare_group())
    data = work / "ai"
    services: list[Service] = []
    urls = []
    try:
        for region, redis in (("region1", redis_region1), ("region2", redis_region2)):
            clean_redis(redis).close()
            env = child_env(work / "home", {**redis.redis_env(), "AI_LOG_LEVEL": "WARNING"})
            if not data.exists():
                run_module("tier0_ai", ["generate", "--out", str(data), "--images", "8",
                                        "--logs", "500"], env, 300)  # fmt: skip
            run_module("tier0_ai", ["index", "--data", str(data)], env, 600)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            api_env = child_env(
                work / "home",
                {
                    "REGION": region,
                    **redis.redis_env(),
                    "API_HOST": "127.0.0.1",
                    "API_PORT": str(port),
                    "KUBECONFIG": str(kube_stack.api_kubeconfig(settings_)),
                    "FAILOVER_NAMESPACE": namespace.name,
                    "FAILOVER_GROUP": SERVICE,
                    "LOG_LEVEL": "WARNING",
                },
            )
            log = work / f"api-{region}.log"
            services.append(Service(f"api-{region}", "tier0_api", api_env, log).start(
                f"{url}/health/ready", timeout=180))  # fmt: skip
            urls.append(url)
        token = kube_stack.user_token_file(settings_).read_text().strip()
        yield Regions(tuple(urls), token)
    finally:
        for service in reversed(services):
            service.stop()


def test_no_5xx_and_every_answer_matches_the_schema(fuzz_regions: Regions) -> None:
    """Every operation of the schema, EXAMPLES generated requests each, against both
    regions; the failures of all operations are reported together."""
    schema = schemathesis.openapi.from_url(f"{fuzz_regions.urls[0]}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_regions.token}"}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Case) -> None:
            if case.path.startswith("/api/failover/") and case.method.upper() == "POST":
                case.query = {**(case.query or {}), "wait_seconds": 0}
            for url in fuzz_regions.urls:
                case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=60)

        try:
            fuzz()
        # Schemathesis raises a BaseExceptionGroup of its check failures; collect them all.
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_both_regions_serve_the_same_operations(fuzz_regions: Regions) -> None:
    """One schema is fuzzed against both: they must describe the same API."""
    paths = [
        sorted(httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"])
        for url in fuzz_regions.urls
    ]
    assert paths[0] == paths[1]
    assert len(paths[0]) > 10
