"""Seeded user-activity reports with a daily rhythm, as a pure function of (seed, clock).

Why sessions and not just random counts: the dashboard shows who is on which page, so a
report's user list has to look like the previous report's list a few seconds later
(same people, a few arrivals and departures), not like a fresh random draw. Each site
therefore keeps a pool of sessions that churns a little every tick, and its size follows
the site's local time of day (quiet at 04:00, busiest at 16:00) with a slow random walk
on top. Server health follows from the load: more users, more CPU, memory and latency.

Determinism: every random draw comes from one ``random.Random`` per site seeded with
(seed, site), and the clock is passed in, so the same seed and timestamps always give
the same reports; tests rely on it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from tier0_common.catalog import WEB_SITES
from tier0_common.rfc3339 import format_rfc3339_seconds


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """How busy a web site is at its peak, and where it is (UTC offset, DST ignored)."""

    peak_users: int
    utc_offset_hours: int


PROFILES: Final[dict[str, SiteProfile]] = {
    "SFO-WEB-01": SiteProfile(420, -8),
    "NYC-WEB-01": SiteProfile(520, -5),
    "LON-WEB-01": SiteProfile(380, 0),
    "FRA-WEB-01": SiteProfile(300, 1),
    "SIN-WEB-01": SiteProfile(340, 8),
}
DEFAULT_PROFILE: Final = SiteProfile(300, 0)

PAGES: Final[tuple[str, ...]] = (
    "/",
    "/login",
    "/dashboard",
    "/devices",
    "/devices/alerts",
    "/sites",
    "/reports",
    "/images/search",
    "/diagnostics",
    "/settings",
)

#: Chance per tick that a session ends / moves to another page. At 5 s ticks a session
#: lasts about 8 minutes on average, and a user changes page every ~15 s.
SESSION_END_PROBABILITY: Final = 0.01
PAGE_CHANGE_PROBABILITY: Final = 0.3
#: Quietest hour is this fraction of the peak.
NIGHT_FLOOR: Final = 0.3


def diurnal_factor(local_hour: float) -> float:
    """Share of peak traffic at a local hour: NIGHT_FLOOR at 04:00, 1.0 at 16:00."""
    wave = (1 - math.cos(2 * math.pi * (local_hour - 4) / 24)) / 2
    return NIGHT_FLOOR + (1 - NIGHT_FLOOR) * wave


def format_utc(moment: datetime) -> str:
    """The seed's timestamp form: ``2025-11-16T12:00:00Z`` (whole seconds, UTC)."""
    return format_rfc3339_seconds(moment)


@dataclass(slots=True)
class _Session:
    user_id: str
    started: datetime
    page: str


@dataclass(slots=True)
class _SiteState:
    rng: random.Random
    profile: SiteProfile
    sessions: list[_Session] = field(default_factory=list)
    drift: float = 0.0


class ActivityGenerator:
    """Makes one report per site per tick; keep one instance for the simulator's life."""

    def __init__(
        self,
        seed: int,
        sites: tuple[str, ...] = WEB_SITES,
        *,
        max_listed_users: int = 100,
    ) -> None:
        if not sites:
            raise ValueError("at least one web site is needed")
        if max_listed_users < 0:
            raise ValueError("max_listed_users must be >= 0")
        self.sites = sites
        self.max_listed_users = max_listed_users
        self._sequence = 0
        self._state = {
            site: _SiteState(random.Random(f"{seed}:{site}"), PROFILES.get(site, DEFAULT_PROFILE))
            for site in sites
        }

    def round(self, now: datetime) -> list[dict[str, Any]]:
        """One report for every site, all stamped ``now`` (an aware datetime)."""
        return [self.report(site, now) for site in self.sites]

    def report(self, site_id: str, now: datetime) -> dict[str, Any]:
        """The next report of one site, as the JSON-ready dict the seed describes."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        state = self._state[site_id]
        rng = state.rng
        now = now.replace(microsecond=0)
        local_hour = (now.hour + now.minute / 60 + state.profile.utc_offset_hours) % 24
        # A mean-reverting random walk: minutes-long swells, not tick-to-tick jitter.
        state.drift = 0.95 * state.drift + rng.gauss(0, 0.015)
        target = round(state.profile.peak_users * diurnal_factor(local_hour) * (1 + state.drift))
        target = max(0, target)
        self._churn(state, now, target)

        users = len(state.sessions)
        load = users / state.profile.peak_users
        self._sequence += 1
        newest_first = sorted(state.sessions, key=lambda s: s.started, reverse=True)
        listed = newest_first[: self.max_listed_users]
        return {
            "message_id": f"MSG-{now:%Y%m%d}-{self._sequence:05d}",
            "timestamp_utc": format_utc(now),
            "site_id": site_id,
            "metrics": {
                "active_users": users,
                "active_connections": round(users * rng.uniform(0.85, 0.93)),
                "server_cpu_pct": round(
                    min(100.0, max(0.0, 12 + 55 * load + rng.gauss(0, 2.5))), 1
                ),
                "server_memory_gb": round(max(0.0, 9 + 10 * load + rng.gauss(0, 0.2)), 1),
                "average_latency_ms": round(max(1.0, 38 + 36 * load**2 + rng.gauss(0, 3)), 1),
            },
            "active_users_list": [
                {
                    "user_id": session.user_id,
                    "session_start_utc": format_utc(session.started),
                    "page": session.page,
                }
                for session in listed
            ],
        }

    @staticmethod
    def _churn(state: _SiteState, now: datetime, target: int) -> None:
        rng = state.rng
        first_round = not state.sessions
        kept = [s for s in state.sessions if rng.random() >= SESSION_END_PROBABILITY]
        for session in kept:
            if rng.random() < PAGE_CHANGE_PROBABILITY:
                session.page = rng.choice(PAGES)
        if len(kept) > target:
            # Leaving users are random ones, not the newest: arrival order stays meaningful.
            rng.shuffle(kept)
            kept = kept[:target]
        # On the first tick the site was already running: spread starts over 30 minutes.
        spread = 1800 if first_round else 5
        while len(kept) < target:
            started = now - timedelta(seconds=rng.randrange(spread + 1))
            kept.append(_Session(f"u-{rng.getrandbits(40):010x}", started, rng.choice(PAGES)))
        state.sessions = kept
