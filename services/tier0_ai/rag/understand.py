"""Understand a diagnostics question: what it asks for and every constraint it sets.

Why rules over a model: the questions an operator asks of these records are counts,
breakdowns and rankings with a handful of constraint kinds (operator, site, region,
date, severity, incident kind, status code, IP, method, path, client, log level,
service). Rules read them the same way every time, offline, in well under a
millisecond, and can say exactly what they did. The rule that matters most: no
constraint is silently dropped. Each one the question names is either

- **applied** (mapped to the records' own vocabulary, with a note when everyday words
  were translated: "serious" -> severity major, "last year" -> 2024 on the records'
  calendar, "Northwind" -> Northwind Energy),
- **not understood** (named in the answer, e.g. a device type the incident records do
  not record, or a word that maps to nothing), or
- **not found** (an operator, site, region, status, path or date the records do not
  contain: the answer says so and lists what is there, and gives no figure), or
- **contradictory** (an empty date range, a site outside the named region): the
  answer says what contradicts what, and gives no figure.

Dates use python-dateutil (month names, day/month orders, relativedelta for "the last
6 months"); company and site name variants use rapidfuzz.

Why one module of ~1,250 lines: the extractors share one mutable Interpretation and
one consumed-text cursor, and the order in which they run decides what a word means
("last" in "last year" vs "the last 3 incidents"). The date reading (`_interval` to
`_times`) is the part that can move out on its own; that split is planned, not done.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta

from tier0_common.catalog import SITES_BY_ID

from ..names import (
    NUMBER_WORDS,
    REGION,
    SITE_STATE,
    UNKNOWN_SITE,
    Text,
    fuzzy_spans,
    norm,
    rx,
    site_aliases,
)
from .vocabulary import Vocabulary

Dataset = Literal["incidents", "http", "app", "documents"]
Intent = Literal["count", "group", "rank", "share", "stats", "summary", "documents"]

DATASET_NAMES = {
    "incidents": "incident records",
    "http": "HTTP access logs",
    "app": "application logs",
    "documents": "documents",
}
#: Which constraint fields each dataset records.
APPLICABLE: dict[str, frozenset[str]] = {
    "incidents": frozenset({"operator", "site", "region", "date", "severity", "kind"}),
    "http": frozenset({"date", "time", "status", "ip", "method", "path", "client", "latency"}),
    "app": frozenset({"date", "time", "level", "service", "site", "region"}),
}
#: Which fields each dataset can be grouped or ranked by.
GROUPABLE: dict[str, tuple[str, ...]] = {
    "incidents": ("severity", "operator", "site", "region", "year", "month", "kind"),
    "http": ("status", "ip", "path", "method", "client", "hour"),
    "app": ("level", "service", "site", "region", "hour"),
}
FIELD_WORDS = {
    "operator": "an operator",
    "site": "a site",
    "region": "a region",
    "date": "a date",
    "time": "a time of day",
    "severity": "a severity",
    "kind": "an incident kind",
    "status": "an HTTP status",
    "ip": "an IP address",
    "method": "an HTTP method",
    "path": "a request path",
    "client": "a client type",
    "level": "a log level",
    "service": "a service",
    "device_type": "a device type",
    "latency": "a latency",
    "state": "a device state",
}


@dataclass(slots=True)
class Constraint:
    field: str
    text: str  # the words of the question
    values: list[str]  # in the records' vocabulary
    note: str = ""
    exclude: bool = False


@dataclass(slots=True)
class NotUnderstood:
    text: str
    reason: str


@dataclass(slots=True)
class NotFound:
    field: str
    text: str
    known: list[str]


@dataclass(slots=True)
class Interpretation:
    question: str
    dataset: Dataset
    intent: Intent
    group_by: str | None = None
    order: Literal["desc", "asc"] = "desc"
    limit: int | None = None
    applied: list[Constraint] = field(default_factory=list)
    not_understood: list[NotUnderstood] = field(default_factory=list)
    not_found: list[NotFound] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)
    #: Effective date intervals (inclusive), the intersection of every date constraint.
    dates: list[tuple[date, date]] | None = None
    #: Seconds-of-day intervals [start, end) of time-of-day constraints (logs).
    times: list[tuple[int, int]] | None = None
    #: Date intervals a negated date constraint removes ("excluding 2023").
    excluded_dates: list[tuple[date, date]] = field(default_factory=list)
    #: HTTP status intervals (inclusive) every status constraint allows together.
    statuses: list[tuple[int, int]] | None = None

    def values(self, name: str) -> list[str]:
        return [v for c in self.applied if c.field == name and not c.exclude for v in c.values]

    def excluded(self, name: str) -> list[str]:
        return [v for c in self.applied if c.field == name and c.exclude for v in c.values]

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "intent": self.intent,
            "group_by": self.group_by,
            "order": self.order,
            "limit": self.limit,
            "applied": [asdict(c) for c in self.applied],
            "not_understood": [asdict(n) for n in self.not_understood],
            "not_found": [asdict(n) for n in self.not_found],
            "contradictions": list(self.contradictions),
        }


# --------------------------------------------------------------------------- datasets

_INCIDENT = rx(r"\b(incidents?|incidences?|accidents?|injur(y|ies)|safety events?|near misses)\b")
_KIND_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("dropped object", rx(r"\b(dropped|falling|fallen) objects?\b")),
    ("slip or trip", rx(r"\b(slips? or trips?|slips? and trips?|slips?|trips?)\b")),
    (
        "hard hat violation",
        rx(r"\b(hard ?hat violations?|ppe violations?|helmet violations?)\b"),
    ),
    ("gas release", rx(r"\b(gas releases?|gas leaks?|releases? of gas)\b")),
    ("hand injury", rx(r"\b(hand injur(y|ies)|pinched fingers?|finger injur(y|ies))\b")),
    (
        "vehicle incident",
        rx(r"\b(vehicle incidents?|vehicle accidents?|vehicles?|collisions?|pickups?)\b"),
    ),
    ("fluid spill", rx(r"\b(fluid spills?|spills?|spillages?|spilled fluid)\b")),
)
_APP = rx(
    r"\b((app|application) (logs?|events?|entries|messages)|log levels?|"
    r"(info|warning|error|critical) (level )?(events?|messages?|log entries|log lines|entries|lines)|"
    r"(ingest|operator|api) service|services?\b.*\blog(s|ged)?|events? logged)\b"
)
_HTTP = rx(
    r"\b(http|requests?|responses?|status(es)? codes?|status|ips?|ip addresses|[45]xx|"
    r"endpoints?|paths?|urls?|latency|access logs?|clients?|user agents?|gateways?|scanners?|"
    r"error codes?|errors? [1-5]\d\d|[1-5]\d\d ?s\b|[1-5]\d\d (errors?|responses?)|"
    r"(server|client)[- ]errors?|not found|unauthori[sz]ed|bad requests?|rate[- ]limited|"
    r"too many requests|bad gateway|service unavailable|failed requests?|GET|POST)\b"
)
_LOG = rx(r"\b(logs?|log entries|log lines)\b")
_SHARE = rx(r"\b(percent(?:age)?|share|proportion|fraction|ratio|what part|how much of)\b|%")
#: Fields that make the part of a share ("what share of incidents were major"); the
#: whole keeps the other constraints.
SHARE_PART = frozenset({"severity", "status", "level", "latency", "kind"})
_COUNT = rx(r"\b(how many|number of|count|total|how often|tally|amount of|quantity of|in total)\b")
_COUNTED = rx(
    r"\b(?i:how many|number of|count of|total number of)\s+((?:[a-z-]+\s+){0,2}?[a-z-]+?)"
    r"(?=\s+(?:[A-Z]|(?i:are|is|were|was|did|does|do|have|has|in|at|for|of|per)\b)|\s*[?.!]|\s*$)",
    0,
)
_STATS = rx(r"\b(distribution|error rate|rate of errors|stats|statistics|over time)\b")
_SUMMARY = rx(r"\b(summary|summari[sz]e|overview|diagnos\w*)\b")
_RANK = rx(
    r"\b(most|least|fewest|top|highest|lowest|worst|noisiest|busiest|biggest|largest|"
    r"smallest|rank(ed|ing)?|leading|frequent)\b"
)
_ASC = rx(r"\b(least|fewest|lowest|smallest|quietest)\b")

_FIELD_NOUNS: tuple[tuple[str, str], ...] = (
    ("severity", r"severit(?:y|ies)(?: levels?)?"),
    ("operator", r"operators?|compan(?:y|ies)|firms?"),
    ("region", r"regions?|states?"),
    ("site", r"sites?|locations?|field sites?"),
    ("year", r"years?|yearly|annually|calendar years?"),
    ("month", r"months?|monthly"),
    (
        "kind",
        r"kinds?|types? of incidents?|incident types?|incident kinds?|categor(?:y|ies)|causes?"
        r"|types?",
    ),
    ("status", r"status codes?|response codes?|http codes?|status(?:es)?|codes?"),
    ("path", r"paths?|endpoints?|urls?|routes?"),
    ("method", r"methods?|http methods?|verbs?"),
    ("client", r"client types?|user agents?|agents?"),
    ("ip", r"ip addresses|ip devices?|ips?|addresses|devices?|clients?|sources?|hosts?"),
    ("hour", r"hours?|hourly|hour of the day"),
    ("level", r"levels?|log levels?"),
    ("service", r"services?"),
)
_NOUN = {name: rx(rf"\b(?:{pattern})\b") for name, pattern in _FIELD_NOUNS}
_GROUP = rx(
    r"\b(?:by|per|for each|for every|each|broken down by|breakdown by|break ?down by|"
    r"grouped by|split by|across(?: the)?|in each)\s+(?:the\s+|their\s+)?("
    + "|".join(p for _, p in _FIELD_NOUNS)
    + r")\b"
)
_BREAKDOWN = rx(r"\b(breakdown|break ?down|distribution|split)\b")
_NOUN_BREAKDOWN = rx(
    r"\b(" + "|".join(p for _, p in _FIELD_NOUNS) + r")\s+(?:breakdown|distribution|split)\b"
)
_COMPARE = rx(r"\b(compare|compared|comparison|versus|vs\.?|against each other)\b")
_PERIODIC = rx(r"\b(monthly|yearly|annual|annually|hourly)\b")
_PERIOD_FIELD = {
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "hourly": "hour",
}
_WHICH = rx(
    r"\b(?:which|what|name the|list the|show the)\s+(?:\w+\s+)?("
    + "|".join(p for _, p in _FIELD_NOUNS)
    + r")\b"
)
_TOP_N = rx(
    r"\b(?:top|the|first)\s+(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\b(?!\s*(?:%|percent))"
)


def _number(word: str | None, default: int = 1) -> int:
    if not word:
        return default
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word.lower(), default)


def _dataset(q: str) -> Dataset:
    if _INCIDENT.search(q):
        return "incidents"
    if _APP.search(q):
        return "app"
    if _HTTP.search(q) or _LOG.search(q):
        return "http"
    if any(p.search(q) for _, p in _KIND_WORDS) and (_COUNT.search(q) or _RANK.search(q)):
        return "incidents"
    return "documents"


# --------------------------------------------------------------------------- dates

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_D_ISO = r"\d{4}-\d{1,2}-\d{1,2}"
_D_DMY = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}}"
_D_MDY = rf"{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
_D_MY = rf"{_MONTH}\.?,?\s+(?:of\s+)?\d{{4}}"
_D_Q = (
    r"(?:q[1-4]|h[12]|(?:the\s+)?(?:first|second|third|fourth|last|1st|2nd|3rd|4th)\s+"
    r"(?:quarter|half))\s+(?:of\s+)?\d{4}"
)
_D_DM = (
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
)
_D_M = rf"{_MONTH}\b"
_D_Y = r"(?<![\d.])(?:19|20)\d{2}(?![\d.])"
_DATE = rf"(?:{_D_ISO}|{_D_DMY}|{_D_MDY}|{_D_MY}|{_D_Q}|{_D_Y})"
_DATE_LOOSE = rf"(?:{_DATE}|{_D_DM})"
_RANGE = rx(
    rf"\b(?:between|from)\s+(?:the\s+)?({_DATE_LOOSE})\s+(?:and|to|until|till|through|thru|-|–)\s+"
    rf"(?:the\s+)?({_DATE_LOOSE})|\b({_DATE})\s*(?:-|–|to|through|thru|until)\s*({_DATE})\b"
)
_OPEN = rx(
    rf"\b(since|after|from|starting(?: in| from)?|beginning(?: in)?|as of|"
    rf"before|until|till|prior to|up to|through|by the end of|earlier than|later than)\s+"
    rf"(?:the\s+(?:start|beginning|end)\s+of\s+)?({_DATE_LOOSE})"
)
_RELATIVE = rx(
    r"\b(?:in\s+|over\s+|during\s+|within\s+)?(?:the\s+)?(last|past|previous|prior|recent)\s+"
    r"(\d{1,3}|a|one|two|three|four|five|six|seven|eight|nine|ten|twelve)?\s*"
    r"(years?|months?|weeks?|days?)\b"
    r"|\b(this|current|the current|last|previous|the previous)\s+(year|month|week)\b"
    r"|\b(year[- ]to[- ]date|ytd|today|yesterday)\b"
)
_NO_YEAR_AFTER = r"(?!\.?,?\s+(?:of\s+)?\d{4})"
_SINGLE = rx(
    rf"\b({_D_ISO}|{_D_DMY}|{_D_MDY}|{_D_MY}|{_D_Q})\b|({_D_Y})"
    rf"|\b(?:in|during|on)\s+((?:{_D_DM}){_NO_YEAR_AFTER}|{_D_M}(?!\.?,?\s+(?:of\s+)?\d))"
)
_MIN, _MAX = date(1, 1, 1), date(9999, 12, 31)


def _month_end(d: date) -> date:
    end: date = d + relativedelta(day=31)
    return end


def _interval(expr: str, ref: date) -> tuple[date, date]:
    """The days a date expression covers: a year, a quarter, a month or a day."""
    text = expr.strip().lower().replace("of ", "")
    if re.fullmatch(_D_Y, text):
        y = int(text)
        return date(y, 1, 1), date(y, 12, 31)
    q = re.fullmatch(r"(?:the\s+)?(q[1-4]|h[12]|\w+)\s+(quarter|half)?\s*(\d{4})", text)
    if q and (q.group(2) or q.group(1)[0] in "qh"):
        ordinal = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
        ordinal |= {"fourth": 4, "4th": 4, "last": 4 if q.group(2) == "quarter" else 2}
        word = q.group(1)
        n = int(word[1]) if word[0] in "qh" and word[1:].isdigit() else ordinal[word]
        months = 6 if word.startswith("h") or q.group(2) == "half" else 3
        start = date(int(q.group(3)), months * (n - 1) + 1, 1)
        return start, _month_end(start + relativedelta(months=months - 1))
    has_year = bool(re.search(r"\d{4}", text))
    has_day = bool(re.fullmatch(_D_ISO, text)) or bool(
        re.search(r"(?<!\d)\d{1,2}(st|nd|rd|th)?(?!\d)", re.sub(r"\d{4}", "", text))
    )
    default = datetime(ref.year, 1, 1)
    parsed = date_parser.parse(text, default=default, dayfirst=False).date()
    if not has_year and (parsed.month, parsed.day if has_day else 1) > (ref.month, ref.day):
        # "in March" means the latest March on the records' calendar.
        parsed = parsed.replace(year=ref.year - 1)
    if has_day:
        return parsed, parsed
    start = parsed.replace(day=1)
    return start, _month_end(start)


def _relative(m: re.Match[str], ref: date) -> tuple[date, date, str]:
    which, n_word, unit, this, unit2, special = m.groups()
    if special:
        s = special.lower()
        if s == "today":
            return ref, ref, "the latest day in the records"
        if s == "yesterday":
            d = ref - timedelta(days=1)
            return d, d, "the day before the latest record"
        return date(ref.year, 1, 1), ref, "the records' latest year up to the latest record"
    if this:
        calendar = this.lower().replace("the ", "")
        unit2 = unit2.lower()
        if calendar in ("this", "current"):
            start = {
                "year": date(ref.year, 1, 1),
                "month": ref.replace(day=1),
                "week": ref - timedelta(days=ref.weekday()),
            }[unit2]
            return start, ref, f"the {unit2} of the latest record"
        if unit2 == "year":
            return (
                date(ref.year - 1, 1, 1),
                date(ref.year - 1, 12, 31),
                "the year before the latest record's",
            )
        if unit2 == "month":
            start = ref.replace(day=1) - relativedelta(months=1)
            return start, _month_end(start), "the month before the latest record's"
        start = ref - timedelta(days=ref.weekday() + 7)
        return start, start + timedelta(days=6), "the week before the latest record's"
    n = _number(n_word, 1)
    unit = unit.lower().rstrip("s")
    if n_word is None and which.lower() in ("last", "previous", "prior") and unit == "year":
        return (
            date(ref.year - 1, 1, 1),
            date(ref.year - 1, 12, 31),
            "the year before the latest record's",
        )
    delta = {
        "year": relativedelta(years=n),
        "month": relativedelta(months=n),
        "week": relativedelta(weeks=n),
        "day": relativedelta(days=n),
    }[unit]
    return ref - delta + timedelta(days=1), ref, "counted back from the latest record"


def _fmt(start: date, end: date) -> str:
    if start == _MIN:
        return f"up to {end.isoformat()}"
    if end == _MAX:
        return f"from {start.isoformat()}"
    if start == end:
        return start.isoformat()
    if start.month == 1 and start.day == 1 and end.month == 12 and end.day == 31:
        return str(start.year) if start.year == end.year else f"{start.year} to {end.year}"
    return f"{start.isoformat()} to {end.isoformat()}"


def _intersect(a: list[tuple[date, date]], b: list[tuple[date, date]]) -> list[tuple[date, date]]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s <= e:
                out.append((s, e))
    return out


_BAD_DATE = "not a valid date"


def _dates(
    t: Text, ref: date, out: Interpretation
) -> list[tuple[list[tuple[date, date]], Constraint]]:
    found: list[tuple[list[tuple[date, date]], Constraint]] = []
    # An impossible date ("February 30 2024", "2024-13-45") is reported, not a 500.
    invalid = (ValueError, OverflowError, KeyError)
    for m in t.find(_RANGE):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        try:
            start, end = _interval(a, ref)[0], _interval(b, ref)[1]
        except invalid:
            out.not_understood.append(NotUnderstood(m.group(0).strip(), _BAD_DATE))
            continue
        c = Constraint("date", m.group(0).strip(), [_fmt(start, end)])
        if start > end:
            out.contradictions.append(
                f"the date range '{c.text}' is empty: it ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        found.append(([(start, end)], c))
    for m in t.find(_OPEN):
        word, expr = m.group(1).lower(), m.group(2)
        try:
            s, e = _interval(expr, ref)
            if word in ("before", "prior to", "earlier than"):
                span = (_MIN, s - timedelta(days=1))
            elif word in ("until", "till", "up to", "through", "by the end of"):
                span = (_MIN, e)
            elif word in ("after", "later than"):
                span = (e + timedelta(days=1), _MAX)
            else:
                span = (s, _MAX)
        except invalid:
            out.not_understood.append(NotUnderstood(m.group(0).strip(), _BAD_DATE))
            continue
        found.append(([span], Constraint("date", m.group(0).strip(), [_fmt(*span)])))
    for m in t.find(_RELATIVE):
        try:
            s, e, how = _relative(m, ref)
        except invalid:
            out.not_understood.append(NotUnderstood(m.group(0).strip(), _BAD_DATE))
            continue
        found.append(
            (
                [(s, e)],
                Constraint(
                    "date",
                    m.group(0).strip(),
                    [_fmt(s, e)],
                    f"'{m.group(0).strip()}' read as {_fmt(s, e)}: {how} ({ref.isoformat()})",
                ),
            )
        )
    singles: list[tuple[re.Match[str], tuple[date, date]]] = []
    for m in t.find(_SINGLE):
        try:
            singles.append((m, _interval(next(g for g in m.groups() if g), ref)))
        except invalid:
            out.not_understood.append(NotUnderstood(m.group(0).strip(), _BAD_DATE))
    if singles:
        spans = [span for _, span in singles]
        text = " and ".join(m.group(0).strip() for m, _ in singles)
        notes = [
            f"'{m.group(0).strip()}' read as {_fmt(*span)} (the latest such month before {ref.isoformat()})"
            for m, span in singles
            if not re.search(r"\d{4}", m.group(0))
        ]
        found.append((spans, Constraint("date", text, [_fmt(*s) for s in spans], "; ".join(notes))))
    return found


_TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
_TIME_RANGE = rx(rf"\b(?:between|from)\s+{_TIME}\s*(?:and|to|until|-|–)\s*{_TIME}\s*(?:utc)?\b")
_TIME_OPEN = rx(r"\b(after|before|since|until)\s+(\d{1,2})(?::(\d{2}))\s*(am|pm)?\s*(?:utc)?")
_DAYPART = rx(r"\b(?:in the |during the |at )?(morning|afternoon|evening|night|overnight)\b")
_DAYPARTS = {
    "morning": [(6, 12)],
    "afternoon": [(12, 18)],
    "evening": [(18, 22)],
    "night": [(22, 24), (0, 6)],
    "overnight": [(22, 24), (0, 6)],
}


def _seconds(h: str, mnt: str | None, ampm: str | None) -> int:
    hour = int(h)
    if ampm and ampm.lower() == "pm" and hour < 12:
        hour += 12
    if ampm and ampm.lower() == "am" and hour == 12:
        hour = 0
    return hour * 3600 + int(mnt or 0) * 60


def _times(t: Text, out: Interpretation) -> Constraint | None:
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    for m in t.find(_TIME_RANGE):
        g = m.groups()
        if not (g[1] or g[2] or g[4] or g[5]):  # "between 2023 and 2024" is not a time
            t.taken[m.start() : m.end()] = [False] * (m.end() - m.start())
            continue
        a, b = _seconds(g[0], g[1], g[2]), _seconds(g[3], g[4], g[5])
        if a >= b:
            out.contradictions.append(f"the time range '{m.group(0).strip()}' is empty")
        spans.append((a, b))
        texts.append(m.group(0).strip())
    for m in t.find(_TIME_OPEN):
        s = _seconds(m.group(2), m.group(3), m.group(4))
        spans.append((s, 86_400) if m.group(1).lower() in ("after", "since") else (0, s))
        texts.append(m.group(0).strip())
    for m in t.find(_DAYPART):
        spans += [(a * 3600, b * 3600) for a, b in _DAYPARTS[m.group(1).lower()]]
        texts.append(m.group(0).strip())
    if not spans:
        return None
    shown = ", ".join(
        f"{a // 3600:02d}:{a % 3600 // 60:02d}-{b // 3600:02d}:{b % 3600 // 60:02d}"
        for a, b in spans
    )
    out.times = spans
    return Constraint("time", " and ".join(texts), [shown], f"UTC time of day {shown}")


# --------------------------------------------------------------------------- names

_OPERATOR_CUE = rx(
    r"\b(?:operator|company|firm|contractor)\s+((?:[A-Z0-9][\w&.'-]*\s?)+)"
    r"|\b((?:[A-Z][\w&.-]*\s?)+?)(?:'s)?\s+(?:\w+\s+)?(?:operations|operated|wells|rigs|fields|crews?)\b"
    r"|\b(?:for|by|at|in|of)\s+((?:[A-Z][\w&.-]*\s?)+?)(?:'s)?\s*(?=[?.!,]|$)"
    r"|\b([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*)'s\b"
    r"|\bdid\s+([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*)\s+(?:have|record|report|log|see)\b",
    0,
)


def _aliases_operator(name: str) -> list[str]:
    out = [norm(name)]
    first = norm(name).split()[0]
    if len(first) >= 4 and first not in _FILLER:
        out.append(first)
    m = re.match(r"([a-z]+)(\d+)", first)
    if m:
        out.append(f"{m.group(1)} {m.group(2)}")
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- words

_SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "minor": (
        "minor",
        "low",
        "low severity",
        "low-severity",
        "small",
        "slight",
        "light",
        "trivial",
        "first aid",
        "first-aid",
    ),
    "moderate": (
        "moderate",
        "medium",
        "mid-level",
        "intermediate",
        "medical treatment",
        "restricted work",
    ),
    "major": (
        "major",
        "serious",
        "severe",
        "high",
        "high severity",
        "high-severity",
        "significant",
        "grave",
        "critical",
        "lost time",
        "lost-time",
        "big",
    ),
}
_UNMAPPED_SEVERITY = rx(r"\b(fatal(ities)?|deadly|lethal|life[- ]threatening|catastrophic)\b")
_NEGATION = r"(?:not|non|excluding|except|other than|apart from|besides|without)[- ]?\s*"
_SEVERITY = rx(
    rf"\b({_NEGATION})?("
    + "|".join(
        sorted((re.escape(w) for ws in _SEVERITY_WORDS.values() for w in ws), key=len, reverse=True)
    )
    + r")\b(?!\s*(?:count|number|%))"
)
_LEVEL_WORDS = {
    "INFO": r"info(?:rmational)?",
    "WARNING": r"warn(?:ing)?s?",
    "ERROR": r"errors?",
    "CRITICAL": r"critical",
}
_LEVEL = rx(r"\b(" + "|".join(_LEVEL_WORDS.values()) + r")\b")
_STATUS_CODE = rx(
    r"\b(?:status|code|http|error|errors|response|responses|returned|returning|with)\s*(?:code\s*)?([1-5]\d{2})\b"
    r"|\b([1-5]\d{2})\s*(?:s\b|errors?|responses?|status|codes?)"
    r"|(?<![\d.:/-])\b([1-5]\d{2})\b(?![\d.:/-])"
)
_STATUS_CLASS = rx(r"\b([1-5])xx\b")
_STATUS_NAMES: tuple[tuple[str, tuple[int, int], re.Pattern[str]], ...] = (
    ("server errors", (500, 599), rx(r"\bserver(?:[- ]side)? errors?\b")),
    ("client errors", (400, 499), rx(r"\bclient(?:[- ]side)? errors?\b")),
    ("not found", (404, 404), rx(r"\bnot[- ]found\b")),
    ("unauthorized", (401, 401), rx(r"\bunauthori[sz]ed\b")),
    ("forbidden", (403, 403), rx(r"\bforbidden\b")),
    ("bad request", (400, 400), rx(r"\bbad requests?\b|\bmalformed\b")),
    ("rate limited", (429, 429), rx(r"\b(rate[- ]limit(ed|ing)?|too many requests|throttled)\b")),
    ("internal server error", (500, 500), rx(r"\binternal (server )?errors?\b")),
    ("bad gateway", (502, 502), rx(r"\bbad gateway\b")),
    ("service unavailable", (503, 503), rx(r"\b(service )?unavailable\b")),
    ("gateway timeout", (504, 504), rx(r"\bgateway timeouts?\b")),
    ("successful", (200, 299), rx(r"\b(successful|succeeded|success(es)?)\b")),
    (
        "errors",
        (400, 599),
        rx(r"(?<!rate of )\b(errors?|failed|failures?|failing)\b(?!\s+rates?)"),
    ),
)
_LATENCY = rx(
    r"\b(?:latency|response time|request time|duration|took|taking|slower than|faster than|longer than)?\s*"
    r"(over|above|more than|greater than|>|under|below|less than|<|slower than|faster than|longer than)\s*"
    r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?)\b"
)
_IPV4 = rx(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_METHOD = rx(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)(?:ed)?\b", 0)
_METHOD_LOWER = rx(r"\b(get|post|put|delete|patch|head)\s+(requests?|calls?)\b")
_PATH = rx(r"(?<![\w/])(/[A-Za-z0-9_.\-/]+)")
_ENDPOINT = rx(r"\b(?:the\s+)?([a-z_-]+)\s+(?:endpoint|path|route|api)\b")
_CLIENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tier0-gateway", rx(r"\bgateways?\b")),
    ("tier0-device", rx(r"\b(field devices?|device agents?|tier0-device|device clients?)\b")),
    ("Mozilla", rx(r"\b(dashboard|browsers?|web ui|mozilla)\b")),
    ("zgrab", rx(r"\b(scanners?|zgrab|crawlers?|bots?)\b")),
    ("curl", rx(r"\bcurl\b")),
    ("python-requests", rx(r"\b(python(-requests)?|scripts?)\b")),
)
_NOT_A_SERVICE = frozenset("per each every by the a an which what any that this its".split())
_SERVICE = rx(r"\b(?:the\s+)?([a-z][\w-]*)\s+service\b|\bservice\s+([a-z][\w-]*)\b")
_DEVICE_TYPE = rx(
    r"\b(wind turbines?|turbines?|thermal engines?|engines?|electrical rotors?|rotors?|"
    r"oil (?:and|&) gas sensors?|sensors?|pump ?jacks?|generators?)\b"
)
_DEVICE_STATE = rx(
    r"\b(?:in|with)\s+(?:an?\s+)?(ALERT|WARN|OK|alert|warn)\s+(?:state|status)\b"
    r"|\b(alerting|alarming)\s+devices?\b"
    r"|\bdevices?\s+in\s+(?:an?\s+)?(alert|warn)(?:ing)?(?:\s+(?:state|status))?\b"
)

#: Words a question uses that are not constraints: intent, grammar and domain nouns.
_FILLER = frozenset(
    """
    a about across affected after against all also altogether am an and any are as ask at
    based be been being between break breakdown broken by calendar can count counted
    counting counts could data did do does during each entire entries entry events ever
    every exact exactly find for frequent frequently from gave generate generated
    generating get give given got group grouped had happen happened happening has have
    having here how i in including into is it its just know last least let like list listed
    lists log logged logs lines line many me more most much my name need number numbers
    occur occurred occurring occurs of on or order ordered our over overall per please
    produce produced recorded records record registered report reported reports response
    responses request requests return returned returning see sent served show sorted split
    state stated tell than that the their them there these they this those throughout to
    top total totals under up us was we were what when where which who whole with within
    would you your rank ranked ranking ranks compare compared versus vs respectively each
    incident incidents incidence incidences accident accidents safety event injuries injury
    recorded operations operation operator operators company companies site sites location
    locations region regions year years month months severity severities kind kinds type
    types category categories cause causes status statuses code codes http ip ips address
    addresses device devices client clients source sources host hosts path paths endpoint
    endpoints url urls method methods hour hours level levels service services app
    application entries highest lowest fewest biggest largest smallest worst noisiest busiest
    leading top most least frequency times time often many much one ones field fields
    distribution stats statistics rate error-rate summary overview altogether combined
    sum happened within inclusive so far do did tally quantity amount yearly monthly hourly
    breakdown broken down grouped annual annually each every give show display what's whats
    how's were was been being has had having s t came come comes coming originate
    originated originating caused involving involved involve seen observed noted took take
    place there's have been altogether across logged hit hits get got received receive made
    make sent sending answered served returned stored indexed available known error
    errors rate rates common commonest happens happen send sends mention mentions
    mentioning mentioned contain contains containing user agent agents
    """.split()
)
_CAPITALISED = re.compile(r"\b([A-Z][A-Za-z0-9&.-]*(?:\s+[A-Z][A-Za-z0-9&.-]*)*)")
_QUESTION_START = frozenset(
    "how what which who where when give show list tell count name rank is are was were do does did "
    "please can could find get compare break summarize summarise display describe explain "
    "provide report calculate compute".split()
)


# --------------------------------------------------------------------------- main


def interpret(
    question: str, vocab: Vocabulary, top_k: int = 5, reference: date | None = None
) -> Interpretation:
    """Read ``question`` against the records' vocabulary; see the module docstring."""
    dataset = _dataset(question)
    t = Text(question)
    out = Interpretation(question, dataset, "documents")
    found: list[Constraint] = []

    # Order matters: IPs and paths before anything that reads digits, site ids before
    # regions (a site's name contains its state), dates last among the digit readers.
    for m in t.find(_IPV4):
        ip = m.group(1)
        if any(int(p) > 255 for p in ip.split(".")):
            out.not_understood.append(NotUnderstood(ip, "not a valid IPv4 address"))
        else:
            found.append(Constraint("ip", ip, [ip]))
    for m in t.find(_LATENCY):
        above = m.group(1).lower() in (
            "over",
            "above",
            "more than",
            "greater than",
            ">",
            "slower than",
            "longer than",
        )
        ms = float(m.group(2)) * (1000 if m.group(3).lower().startswith("s") else 1)
        bound = f"{'>' if above else '<'}{ms:g}"
        words = m.group(0).strip()
        found.append(Constraint("latency", words, [bound], f"'{words}' read as latency {bound} ms"))
    for m in t.find(_PATH):
        found.append(Constraint("path", m.group(1), [m.group(1).rstrip(".,?")]))
    _times_c = _times(t, out)
    if _times_c:
        found.append(_times_c)

    data_sites = _dataset_sites(vocab, dataset)
    for value, text, _m in fuzzy_spans(t, site_aliases()):
        note = (
            ""
            if norm(text) in (norm(value), norm(SITES_BY_ID[value].name))
            else f"'{text}' read as {value}"
        )
        if value not in data_sites:
            out.not_found.append(NotFound("site", text, data_sites))
        else:
            found.append(Constraint("site", text, [value], note))

    for m in t.find(REGION):
        state = m.group(1)
        sites = [s for s in data_sites if SITE_STATE.get(s, "").lower() == state.lower()]
        if sites:
            found.append(Constraint("region", state, sites, f"{state}: site {', '.join(sites)}"))
        else:
            out.not_found.append(
                NotFound(
                    "region", state, sorted({SITE_STATE[s] for s in data_sites if s in SITE_STATE})
                )
            )

    operator_aliases = {a: o for o in vocab.operators for a in _aliases_operator(o)}
    for value, text, _m in fuzzy_spans(t, operator_aliases):
        note = "" if norm(text) == norm(value) else f"'{text}' read as operator {value}"
        found.append(Constraint("operator", text, [value], note))

    ref = _reference(vocab, dataset, reference)
    date_found = _dates(t, ref, out)
    found += [c for _, c in date_found]

    for m in t.find(_STATUS_CLASS):
        d = int(m.group(1))
        found.append(Constraint("status", m.group(0), [f"{d}00-{d}99"]))
    if dataset == "http":
        for m in t.find(_STATUS_CODE):
            code = next(g for g in m.groups() if g)
            found.append(Constraint("status", m.group(0).strip(), [code]))
        for _name, (lo, hi), pattern in _STATUS_NAMES:
            for m in t.find(pattern):
                value = str(lo) if lo == hi else f"{lo}-{hi}"
                found.append(
                    Constraint(
                        "status", m.group(0), [value], f"'{m.group(0)}' read as HTTP status {value}"
                    )
                )
        for m in t.find(_METHOD):
            found.append(Constraint("method", m.group(1), [m.group(1)]))
        for m in t.find(_METHOD_LOWER):
            found.append(Constraint("method", m.group(1), [m.group(1).upper()]))
        for m in t.find(_ENDPOINT):
            paths = [
                p
                for p in vocab.values("http", "path")
                if p.rstrip("/").split("/")[-1] == m.group(1).lower()
            ]
            if paths:
                found.append(
                    Constraint(
                        "path", m.group(0), paths, f"'{m.group(0)}' read as {', '.join(paths)}"
                    )
                )
            elif m.group(1).lower() not in _FILLER:
                out.not_found.append(NotFound("path", m.group(0), vocab.values("http", "path")))
        for value, pattern in _CLIENTS:
            for m in t.find(pattern):
                found.append(
                    Constraint(
                        "client", m.group(0), [value], f"'{m.group(0)}' read as user agent {value}"
                    )
                )
    if dataset == "app":
        for m in t.find(_LEVEL):
            word = m.group(1).lower()
            level = next(lv for lv, p in _LEVEL_WORDS.items() if re.fullmatch(p, word))
            found.append(Constraint("level", m.group(0), [level]))
        for m in t.find(_SERVICE):
            name = (m.group(1) or m.group(2)).lower()
            if name in _NOT_A_SERVICE:
                t.taken[m.start() : m.end()] = [False] * (m.end() - m.start())
                continue
            found.append(Constraint("service", m.group(0), [name]))

    for m in t.find(_UNMAPPED_SEVERITY):
        out.not_understood.append(
            NotUnderstood(
                m.group(0),
                "the incident records grade severity only as minor, moderate or major; "
                f"'{m.group(0)}' has no equivalent there",
            )
        )
    if dataset in ("incidents", "documents"):
        for m in t.find(_SEVERITY):
            word = m.group(2).lower()
            level = next(lv for lv, ws in _SEVERITY_WORDS.items() if word in ws)
            exclude = bool(m.group(1))
            note = "" if word == level else f"'{word}' read as severity {level}"
            if exclude:
                note = f"'{m.group(0).strip()}' read as severity other than {level}"
            found.append(Constraint("severity", m.group(0).strip(), [level], note, exclude))
        for kind, pattern in _KIND_WORDS:
            for m in t.find(pattern):
                found.append(
                    Constraint(
                        "kind",
                        m.group(0),
                        [kind],
                        "" if m.group(0).lower() == kind else f"'{m.group(0)}' read as kind {kind}",
                    )
                )

    for m in t.find(_DEVICE_TYPE):
        found.append(Constraint("device_type", m.group(0), [m.group(0).lower()]))
    for m in t.find(_DEVICE_STATE):
        found.append(Constraint("state", m.group(0), [next(g for g in m.groups() if g).upper()]))

    _negations(t, found)
    _effective_dates(date_found, out)
    _intent(question, dataset, top_k, out, t, found)
    if dataset == "documents":
        # Document questions are answered by retrieval over the whole text; only an
        # operator or site that the records do not contain stops them. A count of
        # something no dataset records ("how many employees") is said to be one.
        counted = _COUNTED.search(question)
        if counted:
            out.not_understood.append(
                NotUnderstood(
                    counted.group(1),
                    "no records count this: incidents, HTTP requests and application log "
                    "entries are counted; passages that mention it are quoted instead",
                )
            )
        _unknown_names(t, vocab, out, cue_only=True)
        out.applied = [c for c in found if c.field in ("operator", "site", "region")]
        return out

    _unknown_names(t, vocab, out, cue_only=False)
    _leftover_words(t, out)
    _apply(found, vocab, out)
    return out


_NEGATION_CUE = re.compile(
    r"\b(?:not|outside|except|excluding|exclude|other than|apart from|besides|but not)"
    r"(?:\s+(?:at|in|for|from|of|during|the|site|sites|operator|operators|year|years))*\s*$",
    re.I,
)
#: Fields a negation cue can turn into an exclusion (severity reads its own negation).
_NEGATABLE = frozenset(
    {
        "operator",
        "site",
        "region",
        "date",
        "kind",
        "ip",
        "client",
        "path",
        "method",
        "level",
        "service",
    }
)


def _negations(t: Text, found: list[Constraint]) -> None:
    """'not at TX-BRAVO', 'outside Texas', 'excluding 2023', 'sites other than X':
    the constraint excludes its values instead of selecting them."""
    lowered = t.q.lower()
    for c in found:
        start = lowered.find(c.text.lower())
        if c.field not in _NEGATABLE or start < 0:
            continue
        m = _NEGATION_CUE.search(t.q[:start])
        if m and t.free(m.start(), m.end()):
            t.take(m.start(), m.end())
            c.exclude = True
            cue = m.group(0).strip()
            c.note = f"'{cue} {c.text}' read as excluding {', '.join(c.values)}"


def _effective_dates(
    date_found: list[tuple[list[tuple[date, date]], Constraint]], out: Interpretation
) -> None:
    """Date constraints hold together: their intersection, less the excluded ones."""
    selecting = [(spans, c) for spans, c in date_found if not c.exclude]
    out.excluded_dates = [span for spans, c in date_found if c.exclude for span in spans]
    if not selecting:
        return
    effective = [(_MIN, _MAX)]
    for spans, _c in selecting:
        effective = _intersect(effective, spans)
    if not effective and not out.contradictions:
        out.contradictions.append(
            "the date constraints "
            + " and ".join(f"'{c.text}'" for _, c in selecting)
            + " have no day in common"
        )
    out.dates = effective


def _dataset_sites(vocab: Vocabulary, dataset: str) -> list[str]:
    if dataset == "app":
        return vocab.values("app", "site")
    return vocab.values("incidents", "site") or vocab.values("app", "site")


def _reference(vocab: Vocabulary, dataset: str, reference: date | None) -> date:
    if reference is not None:
        return reference
    span = vocab.span_dates(dataset if dataset != "documents" else "incidents")
    return span[1] if span else date.today()


def _intent(
    question: str,
    dataset: Dataset,
    top_k: int,
    out: Interpretation,
    t: Text,
    found: list[Constraint],
) -> None:
    if dataset == "documents":
        return
    g = _GROUP.search(question) or _NOUN_BREAKDOWN.search(question)
    group = next((name for name, rx in _NOUN.items() if g and rx.fullmatch(g.group(1))), None)
    for extra in list(_GROUP.finditer(question))[1:]:
        # one breakdown per answer: a second one is named, not silently dropped
        name = next((n for n, rx in _NOUN.items() if rx.fullmatch(extra.group(1))), None)
        if name and name != group:
            t.take(extra.start(), extra.end())
            out.not_understood.append(
                NotUnderstood(
                    extra.group(0),
                    f"one breakdown per answer: grouped by {group} only; ask again for {name}",
                )
            )
    compared = _COMPARE.search(question)
    if group is None and compared:
        # "compare BP and Northwind": a breakdown over the values named
        group = next(
            (
                c.field
                for c in found
                if c.field in GROUPABLE[dataset]
                and not c.exclude
                and sum(x.field == c.field for x in found) + len(c.values) > 2
            ),
            None,
        )
        if group:
            t.take(compared.start(), compared.end())
    periodic = _PERIODIC.search(question)
    if group is None and periodic:
        group = _PERIOD_FIELD[periodic.group(1).lower()]
    rank = _RANK.search(question)
    which = _WHICH.search(question)
    if rank or (which and not g):
        span: tuple[int, int] | None = None
        words = ""
        target = None
        if which:
            target = next((n for n, rx in _NOUN.items() if rx.fullmatch(which.group(1))), None)
            if target:
                span, words = (which.start(1), which.end(1)), which.group(1)
        if target is None:
            # the field named first: "top 5 IPs with status 400" ranks IPs
            hits = [
                (m.start(), name, m)
                for name, rx in _NOUN.items()
                if name in GROUPABLE[dataset]
                for m in [rx.search(question)]
                if m
            ]
            if hits:
                _, target, m = min(hits, key=lambda h: h[0])
                span, words = (m.start(), m.end()), m.group(0)
        if target is None and dataset == "http":
            target = "ip"
        if target is not None and (rank or which):
            out.intent, out.group_by = "rank", target
            out.order = "asc" if _ASC.search(question) else "desc"
            n = _TOP_N.search(question)
            # "which site" / "the most common status code" ask for one (ties kept);
            # "the most frequent IPs" for a list
            w = words.lower()
            plural = w.endswith("statuses") or (w.endswith("s") and not w.endswith("status"))
            singular = bool(words) and not plural
            out.limit = _number(n.group(1)) if n else (1 if singular else top_k)
            if span:
                t.take(*span)
            if n:
                t.take(n.start(), n.end())
            return
    share = _SHARE.search(question)
    if share and not group:
        out.intent = "share"
        t.take(share.start(), share.end())
        return
    if group or (_BREAKDOWN.search(question) and dataset == "incidents"):
        out.intent, out.group_by = "group", group or "severity"
        if g:
            t.take(g.start(), g.end())
        return
    if dataset == "http" and not _COUNT.search(question):
        if _SUMMARY.search(question):
            out.intent = "summary"
            return
        if _STATS.search(question) or not (rank or which):
            out.intent = "stats" if _STATS.search(question) else "count"
            return
    if dataset == "app" and _SUMMARY.search(question) and not _COUNT.search(question):
        out.intent = "summary"
        return
    out.intent = "count"


def _unknown_names(t: Text, vocab: Vocabulary, out: Interpretation, cue_only: bool) -> None:
    """Names the question gives that match nothing in the records."""
    known_words = {w for o in vocab.operators for w in norm(o).split()}
    for m in t.find(UNKNOWN_SITE):
        name = next(g for g in m.groups() if g)
        if name.lower() in _FILLER or name.lower() in _QUESTION_START:
            continue
        out.not_found.append(
            NotFound(
                "site",
                name,
                _dataset_sites(vocab, out.dataset if out.dataset != "documents" else "incidents"),
            )
        )
    for m in t.find(_OPERATOR_CUE):
        name = next(g for g in m.groups() if g).strip()
        words = [
            w for w in name.split() if w.lower() not in _FILLER and w.lower() not in _QUESTION_START
        ]
        if (
            not words
            or all(w.lower() in known_words for w in words)
            or name.isupper()
            and name in ("HTTP", "IP", "UTC")
        ):
            continue
        out.not_found.append(NotFound("operator", " ".join(words), list(vocab.operators)))
    if cue_only:
        return
    rest = t.rest()
    for m in _CAPITALISED.finditer(rest):
        words = [
            w
            for w in m.group(1).split()
            if w.lower() not in _FILLER and w.lower() not in _QUESTION_START
        ]
        words = [
            w for w in words if w.upper() not in ("HTTP", "IP", "IPS", "UTC", "API", "PPE", "ID")
        ]
        if not words:
            continue
        name = " ".join(words)
        t.take(m.start(), m.end())
        out.not_found.append(
            NotFound("name", name, list(vocab.operators) + _dataset_sites(vocab, out.dataset))
        )


def _leftover_words(t: Text, out: Interpretation) -> None:
    for m in re.finditer(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])", t.rest()):
        # a number nothing read ("severity level 2") is a constraint we did not apply
        out.not_understood.append(NotUnderstood(m.group(0), "a number that matches no field"))
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9'-]*", t.rest()):
        word = m.group(0).lower().removesuffix("'s")
        if word in _FILLER or word in _QUESTION_START or len(word) < 2:
            continue
        if out.group_by and _NOUN[out.group_by].fullmatch(word):
            continue
        out.not_understood.append(
            NotUnderstood(m.group(0), "matches no field or value in the records")
        )


def _apply(found: list[Constraint], vocab: Vocabulary, out: Interpretation) -> None:
    dataset = out.dataset
    records = DATASET_NAMES[dataset]
    for c in found:
        if c.field not in APPLICABLE[dataset]:
            out.not_understood.append(
                NotUnderstood(c.text, f"the {records} do not record {FIELD_WORDS[c.field]}")
            )
            if c.field == "time":
                out.times = None
            continue
        known = vocab.values(dataset, {"client": "agent"}.get(c.field, c.field))
        if c.field in (
            "operator",
            "severity",
            "kind",
            "method",
            "path",
            "client",
            "level",
            "service",
        ):
            missing = [v for v in c.values if v not in known]
            if missing and len(missing) == len(c.values):
                out.not_found.append(NotFound(c.field, c.text, known))
                continue
        if c.field == "status":
            codes = {int(v) for v in known}
            for v in c.values:
                lo, _, hi = v.partition("-")
                if not hi and int(lo) not in codes:
                    out.not_found.append(NotFound("status", c.text, sorted(known, key=int)))
                    break
            else:
                out.applied.append(c)
            continue
        out.applied.append(c)
    sites = out.values("site")
    regions = [c for c in out.applied if c.field == "region"]
    if sites and regions:
        in_region = {s for c in regions for s in c.values}
        outside = [s for s in sites if s not in in_region]
        if outside:
            out.contradictions.append(
                f"site {', '.join(outside)} is not in {' or '.join(c.text for c in regions)} "
                f"(it is in {', '.join(SITE_STATE.get(s, '?') for s in outside)})"
            )
    if out.intent == "share" and not any(c.field in SHARE_PART for c in out.applied):
        out.not_understood.append(
            NotUnderstood(
                "share",
                "a share needs a part to measure (a severity, status, log level, latency or "
                "incident kind); the count is given instead",
            )
        )
        out.intent = "count"
    if out.group_by and out.group_by not in GROUPABLE[dataset]:
        out.not_understood.append(
            NotUnderstood(out.group_by, f"the {records} cannot be grouped by {out.group_by}")
        )
        out.intent, out.group_by = "count", None
    if out.dates is not None and not out.contradictions:
        span = vocab.span_dates(dataset)
        if span and not _intersect(out.dates, [span]):
            text = " and ".join(c.text for c in out.applied if c.field == "date")
            out.not_found.append(NotFound("date", text, [span[0].isoformat(), span[1].isoformat()]))
    _statuses(out)
    if out.excluded("severity") and not effective_severities(out):
        out.contradictions.append(
            "the severity constraints "
            + " and ".join(f"'{c.text}'" for c in out.applied if c.field == "severity")
            + " exclude each other"
        )


SEVERITIES = ("minor", "moderate", "major")


def effective_severities(out: Interpretation) -> list[str]:
    """Severities named (any of them), less the excluded ones ("not minor")."""
    named = out.values("severity") or list(SEVERITIES)
    return [s for s in SEVERITIES if s in named and s not in out.excluded("severity")]


def _statuses(out: Interpretation) -> None:
    """Codes and classes written as numbers are alternatives ("400 and 404", "4xx and
    5xx"); words ("server errors", "not found") narrow them, and an empty result is a
    contradiction ("404 server errors")."""
    named = [c for c in out.applied if c.field == "status"]
    if not named:
        return

    def spans(c: Constraint) -> list[tuple[int, int]]:
        return [(int(v.split("-")[0]), int(v.split("-")[-1])) for v in c.values]

    numeric = [s for c in named if not c.note for s in spans(c)]
    words = [spans(c)[0] for c in named if c.note]
    result = numeric or [(100, 599)]
    for lo, hi in words:
        result = [(max(a, lo), min(b, hi)) for a, b in result if max(a, lo) <= min(b, hi)]
    if not result:
        out.contradictions.append(
            "the status constraints "
            + " and ".join(f"'{c.text}'" for c in named)
            + " exclude each other"
        )
    out.statuses = sorted(set(result))
