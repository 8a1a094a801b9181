"""The seed specification's sample payloads, one copy for every test.

Tests mutate deep copies of these (``copy.deepcopy``), never the dicts themselves.
"""

from __future__ import annotations

from typing import Any

SEED_TELEMETRY: dict[str, Any] = {
    "device_id": "TURB-00912",
    "device_type": "turbine",
    "site_id": "WY-ALPHA",
    "timestamp_utc": "2025-11-16T12:00:00Z",
    "firmware": "3.2.1",
    "metrics": {
        "rpm": 3487,
        "inlet_temp_c": 412.6,
        "exhaust_temp_c": 532.4,
        "vibration_mm_s": 2.1,
        "pressure_bar": 17.8,
        "power_kw": 12850.4,
    },
    "status": {"state": "OK", "code": "TURB-OK", "message": "Nominal"},
    "location": {"lat": 43.4231, "lon": -106.3148},
    "tags": {"vendor": "HanTech", "loop": "A1"},
}

SEED_ACTIVITY: dict[str, Any] = {
    "message_id": "MSG-20251116-00123",
    "timestamp_utc": "2025-11-16T12:00:00Z",
    "site_id": "SFO-WEB-01",
    "metrics": {
        "active_users": 324,
        "active_connections": 289,
        "server_cpu_pct": 64.3,
        "server_memory_gb": 18.7,
        "average_latency_ms": 72.4,
    },
    "active_users_list": [],
}
