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
from typing import Final

from tier0_common.catalog import SITE_IDS

CATEGORIES: Final[dict[str, str]] = {
    "turbine": "turbine",
    "thermal_engine": "thermal engine",
    "electrical_rotor": "electrical rotor",
    "oil_gas": "oil and gas",
}

_CATEGORY_PATTERNS: Final = (
    ("turbine", re.compile(r"\bturbines?\b", re.I)),
    ("thermal_engine", re.compile(r"\b(thermal|engines?|generator sets?)\b", re.I)),
    ("electrical_rotor", re.compile(r"\b(rotors?|electrical|motors?)\b", re.I)),
    ("oil_gas", re.compile(r"\b(oil|gas|pump ?jacks?|wellheads?|drill(ing)?|rigs?)\b", re.I)),
)
_NO_HAT = re.compile(
    r"\b(without|no|not wearing|missing|lacking|bare[- ]?headed|bare heads?|unprotected)"
    r"\W+(?:\w+\W+){0,2}?(hard ?hats?|hats?|helmets?|head protection)|\bbare[- ]?head(ed|s)?\b",
    re.I,
)
_HAT = re.compile(r"\b(wearing|with|in)\W+(?:\w+\W+){0,2}?(hard ?hats?|helmets?)\b", re.I)
_TABLET = re.compile(r"\b(tablets?|ipads?)\b", re.I)
_SMOKE = re.compile(r"\b(smoke|smoking|smoky|fumes?)\b", re.I)
_LEAK = re.compile(r"\b(leaks?|leaking|spills?|spilt|spilled|puddles?)\b", re.I)
_NIGHT = re.compile(r"\b(night|nighttime|dark|after dark)\b", re.I)
_DAY = re.compile(r"\b(day|daytime|daylight|by day|sunny)\b", re.I)
_SITE = re.compile(r"\b(" + "|".join(re.escape(s) for s in SITE_IDS) + r")\b", re.I)


def extract(text: str) -> dict[str, set[str]]:
    """``{"category": {...}, "site": {...}, "attrs": {...}}`` named in ``text``.

    Category words only count when one category is named; a query naming several
    ("turbines and rotors") does not filter by category.
    """
    categories = {name for name, pattern in _CATEGORY_PATTERNS if pattern.search(text)}
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
    return {
        "category": categories if len(categories) == 1 else set(),
        "site": sites,
        "attrs": attrs,
    }
