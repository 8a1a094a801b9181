"""The dashboard in Chromium against real region APIs, Redis and the AI corpus: every
figure the page shows is compared with what the test wrote to Redis (or, for the AI
answers, with what the API returns for the same request)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.servers import free_port
from tier0_dashboard.content import IMAGE_EXAMPLES, QUICK_QUERIES

from .conftest import ARTIFACTS, REGION1, REGION2, PageProblems, Stack, dashboard_service

pytestmark = pytest.mark.e2e

PageFixture = tuple[Page, PageProblems]


def api_message(body: dict[str, Any]) -> str:
    """What static/js/api.js apiMessage() shows for an error body (same order of
    preference), so the test states the expected text independently of the page."""
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail:
            where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("message") or json.dumps(detail, separators=(",", ":")))
    for key in ("detail", "message", "error"):
        if isinstance(body.get(key), str) and body[key]:
            return str(body[key])
    return json.dumps(body, separators=(",", ":"))[:300]


def open_dashboard(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def region_field(page: Page, region: str, field: str) -> Locator:
    return page.locator(f'.region-card[data-region="{region}"] dd[data-field="{field}"]')


def test_region_columns_show_each_regions_own_data(stack: Stack, page: PageFixture) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    for data in (REGION1, REGION2):
        expect(region_field(tab, data.name, "active_devices")).to_have_text(str(data.devices))
        expect(region_field(tab, data.name, "active_users")).to_have_text(str(data.active_users))
        expect(region_field(tab, data.name, "version")).to_have_text(f"v1.0.0057_{data.name}")
        expect(region_field(tab, data.name, "status")).to_have_text("active")
        expect(region_field(tab, data.name, "health")).to_have_text("healthy")
        expect(region_field(tab, data.name, "data_age")).to_have_text(
            re.compile(r"^\d+(\.\d)? (ms|s|min)$")
        )
    assert problems.errors == []


def test_four_buttons_show_the_numbers_written_to_redis(stack: Stack, page: PageFixture) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    result = tab.locator("#button-result")

    def press(name: str) -> None:
        tab.get_by_role("button", name=name, exact=True).click()
        expect(result).to_have_attribute("data-state", "done")

    press("Active Users")
    expect(result.locator('[data-field="active_users"]')).to_have_text(str(REGION1.active_users))
    expect(result.locator('[data-field="active_connections"]')).to_have_text(
        str(REGION1.active_connections)
    )
    expect(result.locator("table").first).to_contain_text("NYC-WEB-01")

    press("Active Devices")
    expect(result.locator('[data-field="active_devices"]')).to_have_text(str(REGION1.devices))
    by_state = result.locator("table", has_text="By state")
    expect(by_state.locator("tr", has_text="ALERT").locator("td")).to_have_text(
        str(REGION1.devices // 5)
    )

    press("Deployment Version")
    expect(result.locator('[data-field="version"]')).to_have_text("v1.0.0057_region1")
    expect(result).to_contain_text("Served by region1.")

    press("Status")
    expect(result.locator('[data-field="status"]')).to_have_text("active")
    expect(result.locator("table")).to_contain_text(str(REGION1.devices))
    assert problems.errors == []


def test_alerts_table_pages_and_filters_by_site(stack: Stack, page: PageFixture) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    alerts = tab.locator("#alerts-output")
    total = REGION1.alerts()
    assert total > 20, "the data must span more than one page"
    expect(alerts.locator(".pager-summary")).to_have_attribute("data-total", str(total))
    expect(alerts.locator("tbody tr")).to_have_count(20)
    first_page = alerts.locator("tbody tr").first.get_attribute("data-device")

    alerts.get_by_role("button", name="Next page").click()
    expect(alerts.locator(".pager-summary")).to_contain_text(
        f"Showing 21–{min(40, total)} of {total}"
    )
    assert alerts.locator("tbody tr").first.get_attribute("data-device") != first_page

    tab.get_by_label("Site", exact=True).first.select_option("WY-ALPHA")
    expected = REGION1.alerts("WY-ALPHA")
    expect(alerts.locator(".pager-summary")).to_have_attribute("data-total", str(expected))
    expect(alerts.locator("tbody tr")).to_have_count(expected)
    for cell in alerts.locator("tbody tr td:nth-child(3)").all_inner_texts():
        assert cell == "WY-ALPHA"
    assert problems.errors == []


def test_site_metrics_show_the_sites_devices(stack: Stack, page: PageFixture) -> None:
    tab, _ = page
    open_dashboard(tab, stack.dashboard)
    tab.locator("#metrics-site").select_option("TX-BRAVO")
    tab.get_by_role("button", name="Show metrics").click()
    output = tab.locator("#metrics-output")
    expect(output).to_contain_text(f"{REGION1.site_devices('TX-BRAVO')} devices")
    expect(output.locator("table.metrics")).to_have_count(4)
    expect(output.locator('table.metrics[data-type="turbine"]')).to_contain_text("rpm")


def test_llm_quick_query_shows_the_answer_and_its_sources(stack: Stack, page: PageFixture) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    question = QUICK_QUERIES[1]  # retrieval over the documents: an answer with sources
    tab.locator("#llm-form").get_by_role("button", name=question).click()
    output = tab.locator("#llm-output")
    expect(output).to_have_attribute("data-state", "done", timeout=90_000)
    truth = httpx.post(
        f"{stack.api1}/api/diagnostics/query", json={"question": question}, timeout=60
    ).json()
    assert truth["sources"], "this quick query is answered from documents"
    expect(output.locator('[data-field="answer"]')).to_have_text(truth["answer"])
    shown = output.locator("[data-source]").evaluate_all(
        "(items) => items.map((i) => i.dataset.source)"
    )
    assert shown == [source["id"] for source in truth["sources"]]
    expect(tab.locator("#llm-question")).to_have_value(question)
    assert problems.errors == []


def test_image_search_shows_thumbnails_captions_and_scores(stack: Stack, page: PageFixture) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    query = IMAGE_EXAMPLES[0]
    tab.locator("#image-form").get_by_role("button", name=query).click()
    output = tab.locator("#image-output")
    expect(output).to_have_attribute("data-state", "done", timeout=90_000)
    truth = httpx.post(
        f"{stack.api1}/api/images/search", json={"query": query, "top_k": 6}, timeout=60
    ).json()
    assert truth["results"]
    shown = output.locator("[data-image]").evaluate_all(
        "(items) => items.map((i) => i.dataset.image)"
    )
    assert shown == [r["image_id"] for r in truth["results"]]
    expect(output.locator('[data-field="embedded_note"]')).to_contain_text(
        f"Embedded with {truth['model']}"
    )
    first = truth["results"][0]
    expect(output.locator("figcaption").first).to_contain_text(first["caption"])
    expect(output.locator(".score").first).to_have_text(f"score {first['score']:.3f}")
    # Every thumbnail really loaded from the region API (decoded, non-zero size).
    images = output.locator("img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
        expect(images.nth(index)).to_have_js_property("complete", True)
        assert images.nth(index).evaluate("(img) => img.naturalWidth") > 0
    assert problems.errors == []


def test_failover_button_shows_the_apis_error_without_kubernetes(
    stack: Stack, page: PageFixture
) -> None:
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    tab.get_by_role("button", name="Simulate failover").click()
    output = tab.locator("#failover-output")
    expect(output).to_have_attribute("data-state", "error")
    truth = httpx.post(
        f"{stack.api1}/api/failover/simulate",
        json={
            "source_region": "region1",
            "target_region": "region2",
            "reason": "dashboard simulate",
            "dry_run": False,
            "force": False,
        },
        timeout=30,
    )
    assert truth.status_code >= 400, f"Kubernetes is not configured here, yet: {truth.text}"
    message = api_message(truth.json())
    # The page names who answered, the status and the API's own explanation, verbatim.
    expect(output.get_by_role("alert")).to_have_text(
        f"The active API answered {truth.status_code} {truth.reason_phrase} to POST /api/failover/simulate: {message}"
    )

    tab.get_by_role("button", name="Failover status").click()
    expect(tab.locator("#failover-history")).to_have_attribute(
        "data-state", re.compile("done|error")
    )
    expect(tab.locator("#failover-history")).not_to_be_empty()
    assert problems.errors == []


def test_unreachable_region_is_explained_not_blank(
    stack: Stack, page: PageFixture, run_dir: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    port = stack.spare_dashboard_port  # an origin the APIs allow
    service = dashboard_service(
        run_dir, "dashboard-dead", port, f"region1={stack.api1},region2={dead}", dead
    )
    service.start(f"http://127.0.0.1:{port}/health")
    try:
        tab, problems = page
        open_dashboard(tab, f"http://127.0.0.1:{port}")
        expect(region_field(tab, "region2", "status")).to_have_text("unreachable")
        expect(tab.locator('.region-card[data-region="region2"] .region-problem')).to_contain_text(
            f"Cannot reach region2 at {dead}/api/status"
        )
        expect(region_field(tab, "region1", "active_devices")).to_have_text(str(REGION1.devices))
        tab.get_by_role("button", name="Active Devices", exact=True).click()
        expect(tab.locator("#button-result").get_by_role("alert")).to_contain_text(
            f"Cannot reach the active API at {dead}/api/devices/active"
        )
        assert problems.errors == []
    finally:
        service.stop()


def test_full_page_screenshot(stack: Stack, page: PageFixture) -> None:
    """Fill every panel, then keep a screenshot for a person to look at."""
    tab, problems = page
    open_dashboard(tab, stack.dashboard)
    expect(region_field(tab, "region2", "active_devices")).to_have_text(str(REGION2.devices))
    tab.get_by_role("button", name="Active Devices", exact=True).click()
    expect(tab.locator("#button-result")).to_have_attribute("data-state", "done")
    tab.get_by_role("button", name="Simulate failover").click()
    expect(tab.locator("#failover-output")).to_have_attribute(
        "data-state", re.compile("done|error")
    )
    tab.locator("#metrics-site").select_option("WY-ALPHA")
    tab.get_by_role("button", name="Show metrics").click()
    expect(tab.locator("#metrics-output table.metrics")).to_have_count(4)
    tab.locator("#image-form").get_by_role("button", name=IMAGE_EXAMPLES[1]).click()
    expect(tab.locator("#image-output")).to_have_attribute("data-state", "done", timeout=90_000)
    tab.locator("#llm-form").get_by_role("button", name=QUICK_QUERIES[0]).click()
    expect(tab.locator("#llm-output")).to_have_attribute("data-state", "done", timeout=90_000)
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    tab.evaluate("window.scrollTo(0, 0)")
    tab.screenshot(path=str(ARTIFACTS / "dashboard-top.png"))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    assert problems.errors == []
