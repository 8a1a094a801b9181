"""The real-node failover benchmark's judging: windows, first answers, summaries, report.

Pure functions over samples; the load generator against real servers is
tests/integration/benchmarks/test_real_failover_load.py.
"""

from __future__ import annotations

import pytest

from benchmarks.real_failover import (
    BenchError,
    Failover,
    Sample,
    failure_window,
    first_answer_from,
    main,
    other,
    parse_result,
    report,
    summarize,
)
from tier0_common.rfc3339 import from_rfc3339


def ok(start: float, region: str = "region1", took: float = 0.01) -> Sample:
    return Sample(start, start, start + took, 200, region)


def failed(start: float, took: float = 0.02, status: int | None = None) -> Sample:
    return Sample(start, start, start + took, status, None, None if status else "ConnectError")


def test_failure_window_counts_only_failures_sent_inside_it() -> None:
    samples = [ok(9.0), failed(9.5), ok(10.0), failed(10.2), failed(10.7, status=503), ok(11.0)]
    window = failure_window(samples, 10.0, 11.0)
    assert window.failed == 2
    assert window.first == pytest.approx(0.2)
    assert window.last == pytest.approx(0.7)
    assert window.last_end == pytest.approx(0.72)
    assert window.describe() == "2 failed, sent +0.200s .. +0.700s (last answer +0.720s)"
    assert failure_window(samples, 11.0, 12.0).describe() == "-"


def test_first_answer_is_the_earliest_success_of_that_region_sent_after() -> None:
    samples = [ok(1.0, "region2"), ok(2.0), ok(2.1, "region2", took=0.5), ok(2.2, "region2")]
    assert first_answer_from(samples, "region2", after=1.5) == pytest.approx(2.21)
    assert first_answer_from(samples, "region3", after=0.0) is None


def test_summary_percentiles_and_rate() -> None:
    samples = [ok(i / 100, took=0.001 * (i + 1)) for i in range(100)] + [failed(1.0)]
    summary = summarize(samples)
    assert (summary.sent, summary.failed) == (101, 1)
    assert summary.p50 == pytest.approx(0.050)
    assert summary.max == pytest.approx(0.1)
    assert summary.achieved_rate == pytest.approx(101.0)
    with pytest.raises(BenchError):
        summarize([])


def test_other_region() -> None:
    assert other(["region1", "region2"], "region1") == "region2"
    assert other(["region1", "region2"], "region2") == "region1"


def _planned(start: float) -> Failover:
    return Failover("region1", "region2", start, switched=start + 0.1, first_answer=start + 0.3)


def test_report_passes_without_failures_and_misses_with_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = dict(url="http://x", rate=500.0, load_before=(0, 0, 0), load_after=(0, 0, 0))
    clean = [ok(t / 10) for t in range(100)]
    assert report(summarize(clean), [_planned(1.0), _planned(5.0)], None, clean, **args)
    out = capsys.readouterr().out
    assert "[PASS] 0 failed requests across 2 planned failovers" in out
    broken = [*clean, failed(5.05)]
    assert not report(summarize(broken), [_planned(1.0), _planned(5.0)], None, broken, **args)
    assert "1 failed, sent +0.050s" in capsys.readouterr().out


def test_report_judges_the_automatic_failover(capsys: pytest.CaptureFixture[str]) -> None:
    args = dict(url="http://x", rate=500.0, load_before=(0, 0, 0), load_after=(0, 0, 0))
    samples = [ok(0.5), failed(10.3), failed(11.0), ok(12.0, "region2")]
    auto = Failover("region1", "region2", 10.0, switched=11.5, first_answer=12.01)
    assert report(summarize(samples), [_planned(1.0)], auto, samples, **args)
    slow = Failover("region1", "region2", 10.0, switched=13.5, first_answer=12.01)
    assert not report(summarize(samples), [_planned(1.0)], slow, samples, **args)
    out = capsys.readouterr().out
    assert "[MISS] automatic failover switched" in out
    # A request sent before the first answer may fail after it (a timeout): inside.
    slow_fail = [*samples, failed(11.9, took=5.0)]
    assert report(summarize(slow_fail), [_planned(1.0)], auto, slow_fail, **args)
    late = [*samples, failed(12.5)]
    assert not report(summarize(late), [_planned(1.0)], auto, late, **args)


def test_missing_kubeconfig_names_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--kubeconfig", "/nonexistent/kubeconfig"])
    assert "make cluster" in str(exc.value.code)


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--rate", "0"])
    assert exc.value.code == 2
    assert "--rate" in capsys.readouterr().err


def test_vegeta_results_become_samples() -> None:
    ok_line = (
        '{"attack":"","seq":2,"code":200,"timestamp":"2026-11-30T05:06:21.5Z",'
        '"latency":127875942,"bytes_out":0,"bytes_in":0,"error":"","method":"GET",'
        '"url":"http://x/","headers":{"X-Tier0-Region":["region2"],"Server":["uvicorn"]}}'
    )
    refused = (
        '{"attack":"","seq":3,"code":0,"timestamp":"2026-11-30T05:06:22Z","latency":1000000,'
        '"bytes_out":0,"bytes_in":0,"error":"Get \\"http://x/\\": connection refused",'
        '"method":"GET","url":"http://x/","headers":null}'
    )
    offset = 1_800_000_000.0
    sample = parse_result(ok_line, offset)
    assert sample.ok and sample.region == "region2" and sample.status == 200
    assert sample.start == pytest.approx(from_rfc3339("2026-11-30T05:06:21.5Z") - offset)
    assert sample.end - sample.start == pytest.approx(0.127875942)
    failed_sample = parse_result(refused, offset)
    assert not failed_sample.ok and failed_sample.status is None
    assert "connection refused" in (failed_sample.error or "")
