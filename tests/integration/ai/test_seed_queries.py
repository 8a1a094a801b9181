"""The seed's example queries, answered offline over real Redis, checked against the
raw generated files (annotations, access log, incident records)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tier0_ai.docs.corpus import REAL_NAME_NOTICE

pytestmark = pytest.mark.integration


def _annotations(data: Path) -> dict[str, dict[str, object]]:
    out = {}
    for path in (data / "images").glob("*.json"):
        if path.name != "manifest.json":
            record = json.loads(path.read_text())
            out[record["image_id"]] = record
    return out


def _search(api: TestClient, query: str, top_k: int = 5, **filters: str) -> dict:
    reply = api.post("/api/images/search", json={"query": query, "top_k": top_k, **filters})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_turbine_site_with_workers_without_hats(api: TestClient, ai_data: Path) -> None:
    truth = _annotations(ai_data)
    expected = {
        i for i, a in truth.items() if a["category"] == "turbine" and a["workers_without_hardhat"]
    }
    assert len(expected) >= 3
    body = _search(api, "Get turbine site that has workers without hats", top_k=len(expected))
    got = [r["image_id"] for r in body["results"]]
    assert set(got) == expected
    assert body["embedded"] == "caption" and body["model"] == "all-MiniLM-L6-v2-onnx-int8"
    for r in body["results"]:
        assert r["site_id"] == truth[r["image_id"]]["site_id"]
        assert r["url"] == f"/api/images/{r['image_id']}/file"


def test_site_with_engineer_holding_a_tablet(api: TestClient, ai_data: Path) -> None:
    truth = _annotations(ai_data)
    body = _search(api, "Get site with engineer holding a tablet")
    assert len(body["results"]) == 5
    assert all(truth[r["image_id"]]["engineer_with_tablet"] for r in body["results"])
    assert body["filters"] == {"attrs": ["tablet"]} and not body["relaxed"]


def test_explicit_site_filter_holds_even_when_relaxing(api: TestClient, ai_data: Path) -> None:
    truth = _annotations(ai_data)
    body = _search(api, "smoke at night with workers without hats", top_k=6, site_id="WY-ALPHA")
    assert body["results"] and all(r["site_id"] == "WY-ALPHA" for r in body["results"])
    assert len(body["results"]) == min(6, sum(a["site_id"] == "WY-ALPHA" for a in truth.values()))


def _raw_status_counts(access_log: Path, status: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in access_log.read_text().splitlines():
        parts = line.split('"')
        if int(parts[2].split()[0]) == status:
            counts[line.split(" ", 1)[0]] += 1
    return counts


def test_most_frequent_ips_generating_error_400(api: TestClient, ai_data: Path) -> None:
    raw = _raw_status_counts(ai_data / "logs" / "access.log", 400)
    top3 = raw.most_common(3)
    reply = api.post(
        "/api/diagnostics/query",
        json={"question": "Give me the most frequent IP devices generating error 400"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["route"] == "log_top_ips"
    assert body["figures"]["total"] == sum(raw.values())
    assert [(i["ip"], i["count"]) for i in body["figures"]["top_ips"][:3]] == top3
    for ip, count in top3:
        assert f"{ip} ({count} responses)" in body["answer"]
    errors = api.get("/api/diagnostics/logs/errors/400", params={"limit": 3}).json()
    assert [(i["ip"], i["count"]) for i in errors["ips"]] == top3
    assert errors["total"] == sum(raw.values())


def test_bp_safety_incidents_in_2024(api: TestClient, ai_data: Path) -> None:
    records = [json.loads(line) for line in (ai_data / "incidents.jsonl").read_text().splitlines()]
    bp2024 = [r for r in records if r["operator"] == "BP" and r["date"].startswith("2024")]
    by_severity = Counter(r["severity"] for r in bp2024)
    body = api.post(
        "/api/diagnostics/query",
        json={"question": "How many safety incidences occurred in BP operations in 2024?"},
    ).json()
    assert body["route"] == "incident_count"
    assert body["figures"]["total"] == len(bp2024)
    assert body["figures"]["by_severity"] == dict(by_severity)
    assert body["answer"].startswith(f"{len(bp2024)} safety incident")
    for severity, n in by_severity.items():
        assert f"{n} {severity}" in body["answer"]
    incidents = {s["id"] for s in body["sources"] if s["kind"] == "incident"}
    assert incidents == {r["incident_id"] for r in bp2024}
    applied = {(c["field"], tuple(c["values"])) for c in body["interpretation"]["applied"]}
    assert applied == {("operator", ("BP",)), ("date", ("2024",))}
    assert REAL_NAME_NOTICE in body["answer"] and body["synthetic_data"]


def _doc_ids(body: dict) -> list[str]:
    return [s["id"].split("#")[0] for s in body["sources"]]


def test_bp_drilling_operations_and_hard_hat_requirements(api: TestClient) -> None:
    body = api.post(
        "/api/diagnostics/query",
        json={"question": "Describe BP oil drill operations and hard hat requirements"},
    ).json()
    assert body["route"] == "documents" and body["found"]
    docs = _doc_ids(body)
    assert {"bp-drilling-operations", "ppe-hard-hat-requirements"} <= set(docs)
    assert "[ppe-hard-hat-requirements]" in body["answer"] and REAL_NAME_NOTICE in body["answer"]
    for number in re.findall(r"\d+", body["answer"]):
        assert any(number in s["snippet"] for s in body["sources"]) or number in REAL_NAME_NOTICE


def test_economic_and_social_sustainability_statements(api: TestClient) -> None:
    body = api.post(
        "/api/diagnostics/query",
        json={"question": "List economic and social sustainability statements", "top_k": 6},
    ).json()
    docs = _doc_ids(body)
    assert {"bp-sustainability-economic", "bp-sustainability-social"} <= set(docs)
    assert set(docs[:5]) <= {"bp-sustainability-economic", "bp-sustainability-social"}
    assert body["answer"].count("\n- ") >= 4


def test_unrelated_question_says_nothing_relevant(api: TestClient) -> None:
    body = api.post(
        "/api/diagnostics/query",
        json={"question": "What is the airspeed velocity of an unladen swallow?"},
    ).json()
    assert not body["found"] and body["sources"] == []
    assert "Nothing relevant" in body["answer"]
    assert not re.search(r"\d", body["answer"])


def test_list_site_and_file_endpoints(api: TestClient, ai_data: Path) -> None:
    truth = _annotations(ai_data)
    listing = api.get("/api/images/list", params={"limit": 500}).json()
    assert listing["total"] == len(truth) and len(listing["images"]) == len(truth)
    assert all(i["synthetic"] for i in listing["images"])
    site = api.get("/api/images/site/tx-bravo").json()
    assert {i["image_id"] for i in site["images"]} == {
        i for i, a in truth.items() if a["site_id"] == "TX-BRAVO"
    }
    some = listing["images"][0]["image_id"]
    file = api.get(f"/api/images/{some}/file")
    assert file.status_code == 200 and file.headers["content-type"] == "image/png"
    assert file.content == (ai_data / "images" / f"{some}.png").read_bytes()


def test_log_stats_and_summary_match_the_raw_files(api: TestClient, ai_data: Path) -> None:
    lines = (ai_data / "logs" / "access.log").read_text().splitlines()
    statuses = Counter(int(line.split('"')[2].split()[0]) for line in lines)
    stats = api.get("/api/diagnostics/logs/stats", params={"bucket_seconds": 3600}).json()
    assert stats["status_distribution"] == {str(k): v for k, v in statuses.items()}
    series = stats["error_rate_over_time"]
    assert sum(b["total"] for b in series) == len(lines)
    assert sum(b["errors"] for b in series) == sum(v for k, v in statuses.items() if k >= 400)
    summary = api.get("/api/diagnostics/logs/summary").json()["summary"]
    app_lines = (ai_data / "logs" / "app.jsonl").read_text().splitlines()
    assert summary["total_entries"] == len(lines) + len(app_lines)
    assert summary["http_errors"] == sum(v for k, v in statuses.items() if k >= 400)
