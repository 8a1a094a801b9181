"""Read real log files: the combined log format (optionally with a trailing request
time, as nginx's ``$request_time``) and JSON lines (access or application records).

A line that does not parse is counted with its reason and skipped; a file never fails
as a whole because of one bad line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .entry import LogEntry

_COMBINED = re.compile(
    r'^(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?'
    r"(?: (?:rt=)?(?P<rt>\d+(?:\.\d+)?))?\s*$"
)


@dataclass(slots=True)
class ParseReport:
    entries: list[LogEntry] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def parse_combined(line: str) -> LogEntry:
    m = _COMBINED.match(line)
    if not m:
        raise ValueError("not in combined log format")
    ts = datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
    return LogEntry(
        "access",
        ts,
        m["ip"],
        m["method"],
        m["path"],
        int(m["status"]),
        round(float(m["rt"]) * 1000, 2) if m["rt"] else 0.0,
        int(m["bytes"]) if m["bytes"] != "-" else 0,
        m["agent"] or "",
    )


def _timestamp(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise ValueError("missing ts")


def parse_json_line(line: str) -> LogEntry:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("JSON line is not an object")
    ts = _timestamp(record.get("ts") or record.get("timestamp") or record.get("time"))
    if "status" in record:
        return LogEntry(
            "access",
            ts,
            str(record.get("ip", "")),
            str(record.get("method", "")),
            str(record.get("path", "")),
            int(record["status"]),
            float(record.get("latency_ms", 0.0)),
            int(record.get("bytes", 0)),
            str(record.get("user_agent", "")),
        )
    level = str(record.get("level", "INFO")).upper()
    return LogEntry(
        "app",
        ts,
        level=level,
        service=str(record.get("service", "")),
        message=str(record.get("message") or record.get("event") or "")[:2000],
    )


def parse_file(path: Path) -> ParseReport:
    """Parse one file; JSON lines when a line starts with ``{``, combined otherwise."""
    report = ParseReport()
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = parse_json_line(line) if line.startswith("{") else parse_combined(line)
            except (ValueError, KeyError, TypeError) as exc:
                report.skipped[f"{path.name}: {str(exc)[:80]}"] += 1
                continue
            report.entries.append(entry)
    return report
