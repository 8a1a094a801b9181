"""The diagnostics evaluation set (eval_set.py) against the offline assistant over
real Redis: every analytic answer exact, every not-found / contradiction / out-of-scope
question refused, and no answer with a number that was not computed or cited."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .eval_set import cases, load_raw, score

pytestmark = pytest.mark.integration


def test_the_set_is_large_and_covers_every_category() -> None:
    all_cases = cases()
    assert len(all_cases) >= 150
    by_category = Counter(c.category for c in all_cases)
    assert min(by_category.values()) >= 5, by_category
    assert len({c.question for c in all_cases}) == len(all_cases), "duplicate questions"


def test_every_answer_is_exact_or_a_correct_refusal(api: TestClient, ai_data: Path) -> None:
    raw = load_raw(ai_data)
    failures = []
    for case in cases():
        reply = api.post("/api/diagnostics/query", json={"question": case.question})
        assert reply.status_code == 200, (case.question, reply.text)
        problems = score(case, reply.json(), raw)
        if problems:
            failures.append((case.category, case.question, problems, reply.json()["answer"][:300]))
    assert not failures, "\n".join(map(str, failures))
