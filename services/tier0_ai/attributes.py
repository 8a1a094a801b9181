"""Scene attributes named in a caption or a query: category, site, PPE, tablet, smoke...

Why: a sentence-embedding model scores "workers without hard hats" and "workers
wearing hard hats" almost the same (negation barely moves the vector). The words
that decide relevance for the seed's queries are few and explicit, so the same
extractor reads them from every caption at index time (stored as TAGs) and from the
query at search time (used as filters, relaxed when too few images match). The
vector still ranks within the filtered set, and the response lists the filters used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from tier0_common.catalog import SITE_IDS

from .names import NUMBER_WORDS, REGION, SITE_STATE, UNKNOWN_SITE, Text, fuzzy_spans, site_aliases

CATEGORIES: Final[dict[str, str]] = {
    "turbine": "turbine",
    "thermal_engine": "thermal engine",
    "electrical_rotor": "electrical rotor",
    "oil_gas": "oil and gas",
}

CATEGORY_PATTERNS: Final = (
    ("turbine", re.compile(r"\b(wind )?turbines?\b", re.I)),
    ("thermal_engine", re.compile(r"\b(thermal|engines?|generator sets?|generators?)\b", re.I)),
    ("electrical_rotor", re.compile(r"\b(rotors?|electrical|electric|motors?)\b", re.I)),
    ("oil_gas", re.compile(r"\b(oil|gas|pump ?jacks?|wellheads?|drill(ing)?|rigs?)\b", re.I)),
)
_NO_HAT = re.compile(
    r"\b(without|no|not wearing|missing|lacking|bare[- ]?headed|bare heads?|unprotected)"
    r"\W+(?:\w+\W+){0,2}?(hard ?hats?|hats?|helmets?|head protection)|\bbare[- ]?head(ed|s)?\b"
    r"|\bunprotected heads?\b",
    re.I,
)
_HAT = re.compile(r"\b(wearing|with|in)\W+(?:\w+\W+){0,2}?(hard ?hats?|helmets?)\b", re.I)
_TABLET = re.compile(r"\b(tablets?|ipads?)\b", re.I)
_SMOKE = re.compile(r"\b(smoke|smoking|smoky|fumes?)\b", re.I)
_LEAK = re.compile(r"\b(fluid |oil )?(leaks?|leaking|spills?|spilt|spilled|puddles?)\b", re.I)
_NIGHT = re.compile(
    r"\b(night shift|night|nighttime|night-time|dark|after dark|evening|dusk)\b", re.I
)
_DAY = re.compile(r"\b(day|daytime|daylight|by day|sunny|morning|afternoon|noon|midday)\b", re.I)
_COUNT = re.compile(
    r"\b(\d|one|a single|a lone|single|two|three|four|five|six|seven)\s+"
    r"(?:\w+\s+)?(workers?|people|persons?|men|crew members?|technicians?)\b"
    r"(?:\s+(wearing|with|in|without|not wearing|missing)\W+(?:\w+\W+){0,2}?"
    r"(hard ?hats?|helmets?|hats?)\b(?:\s+\(bare heads?\))?)?",
    re.I,
)
_NOBODY = re.compile(
    r"\b(no (?:people|person|one|workers|crew|staff)(?: in view)?|nobody|empty|unmanned|"
    r"deserted|unattended)\b",
    re.I,
)
_SITE = re.compile(r"\b(" + "|".join(re.escape(s) for s in SITE_IDS) + r")\b", re.I)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def count_tags(text: str) -> set[str]:
    """People counts named in a caption: ``workers_N`` (all workers), ``hatted_N``,
    ``hatless_N``, and ``nobody`` when no people are in view."""
    hatted = hatless = 0
    for m in _COUNT.finditer(text):
        n = _count(m.group(1))
        if m.group(3) and m.group(3).lower() in ("without", "not wearing", "missing"):
            hatless += n
        elif m.group(3):
            hatted += n
    tags = set()
    if hatted:
        tags.add(f"hatted_{hatted}")
    if hatless:
        tags.add(f"hatless_{hatless}")
    if hatted + hatless:
        tags.add(f"workers_{hatted + hatless}")
    if _NOBODY.search(text):
        tags.add("nobody")
    return tags


def extract(text: str) -> dict[str, set[str]]:
    """``{"category": {...}, "site": {...}, "attrs": {...}}`` named in ``text``.

    Category words only count when one category is named; a query naming several
    ("turbines and rotors") does not filter by category.
    """
    categories = {name for name, pattern in CATEGORY_PATTERNS if pattern.search(text)}
    sites = {m.upper() for m in _SITE.findall(text)}
    attrs: set[str] = set()
    if _NO_HAT.search(text):
        attrs.add("no_hardhat")
    if _HAT.search(_NO_HAT.sub(" ", text)):
        attrs.add("hardhat")
    for name, pattern in (("tablet", _TABLET), ("smoke", _SMOKE), ("leak", _LEAK)):
        if pattern.search(text):
            attrs.add(name)
    if _NIGHT.search(text):
        attrs.add("night")
    elif _DAY.search(text):
        attrs.add("day")
    attrs |= count_tags(text)
    return {
        "category": categories if len(categories) == 1 else set(),
        "site": sites,
        "attrs": attrs,
    }


# --------------------------------------------------------------------------- queries

#: How a stand-in caption words a scene attribute read from a file name.
TAG_WORDS: Final = {
    "no_hardhat": "workers without hard hats",
    "hardhat": "workers wearing hard hats",
    "tablet": "an engineer with a tablet",
    "smoke": "smoke",
    "leak": "a leak",
    "night": "at night",
    "day": "by day",
}
#: Scene attribute -> its words, in the order a query is read (hatless before hats).
SCENE_PATTERNS: Final = (
    ("no_hardhat", _NO_HAT),
    ("hardhat", _HAT),
    ("tablet", _TABLET),
    ("smoke", _SMOKE),
    ("leak", _LEAK),
    ("night", _NIGHT),
    ("day", _DAY),
)

_NEGATED = re.compile(
    r"\b(?:without|with no|with no visible|no|not|free of|absent|lacking|excluding|minus)\s+"
    r"(?:any\s+|visible\s+|a\s+)?(smoke|smoking|fumes?|leaks?|leaking|spills?|tablets?|ipads?)\b",
    re.I,
)
_ALL_HATTED = re.compile(
    r"\b(?:no (?:workers?|one|people|crew)|nobody|none)\s+(?:without|missing)\W+(?:\w+\W+){0,2}?"
    r"(?:hard ?hats?|helmets?|hats?)"
    r"|\b(?:everyone|everybody|all (?:the )?(?:workers|crew|people))\s+(?:is\s+|are\s+)?"
    r"(?:wearing|in|with)\W+(?:\w+\W+){0,2}?(?:hard ?hats?|helmets?)",
    re.I,
)
_NOT_NIGHT = re.compile(r"\bnot (?:at night|after dark|in the dark)\b", re.I)
_NOT_DAY = re.compile(r"\bnot (?:by day|during the day|in daylight)\b", re.I)
_NEGATED_TAG = {
    "smoke": "smoke",
    "smoking": "smoke",
    "fume": "smoke",
    "fumes": "smoke",
    "leak": "leak",
    "leaks": "leak",
    "leaking": "leak",
    "spill": "leak",
    "spills": "leak",
    "tablet": "tablet",
    "tablets": "tablet",
    "ipad": "tablet",
    "ipads": "tablet",
}
#: Words of an image query that are not filters: grammar, and the scene's nouns.
_QUERY_FILLER = frozenset(
    """
    a an and any are as at be by can do does find for from get give has have i image
    images in is it its me my of on or photo photos photograph photographs picture pictures
    please scene scenes shot shots show shows site sites that the their there these this those
    to was were where which who with near next around showing shown visible people person
    persons workers worker crew crews engineer engineers technician technicians staff men
    holding using carrying wearing working work standing equipment field location locations
    rising coming pooling ground floor some all only just also like look looks looking
    photographed taken captured view something somewhere place places area areas yard
    what whose hard hat hats helmet helmets one ones
    """.split()
)


@dataclass(slots=True)
class QueryReading:
    """An image query as filters, with what could not be mapped (see module docstring)."""

    category: set[str] = field(default_factory=set)
    site: set[str] = field(default_factory=set)
    include: set[str] = field(default_factory=set)
    exclude: set[str] = field(default_factory=set)
    applied: list[dict[str, object]] = field(default_factory=list)
    not_understood: list[dict[str, str]] = field(default_factory=list)
    not_found: list[dict[str, object]] = field(default_factory=list)

    def interpretation(self) -> dict[str, object]:
        return {
            "applied": self.applied,
            "not_understood": self.not_understood,
            "not_found": self.not_found,
        }


def read_query(text: str) -> QueryReading:
    """Read an image query: every term becomes a filter, or is reported as not mapped
    (the vector still ranks by it), or names a site or region that does not exist."""
    t = Text(text)
    r = QueryReading()

    def applied(field_name: str, words: str, values: list[str], exclude: bool = False) -> None:
        r.applied.append({"field": field_name, "text": words, "values": values, "exclude": exclude})

    for value, words, _m in fuzzy_spans(t, site_aliases()):
        r.site.add(value)
        applied("site", words, [value])
    for m in t.find(REGION):
        sites = sorted(s for s, state in SITE_STATE.items() if state.lower() == m.group(1).lower())
        if sites:
            r.site.update(sites)
            applied("region", m.group(1), sites)
        else:
            r.not_found.append(
                {"field": "region", "text": m.group(1), "known": sorted(set(SITE_STATE.values()))}
            )
    for m in t.find(UNKNOWN_SITE):
        name = next(g for g in m.groups() if g)
        if name.lower() not in _QUERY_FILLER:
            r.not_found.append({"field": "site", "text": name, "known": list(SITE_IDS)})
    for m in t.find(_ALL_HATTED):
        r.exclude.add("no_hardhat")
        r.include.add("hardhat")
        applied("tags", m.group(0), ["no_hardhat"], exclude=True)
        applied("tags", m.group(0), ["hardhat"])
    for m in t.find(_COUNT):
        n = _count(m.group(1))
        how = (m.group(3) or "").lower()
        tag = (
            f"hatless_{n}"
            if how in ("without", "not wearing", "missing")
            else f"hatted_{n}"
            if how
            else f"workers_{n}"
        )
        tag = "nobody" if n == 0 and tag.startswith("workers") else tag
        r.include.add(tag)
        applied("count", m.group(0), [tag])
    for m in t.find(_NOBODY):
        r.include.add("nobody")
        applied("tags", m.group(0), ["nobody"])
    for m in t.find(_NEGATED):
        tag = _NEGATED_TAG[m.group(1).lower()]
        r.exclude.add(tag)
        applied("tags", m.group(0), [tag], exclude=True)
    for m in t.find(_NOT_NIGHT):
        r.include.add("day")
        applied("time_of_day", m.group(0), ["day"])
    for m in t.find(_NOT_DAY):
        r.include.add("night")
        applied("time_of_day", m.group(0), ["night"])
    for name, pattern in SCENE_PATTERNS:
        for m in t.find(pattern):
            if name == "day" and "night" in r.include:
                continue
            r.include.add(name)
            applied("time_of_day" if name in ("day", "night") else "tags", m.group(0), [name])
    matches = [(name, m) for name, pattern in CATEGORY_PATTERNS for m in t.find(pattern)]
    named = {name for name, _m in matches}
    if len(named) == 1:
        r.category = named
        applied("category", " ".join(m.group(0) for _, m in matches), sorted(named))
    elif named:
        r.not_understood.append(
            {
                "text": " and ".join(m.group(0) for _, m in matches),
                "reason": "several categories named; not used as a filter",
            }
        )
    for m in re.finditer(r"[A-Za-z][A-Za-z'-]*", t.rest()):
        if m.group(0).lower() not in _QUERY_FILLER:
            r.not_understood.append(
                {"text": m.group(0), "reason": "not a filter; ranked by similarity only"}
            )
    return r
