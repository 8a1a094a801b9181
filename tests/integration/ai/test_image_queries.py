"""Image queries over real Redis: every term is a filter or reported as not mapped,
and the labelled set (benchmarks/image_queries.py) is answered exactly where the
query's words are filters (negations, counts, time of day, sites and regions)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from benchmarks.image_queries import IMAGE_QUERIES
from tier0_ai.images.annotation import ImageAnnotation

pytestmark = pytest.mark.integration
EXACT = ("negation", "count", "time of day", "site and region", "category")


def _truth(data: Path) -> dict[str, ImageAnnotation]:
    out = {}
    for path in (data / "images").glob("*.json"):
        if path.name != "manifest.json":
            record = json.loads(path.read_text())
            record.pop("caption")
            out[record["image_id"]] = ImageAnnotation.model_validate(record)
    return out


def _search(api: TestClient, query: str, top_k: int = 5) -> dict:
    reply = api.post("/api/images/search", json={"query": query, "top_k": top_k})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_labelled_set_has_every_kind_of_query() -> None:
    assert len(IMAGE_QUERIES) >= 100
    per = Counter(category for category, _, _ in IMAGE_QUERIES)
    assert {"negation", "count", "time of day", "site and region"} <= set(per)
    assert min(per.values()) >= 10, per


def test_filter_queries_find_only_relevant_images(api: TestClient, ai_data: Path) -> None:
    truth = _truth(ai_data)
    wrong = []
    for category, query, pred in IMAGE_QUERIES:
        if category not in EXACT:
            continue
        body = _search(api, query)
        relevant = sum(pred(a) for a in truth.values())
        hits = sum(pred(truth[r["image_id"]]) for r in body["results"])
        if hits < min(5, relevant) or body["interpretation"]["not_understood"]:
            wrong.append((query, hits, min(5, relevant), body["interpretation"]))
    assert not wrong, wrong


def test_negation_and_count_become_filters(api: TestClient, ai_data: Path) -> None:
    truth = _truth(ai_data)
    body = _search(api, "turbine without smoke", top_k=10)
    assert body["filters"] == {"category": ["turbine"], "exclude": ["smoke"]}
    assert all(not truth[r["image_id"]].smoke for r in body["results"])
    two = {i for i, a in truth.items() if a.workers_without_hardhat == 2}
    body = _search(api, "two workers without hard hats", top_k=len(two))
    assert body["filters"] == {"attrs": ["hatless_2"]} and not body["relaxed"]
    assert {r["image_id"] for r in body["results"]} == two
    applied = body["interpretation"]["applied"]
    assert applied == [
        {
            "field": "count",
            "text": "two workers without hard hats",
            "values": ["hatless_2"],
            "exclude": False,
        }
    ]


def test_unmapped_terms_are_reported_not_dropped(api: TestClient) -> None:
    body = _search(api, "red truck in the snow near a turbine")
    assert body["filters"] == {"category": ["turbine"]} and body["results"]
    assert [n["text"] for n in body["interpretation"]["not_understood"]] == ["red", "truck", "snow"]
    assert all("similarity only" in n["reason"] for n in body["interpretation"]["not_understood"])


@pytest.mark.parametrize(
    ("query", "field"), [("images from site ZZ-KILO", "site"), ("turbines in Ohio", "region")]
)
def test_a_site_or_region_that_does_not_exist_finds_nothing_and_says_so(
    api: TestClient, query: str, field: str
) -> None:
    body = _search(api, query)
    assert body["results"] == []
    (missing,) = body["interpretation"]["not_found"]
    assert missing["field"] == field and missing["known"]
