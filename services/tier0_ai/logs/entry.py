"""One log entry, whatever file it came from: an HTTP access line or an app event."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SITE = re.compile(r"\bsite=([A-Za-z0-9_-]+)")


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

    @property
    def agent(self) -> str:
        """The client's product, the user agent up to its version (``tier0-gateway``)."""
        return self.user_agent.split("/", 1)[0].strip() if self.user_agent else ""

    @property
    def site(self) -> str:
        """The site an app event names (``site=WY-ALPHA`` in its message), if any."""
        m = _SITE.search(self.message)
        return m.group(1).upper() if m else ""
