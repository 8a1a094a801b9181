"""Diagnostics evaluation: exact answers, correct refusals and latency, offline.

Why: the assistant must apply every constraint a question names or say it did not,
and refuse (not found, contradictory, out of scope) rather than answer a different
question. This runs the team's evaluation set (tests/integration/ai/eval_set.py: the
questions, with answers computed from the raw generated files) through
POST /api/diagnostics/query over a fresh Redis and prints:

- exact-answer accuracy per category (analytic: total, breakdown or ranking equal to
  the raw files' figure; refusals: found=false with the right reason);
- refusal correctness over the not-found, contradiction and out-of-scope questions;
- answers containing a number that is neither computed, nor cited, nor in the question;
- p50/p95 latency of the endpoint, next to a baseline measured in the same run: one
  bare FT.AGGREGATE count over the incident index from the same process.

    .venv/bin/python -m benchmarks.diagnostics_eval
"""

from __future__ import annotations

import time
from collections import defaultdict

from fastapi.testclient import TestClient

from benchmarks.ai_stack import ai_stack, machine, pct
from tests.integration.ai.eval_set import cases, load_raw, score, uncited_numbers

REFUSALS = ("not_found", "contradiction", "out_of_scope", "uncounted")


def main() -> None:
    print(machine())
    with ai_stack() as stack, TestClient(stack.app()) as http:
        raw = load_raw(stack.data)
        all_cases = cases()
        http.post("/api/diagnostics/query", json={"question": "warm up: how many incidents?"})
        per_category: dict[str, list[bool]] = defaultdict(list)
        refusals: list[bool] = []
        uncited = 0
        samples: list[float] = []
        failures: list[str] = []
        for case in all_cases:
            started = time.perf_counter()
            reply = http.post("/api/diagnostics/query", json={"question": case.question})
            samples.append(time.perf_counter() - started)
            body = reply.json()
            problems = score(case, body, raw) if reply.status_code == 200 else [reply.text]
            per_category[case.category].append(not problems)
            if case.kind in REFUSALS:
                refusals.append(not problems)
            uncited += bool(uncited_numbers(body, case.question))
            if problems:
                failures.append(f"  {case.category}: {case.question!r}: {problems[0]}")
        baseline = []
        for _ in range(len(all_cases)):
            started = time.perf_counter()
            stack.sync.execute_command(
                "FT.AGGREGATE",
                "ai:idx:inc",
                "*",
                "GROUPBY",
                "0",
                "REDUCE",
                "COUNT",
                "0",
                "AS",
                "count",
            )
            baseline.append(time.perf_counter() - started)
        print(f"{len(all_cases)} questions, {len(per_category)} categories")
        print(f"{'category':22s} {'n':>4s} {'exact':>7s}")
        for category, results in sorted(per_category.items()):
            print(f"{category:22s} {len(results):4d} {sum(results) / len(results):7.1%}")
        n_analytic = sum(1 for c in all_cases if c.analytic)
        ok_analytic = sum(
            ok
            for category, results in per_category.items()
            for ok in results
            if category not in REFUSALS
        )
        print(f"analytic questions exact: {ok_analytic}/{n_analytic} (target 100%)")
        print(
            f"refusals correct (not found, contradiction, out of scope, uncounted): "
            f"{sum(refusals)}/{len(refusals)} (target 100%)"
        )
        print(f"answers with a number neither computed nor cited: {uncited} (target 0)")
        print(
            f"POST /api/diagnostics/query: p50={pct(samples, 0.5):.1f} ms "
            f"p95={pct(samples, 0.95):.1f} ms (target p95 <= 300 ms); baseline, one bare "
            f"FT.AGGREGATE count: p50={pct(baseline, 0.5):.2f} ms p95={pct(baseline, 0.95):.2f} ms"
        )
        for line in failures:
            print(line)
    print(machine())


if __name__ == "__main__":
    main()
