"""One log entry, whatever file it came from: an HTTP access line or an app event."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class LogEntry:
    kind: str  # "access" or "app"
    ts: float  # epoch seconds, UTC
    ip: str = ""
    method: str = ""
    path: str = ""
    status: int = 0
    latency_ms: float = 0.0
    bytes_sent: int = 0
    user_agent: str = ""
    level: str = ""
    service: str = ""
    message: str = ""

    @property
    def is_error(self) -> bool:
        return self.status >= 400 if self.kind == "access" else self.level in ("ERROR", "CRITICAL")
