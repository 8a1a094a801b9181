"""Names in free text: sites (ids, names, spelling variants), US states, masked spans.

Why a module of its own: diagnostics questions (rag/understand.py) and image queries
(attributes.py) name the same sites and regions, and both must say which words they
read and which they could not map. :class:`Text` masks the spans already read so no
words count twice; :func:`fuzzy_spans` finds aliases exactly or with a small
spelling difference (rapidfuzz).
"""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import fuzz

from tier0_common.catalog import SITES


class Text:
    """The question with the spans already read masked out, so no words count twice."""

    def __init__(self, question: str) -> None:
        self.q = question
        self.taken = [False] * len(question)

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def take(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.taken[i] = True

    def find(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        out = []
        for m in pattern.finditer(self.q):
            if m.end() > m.start() and self.free(m.start(), m.end()):
                out.append(m)
                self.take(m.start(), m.end())
        return out

    def rest(self) -> str:
        return "".join(" " if t else c for c, t in zip(self.q, self.taken, strict=True))


def rx(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


STATE_NAMES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia "
    "Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts "
    "Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon "
    "Pennsylvania Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming"
).split() + [
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "West Virginia",
]
#: A site's state is its name without the last word ("North Dakota Charlie").
SITE_STATE = {s.site_id: s.name.rsplit(" ", 1)[0] for s in SITES}
REGION = rx(
    r"\b(" + "|".join(sorted((re.escape(s) for s in STATE_NAMES), key=len, reverse=True)) + r")\b"
)
UNKNOWN_SITE = rx(
    r"\b(?:site|sites|location|facility)\s+(?:called\s+|named\s+)?([A-Z][\w-]+)"
    r"|\b(?:the\s+)?([A-Z][\w-]+)\s+(?:site|facility|field site)\b"
    r"|\b([A-Z]{2}-[A-Z]{3,})\b",
    0,
)


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


#: Numbers written as words, in questions ("the last two years") and image queries
#: ("three workers", "a single worker").
NUMBER_WORDS: dict[str, int] = {
    "no": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "a lone": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
}


@cache
def site_aliases() -> dict[str, str]:
    """Normalised site ids and names -> site id."""
    out: dict[str, str] = {}
    for s in SITES:
        out[norm(s.site_id)] = s.site_id
        out[norm(s.name)] = s.site_id
    return out


def fuzzy_spans(
    t: Text, aliases: dict[str, str], cutoff: float = 88.0
) -> list[tuple[str, str, re.Match[str]]]:
    """(canonical value, question words, match) for each alias found in the question,
    exactly or with a small spelling difference (rapidfuzz ratio >= cutoff; aliases
    shorter than 5 characters must match exactly)."""
    words = list(re.finditer(r"[A-Za-z0-9&]+(?:'s)?", t.q))
    hits: list[tuple[str, str, re.Match[str]]] = []
    by_len: dict[int, list[tuple[str, str]]] = {}
    for alias, value in aliases.items():
        by_len.setdefault(len(alias.split()), []).append((alias, value))
    for n in sorted(by_len, reverse=True):
        for i in range(len(words) - n + 1):
            first, last = words[i], words[i + n - 1]
            if not t.free(first.start(), last.end()):
                continue
            phrase = norm(re.sub(r"'s\b", "", t.q[first.start() : last.end()]))
            best, score = None, 0.0
            for alias, value in by_len[n]:
                s = (
                    100.0
                    if phrase == alias
                    else (fuzz.ratio(phrase, alias) if len(alias) >= 5 else 0.0)
                )
                if s > score:
                    best, score = value, s
            if best is not None and score >= cutoff:
                m = re.compile(re.escape(t.q[first.start() : last.end()])).search(
                    t.q, first.start()
                )
                assert m is not None
                t.take(first.start(), last.end())
                hits.append((best, t.q[first.start() : last.end()], m))
    return hits
