"""Generate realistic synthetic logs: device/gateway HTTP access logs and app logs.

Traffic is mostly healthy; a few noisy IPs produce bursts of one error each (a
device posting malformed telemetry -> 400s, a gateway with a revoked token -> 401s,
a scanner -> 404s, a client hammering the API -> 429s), and a short upstream outage
gives 502/503s from everyone. Deterministic for a seed, so tests can count the raw
files and compare with the API's answers. Written in the combined log format with
the request time appended (as nginx's ``$request_time``) and as JSON lines.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

from tier0_common.catalog import SITE_IDS

from .entry import LogEntry

START = datetime(2025, 11, 16, tzinfo=UTC).timestamp()
DAY = 86_400.0
PATHS = (
    "/api/telemetry",
    "/api/telemetry",
    "/api/telemetry",
    "/api/devices/active",
    "/api/status",
    "/health",
    "/api/images/search",
    "/api/diagnostics/logs/stats",
)
AGENTS = ("tier0-device/2.3.1", "tier0-gateway/1.8.0", "curl/8.5.0", "Mozilla/5.0 (dashboard)")
#: (ip, status, burst count, user agent, path) of the noisy clients.
NOISY = (
    ("10.20.3.17", 400, 420, "tier0-device/2.1.0", "/api/telemetry"),
    ("10.20.7.201", 400, 260, "tier0-device/2.1.0", "/api/telemetry"),
    ("10.20.1.9", 400, 140, "tier0-device/2.2.0", "/api/telemetry"),
    ("172.16.4.22", 401, 300, "tier0-gateway/1.7.2", "/api/telemetry"),
    ("198.51.100.77", 404, 350, "zgrab/0.x", "/wp-login.php"),
    ("203.0.113.5", 429, 280, "python-requests/2.31", "/api/devices/active"),
)
APP_EVENTS = (
    ("INFO", "ingest", "batch written to redis"),
    ("INFO", "api", "request served"),
    ("WARNING", "ingest", "slow redis pipeline"),
    ("WARNING", "api", "rate limit threshold reached"),
    ("ERROR", "ingest", "telemetry rejected: schema validation failed"),
    ("ERROR", "api", "upstream timeout from redis"),
    ("CRITICAL", "operator", "region health gate failed"),
)


def _device_ip(rng: random.Random) -> str:
    return f"10.20.{rng.randint(0, 15)}.{rng.randint(2, 254)}"


def generate(total: int = 12_000, seed: int = 273) -> list[LogEntry]:
    """``total`` entries (about 85% access, 15% app), sorted by time."""
    rng = random.Random(seed)
    n_app = total * 15 // 100
    entries: list[LogEntry] = []
    for ip, status, count, agent, path in NOISY:
        burst_start = START + rng.uniform(0, DAY - 3_600)
        for _ in range(count):
            entries.append(
                LogEntry(
                    "access",
                    burst_start + rng.uniform(0, 1_800),
                    ip,
                    "POST" if "telemetry" in path else "GET",
                    path,
                    status,
                    round(rng.uniform(2, 30), 2),
                    rng.randint(80, 400),
                    agent,
                )
            )
    outage = START + DAY * 0.6
    while len(entries) < total - n_app:
        ts = START + rng.uniform(0, DAY)
        path = rng.choice(PATHS)
        roll = rng.random()
        if outage <= ts < outage + 600 and roll < 0.5:
            status = rng.choice((502, 503))
        elif roll < 0.015:
            status = rng.choice((400, 404, 500))
        else:
            status = 201 if path == "/api/telemetry" else rng.choice((200, 200, 200, 304))
        latency = rng.lognormvariate(3.0, 0.6) * (8 if status >= 500 else 1)
        entries.append(
            LogEntry(
                "access",
                ts,
                _device_ip(rng),
                "POST" if path == "/api/telemetry" else "GET",
                path,
                status,
                round(latency, 2),
                rng.randint(120, 4_000),
                rng.choice(AGENTS),
            )
        )
    for _ in range(n_app):
        level, service, message = rng.choices(APP_EVENTS, weights=(60, 25, 6, 4, 3, 2, 0.5))[0]
        entries.append(
            LogEntry(
                "app",
                START + rng.uniform(0, DAY),
                level=level,
                service=service,
                message=f"{message} site={rng.choice(SITE_IDS)}",
            )
        )
    entries.sort(key=lambda e: e.ts)
    return entries


def _clf_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def to_combined(e: LogEntry) -> str:
    return (
        f'{e.ip} - - [{_clf_time(e.ts)}] "{e.method} {e.path} HTTP/1.1" {e.status} '
        f'{e.bytes_sent} "-" "{e.user_agent}" {e.latency_ms / 1000:.4f}'
    )


def to_json_line(e: LogEntry) -> str:
    when = datetime.fromtimestamp(e.ts, UTC).isoformat()
    return json.dumps({"ts": when, "level": e.level, "service": e.service, "message": e.message})


def write(out_dir: Path, entries: list[LogEntry]) -> tuple[Path, Path]:
    """``access.log`` (combined format + request time) and ``app.jsonl``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    access, app = out_dir / "access.log", out_dir / "app.jsonl"
    access.write_text("".join(to_combined(e) + "\n" for e in entries if e.kind == "access"))
    app.write_text("".join(to_json_line(e) + "\n" for e in entries if e.kind == "app"))
    return access, app
