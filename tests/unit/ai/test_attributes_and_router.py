"""Query understanding: scene attributes for image search, routes for diagnostics."""

from __future__ import annotations

import pytest

from tier0_ai.attributes import extract
from tier0_ai.rag.router import plan


@pytest.mark.parametrize(
    ("text", "category", "attrs"),
    [
        ("Get turbine site that has workers without hats", {"turbine"}, {"no_hardhat"}),
        ("Get site with engineer holding a tablet", set(), {"tablet"}),
        ("crew wearing helmets at night", set(), {"hardhat", "night"}),
        ("bare-headed workers near the rotor", {"electrical_rotor"}, {"no_hardhat"}),
        ("smoke from a thermal engine", {"thermal_engine"}, {"smoke"}),
        ("turbines and rotors by day", set(), {"day"}),
    ],
)
def test_extract(text: str, category: set[str], attrs: set[str]) -> None:
    named = extract(text)
    assert named["category"] == category
    assert named["attrs"] == attrs


OPERATORS = ["BP", "Northwind Energy", "Tier0 Field Services"]


def test_seed_questions_route_to_the_right_computation() -> None:
    p = plan("Give me the most frequent IP devices generating error 400", OPERATORS)
    assert (p.route, p.status) == ("log_top_ips", 400)
    p = plan("How many safety incidences occurred in BP operations in 2024?", OPERATORS)
    assert (p.route, p.operators, p.years) == ("incident_count", ["BP"], [2024])
    assert (
        plan("Describe BP oil drill operations and hard hat requirements", OPERATORS).route
        == "documents"
    )
    assert (
        plan("List economic and social sustainability statements", OPERATORS).route == "documents"
    )


def test_other_analytics_routes() -> None:
    assert plan("which clients get status 503 most", OPERATORS).route == "log_top_ips"
    assert plan("show the log error rate over time", OPERATORS).route == "log_stats"
    assert plan("summarize the logs", OPERATORS).route == "log_summary"
    p = plan(
        "number of major incidents at TX-BRAVO for Northwind Energy in 2023 and 2025", OPERATORS
    )
    assert (p.route, p.sites, p.severities, p.years, p.operators) == (
        "incident_count",
        ["TX-BRAVO"],
        ["major"],
        [2023, 2025],
        ["Northwind Energy"],
    )
