"""The AI corpora of a local run: generated once, indexed into both regions' Redis.

The region APIs answer image search and diagnostics only once the synthetic corpora
are indexed in their own Redis (both regions, so a failover keeps the AI answers).
Local Redis keeps nothing on disk, so every fresh `make up` re-indexes; generating is
done once and cached under ``<run_dir>/ai-data``. A region already indexed for the
current embedding model(s) is skipped after a HGETALL and two counts per region, asked
by one `python -m tier0_ai missing` for both (under a second), so a repeated `up` is
quick. All the work is done by tier0_ai's public CLI in a child process: devenv never
imports AI code (.importlinter), onnxruntime stays out of this process, and the logs go
to ``<run_dir>/logs/ai-data.log``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import credentials
from .processes import DevenvError, tail
from .settings import REPO_ROOT, DevenvSettings
from .steps import Progress, Row, Step

LOCALHOST = "127.0.0.1"
REGIONS = ("region1", "region2")
STAMP = "generated.json"
#: Indexing embeds on one ONNX thread: seconds on an idle machine, minutes on a busy one.
_TIMEOUT_SECONDS = 900


def data_dir(settings: DevenvSettings) -> Path:
    return settings.run_dir / "ai-data"


def _redis_port(settings: DevenvSettings, region: str) -> int:
    return settings.redis1_port if region == "region1" else settings.redis2_port


def _redis_url(settings: DevenvSettings, region: str) -> str:
    return f"redis://{LOCALHOST}:{_redis_port(settings, region)}/0"


def missing_corpora(
    settings: DevenvSettings,
) -> tuple[list[str], dict[str, list[str] | DevenvError]]:
    """The current embedding models, and per region the corpora its Redis lacks for
    them (or why it could not be asked). One `python -m tier0_ai missing` for both
    regions: the AI package knows its models and key layout, so devenv never imports it."""
    ports = {region: _redis_port(settings, region) for region in REGIONS}
    args = ["--redis-host", LOCALHOST, "missing", *(str(port) for port in ports.values())]
    report = _run_ai(settings, args, "missing")
    models = [str(model) for model in report.get("models") or ()]
    out: dict[str, list[str] | DevenvError] = {}
    for region, port in ports.items():
        answer = report.get(str(port))
        if isinstance(answer, list):
            out[region] = [str(item) for item in answer]
        else:
            error = answer.get("error") if isinstance(answer, dict) else answer
            out[region] = DevenvError(
                f"ai-data: Redis of {region} does not answer at {_redis_url(settings, region)} "
                f"({error}); start it too (redis-{region} in TIER0_COMPONENTS)"
            )
    return models, out


class AiCorpora(Step):
    """Generate the corpora once, then index each region that lacks them."""

    def up(self, settings: DevenvSettings, progress: Progress) -> list[Row]:
        data = self._ensure_generated(settings, progress)
        models, answers = missing_corpora(settings)
        rows = []
        for region in REGIONS:
            url = _redis_url(settings, region)
            missing = answers[region]
            if isinstance(missing, DevenvError):
                raise missing
            name = f"ai-data-{region}"
            if not missing:
                progress(f"{name}: already indexed for {', '.join(models)}")
                rows.append(Row(name, None, url, "indexed"))
                continue
            progress(f"{name}: indexing {data} into {url} ({', '.join(missing)} missing) ...")
            began = time.monotonic()
            args = ["--redis-host", LOCALHOST, "--redis-port", str(_redis_port(settings, region)),
                    "index", "--data", str(data)]  # fmt: skip
            report = _run_ai(settings, args, f"index into {region}")
            progress(f"{name}: indexed in {time.monotonic() - began:.1f}s: {_summary(report)}")
            rows.append(Row(name, None, url, "indexed"))
        return rows

    def status(self, settings: DevenvSettings) -> list[Row]:
        try:
            _, answers = missing_corpora(settings)
        except DevenvError as exc:
            answers = dict.fromkeys(REGIONS, exc)
        rows = []
        for region in REGIONS:
            url = _redis_url(settings, region)
            missing = answers[region]
            if isinstance(missing, DevenvError):
                rows.append(Row(f"ai-data-{region}", None, url, "redis down"))
                continue
            text = "indexed" if not missing else f"not indexed ({', '.join(missing)})"
            rows.append(Row(f"ai-data-{region}", None, url, text))
        return rows

    def _ensure_generated(self, settings: DevenvSettings, progress: Progress) -> Path:
        data = data_dir(settings)
        if (data / STAMP).exists():
            progress(f"ai-data: corpora cached in {data}")
            return data
        progress(f"ai-data: generating the synthetic corpora into {data} (once) ...")
        began = time.monotonic()
        staging = data.with_name(data.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        report = _run_ai(settings, ["generate", "--out", str(staging)], "generate")
        # Written last and renamed into place, so an interrupted run regenerates.
        (staging / STAMP).write_text(json.dumps(report, indent=2) + "\n")
        shutil.rmtree(data, ignore_errors=True)
        staging.rename(data)
        progress(f"ai-data: generated in {time.monotonic() - began:.1f}s: {_summary(report)}")
        return data


def _run_ai(settings: DevenvSettings, args: list[str], what: str) -> dict[str, Any]:
    """Run `python -m tier0_ai ARGS`: its JSON report on stdout, its logs to the log file."""
    log = settings.run_dir / "logs" / "ai-data.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "tier0_ai", *args]
    with log.open("ab") as handle:
        handle.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} run: {argv}\n".encode())
        handle.flush()
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=handle,
                cwd=REPO_ROOT,
                # The password travels in the environment, never in argv (logged above).
                env={
                    **os.environ,
                    "PYTHONUNBUFFERED": "1",
                    "REDIS_PASSWORD": credentials.redis_password(settings),
                },
                timeout=_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DevenvError(f"ai-data: {what} took over {_TIMEOUT_SECONDS}s; see {log}") from exc
    if result.returncode != 0:
        raise DevenvError(
            f"ai-data: {what} failed with code {result.returncode}; last lines of {log}:\n"
            f"{tail(log)}"
        )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError as exc:
        head = result.stdout[:200]
        raise DevenvError(f"ai-data: {what} printed no JSON report: {head!r}") from exc
    return report


def _summary(report: dict[str, Any]) -> str:
    """One line from a `generate` or `index` report."""
    if "log_entries" in report:
        return (
            f"{report['images']} images, {report['log_entries']} log lines, "
            f"{report['documents']} documents, {report['incidents']} incidents (synthetic)"
        )
    docs = report.get("docs", {})
    chunks = sum(int(n) for n in docs.get("indexed", {}).values())
    return (
        f"{report.get('images', {}).get('images', 0)} images, "
        f"{report.get('logs', {}).get('log_entries', 0)} log lines, "
        f"{docs.get('documents', 0)} documents ({chunks} passages), "
        f"{report.get('incidents', 0)} incidents"
    )
