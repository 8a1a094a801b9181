"""Real Prometheus scrapes tier0's metrics: the exposition, the scrape config format
and the dashboards' queries all hold up against the Prometheus that ships in Debian
(apt `prometheus`, 2.42), not just against prometheus_client's own parser.

One Prometheus per module on free ports, scraping exporter.py every second; the
repo's devenv/prometheus/prometheus.yml is checked with promtool.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.wait import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DASHBOARDS = REPO / "charts" / "tier0" / "dashboards"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(base: str, expr: str) -> dict[str, Any]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 400 carries the parse error as JSON
        return json.loads(error.read())


@pytest.fixture(scope="module")
def exporter() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("exporter.py")), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "serving"
    yield port
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def prometheus(exporter: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PROMETHEUS is None:
        pytest.fail("prometheus is not installed: run scripts/install.sh (apt prometheus)")
    work = tmp_path_factory.mktemp("prometheus")
    config = work / "prometheus.yml"
    target = f"127.0.0.1:{exporter}"
    # As in devenv/prometheus/prometheus.yml: regional processes get a `region` target
    # label; the operator does not, because its own metrics carry `region` (a target
    # label of the same name would rename theirs to exported_region).
    jobs = {
        "tier0-ingest": {"component": "ingest-mqtt", "region": "region1"},
        "tier0-operator": {"component": "operator"},
    }
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
                "scrape_configs": [
                    {"job_name": job, "static_configs": [{"targets": [target], "labels": labels}]}
                    for job, labels in jobs.items()
                ],
            }
        )
    )
    port = free_port()
    log = (work / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200,
            30,
            interval=0.2,
            what="prometheus ready",
        )
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_tier0_series_arrive_with_their_labels(prometheus: str) -> None:
    def series() -> list[dict[str, Any]]:
        return query(prometheus, 'tier0_ingest_dead_letters_total{job="tier0-ingest"}')["data"][
            "result"
        ]

    (sample,) = wait_for(series, 30, interval=0.2, what="tier0_ingest_dead_letters_total scraped")
    assert sample["metric"]["source"] == "mqtt"
    assert sample["metric"]["reason"] == "bad_json"
    assert sample["metric"]["region"] == "region1"
    assert sample["metric"]["component"] == "ingest-mqtt"
    assert float(sample["value"][1]) == 3.0
    active = wait_for(
        lambda: query(prometheus, 'tier0_active_region{job="tier0-operator"} == 1')["data"][
            "result"
        ],
        30,
        interval=0.2,
        what="the operator job's tier0_active_region scraped",
    )
    assert [r["metric"]["region"] for r in active] == ["region2"]
    buckets = query(
        prometheus, 'tier0_failover_latency_seconds_bucket{job="tier0-operator",le="0.05"}'
    )["data"]["result"]
    assert float(buckets[0]["value"][1]) == 1.0


def test_the_scrape_target_is_healthy(prometheus: str) -> None:
    def health() -> list[tuple[str, str]]:
        with urllib.request.urlopen(f"{prometheus}/api/v1/targets", timeout=5) as response:
            targets = json.loads(response.read())["data"]["activeTargets"]
        return sorted((t["labels"]["job"], t["health"]) for t in targets)

    expected = [("tier0-ingest", "up"), ("tier0-operator", "up")]
    wait_for(lambda: health() == expected, 30, interval=0.2, what=f"targets {expected}")


def dashboard_exprs() -> list[tuple[str, str]]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                out.append((f"{path.stem}: {panel['title']}", target["expr"]))
    return out


@pytest.mark.parametrize("where,expr", dashboard_exprs(), ids=[w for w, _ in dashboard_exprs()])
def test_dashboard_queries_parse(prometheus: str, where: str, expr: str) -> None:
    """Grafana's range variables replaced by fixed windows; Prometheus must accept the query."""
    concrete = re.sub(r"\$__rate_interval|\$__range", "5m", expr)
    answer = query(prometheus, concrete)
    assert answer["status"] == "success", f"{where}: {answer.get('error')}"


def test_devenv_scrape_config_is_valid() -> None:
    if PROMTOOL is None:
        pytest.fail("promtool is not installed: run scripts/install.sh (apt prometheus)")
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(REPO / "devenv" / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
