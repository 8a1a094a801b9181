"""Query understanding: scene attributes for image search, routes for diagnostics."""

from __future__ import annotations

from datetime import date

import pytest

from tier0_ai.attributes import extract
from tier0_ai.rag.understand import interpret
from tier0_ai.rag.vocabulary import Vocabulary
from tier0_common.catalog import SITE_IDS


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


VOCAB = Vocabulary(
    incidents={
        "operator": ["BP", "Northwind Energy", "Tier0 Field Services"],
        "site": list(SITE_IDS),
        "severity": ["major", "minor", "moderate"],
        "kind": ["gas release", "fluid spill"],
        "year": ["2023", "2024", "2025"],
    },
    http={"status": ["200", "400", "404", "503"], "path": ["/api/telemetry", "/health"]},
    app={"level": ["ERROR", "INFO"], "service": ["api", "ingest"], "site": list(SITE_IDS)},
    incident_span=(date(2023, 1, 10), date(2025, 12, 10)),
)


def test_seed_questions_route_to_the_right_computation() -> None:
    i = interpret("Give me the most frequent IP devices generating error 400", VOCAB)
    assert (i.dataset, i.intent, i.group_by, i.statuses) == ("http", "rank", "ip", [(400, 400)])
    i = interpret("How many safety incidences occurred in BP operations in 2024?", VOCAB)
    assert (i.dataset, i.intent, i.values("operator")) == ("incidents", "count", ["BP"])
    assert i.dates == [(date(2024, 1, 1), date(2024, 12, 31))]
    assert not (i.not_understood or i.not_found or i.contradictions)
    for question in (
        "Describe BP oil drill operations and hard hat requirements",
        "List economic and social sustainability statements",
    ):
        i = interpret(question, VOCAB)
        assert i.dataset == "documents" and not i.not_found


def test_everyday_words_map_to_the_records_vocabulary() -> None:
    i = interpret("How many serious incidents did Northwind have last year?", VOCAB)
    assert i.values("severity") == ["major"] and i.values("operator") == ["Northwind Energy"]
    assert i.dates == [(date(2024, 1, 1), date(2024, 12, 31))]  # the records' calendar
    assert any("latest record" in c.note for c in i.applied if c.field == "date")
    i = interpret("incidents at Texas Bravo since March 2024 excluding minor ones", VOCAB)
    assert i.values("site") == ["TX-BRAVO"] and i.excluded("severity") == ["minor"]
    assert i.dates == [(date(2024, 3, 1), date(9999, 12, 31))]
    i = interpret("How many incidents at Wyomin Alpha?", VOCAB)  # a typo, rapidfuzz
    assert i.values("site") == ["WY-ALPHA"]


def test_every_constraint_is_applied_or_reported() -> None:
    i = interpret("How many turbine incidents for operator Acme Oil in 2019?", VOCAB)
    assert [n.text for n in i.not_understood] == ["turbine"]
    assert {(n.field, n.text) for n in i.not_found} == {("operator", "Acme Oil"), ("date", "2019")}
    i = interpret("How many incidents in Ohio?", VOCAB)
    assert [(n.field, n.text) for n in i.not_found] == [("region", "Ohio")]
    assert "Texas" in i.not_found[0].known


@pytest.mark.parametrize(
    "question",
    [
        "incidents between 2025 and 2023",
        "How many incidents at TX-BRAVO in Wyoming?",
        "How many incidents in 2023 since 2024?",
        "How many 404 server errors?",
        "How many major non-major incidents?",
    ],
)
def test_contradictions_are_named(question: str) -> None:
    assert interpret(question, VOCAB).contradictions


def test_other_analytics_routes() -> None:
    i = interpret("which clients get status 503 most", VOCAB)
    assert (i.intent, i.group_by) == ("rank", "ip")
    assert interpret("show the log error rate over time", VOCAB).intent == "stats"
    assert interpret("summarize the logs", VOCAB).intent == "summary"
    i = interpret(
        "number of major incidents at TX-BRAVO for Northwind Energy in 2023 and 2025", VOCAB
    )
    assert (i.intent, i.values("site"), i.values("severity"), i.values("operator")) == (
        "count",
        ["TX-BRAVO"],
        ["major"],
        ["Northwind Energy"],
    )
    assert [d[0].year for d in i.dates or []] == [2023, 2025]
    i = interpret("top 3 sites by serious incidents", VOCAB)
    assert (i.intent, i.group_by, i.limit) == ("rank", "site", 3)


def test_several_values_are_alternatives_and_negations_exclude() -> None:
    i = interpret("How many incidents did BP and Northwind have at TX-BRAVO or WY-ALPHA?", VOCAB)
    assert i.values("operator") == ["BP", "Northwind Energy"]
    assert i.values("site") == ["TX-BRAVO", "WY-ALPHA"]
    i = interpret("How many incidents outside Texas, excluding 2023?", VOCAB)
    assert i.excluded("region") == ["TX-BRAVO"] and i.values("region") == []
    assert i.excluded_dates == [(date(2023, 1, 1), date(2023, 12, 31))] and i.dates is None
    assert not i.not_understood


@pytest.mark.parametrize(
    ("question", "span"),
    [
        ("incidents in December 2024", (date(2024, 12, 1), date(2024, 12, 31))),
        ("incidents in the first half of 2024", (date(2024, 1, 1), date(2024, 6, 30))),
        ("incidents in Q3 2023", (date(2023, 7, 1), date(2023, 9, 30))),
        ("incidents on December 5, 2024", (date(2024, 12, 5), date(2024, 12, 5))),
        ("incidents in March", (date(2025, 3, 1), date(2025, 3, 31))),  # latest March
    ],
)
def test_date_expressions(question: str, span: tuple[date, date]) -> None:
    assert interpret(question, VOCAB).dates == [span]
