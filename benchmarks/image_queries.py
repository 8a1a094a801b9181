"""The labelled image query set: (category, query, relevance predicate over an annotation).

Why predicates: relevance is decided by what each synthetic image shows (its
annotation, the ground truth the drawing renders), never by hand-picked ids, so the
set stays right when the corpus is regenerated. Categories: the seed's scenes, image
categories, sites and regions, time of day, negations ("without", "no"), people
counts ("three workers") and combinations. Used by benchmarks/retrieval_quality.py
(P@5 per category) and tests/integration/ai/test_image_queries.py.
"""

from __future__ import annotations

from collections.abc import Callable

from tier0_ai.images.annotation import ImageAnnotation
from tier0_common.catalog import SITES

Pred = Callable[[ImageAnnotation], bool]


def _cat(c: str) -> Pred:
    return lambda a: a.category == c


def _workers(a: ImageAnnotation) -> int:
    return a.workers_with_hardhat + a.workers_without_hardhat


def _nobody(a: ImageAnnotation) -> bool:
    return not (_workers(a) or a.engineer_with_tablet)


SCENE: list[tuple[str, Pred]] = [
    (
        "Get turbine site that has workers without hats",
        lambda a: a.category == "turbine" and a.workers_without_hardhat > 0,
    ),
    ("Get site with engineer holding a tablet", lambda a: a.engineer_with_tablet),
    ("thermal engine with smoke", lambda a: a.category == "thermal_engine" and a.smoke),
    ("smoke rising from the equipment", lambda a: a.smoke),
    ("fluid leak on the ground", lambda a: a.leak),
    ("oil and gas site with a leak", lambda a: a.category == "oil_gas" and a.leak),
    ("thermal engine leaking", lambda a: a.category == "thermal_engine" and a.leak),
    (
        "engineer with a tablet at a turbine",
        lambda a: a.category == "turbine" and a.engineer_with_tablet,
    ),
    (
        "engineer using a tablet near the pump jack",
        lambda a: a.category == "oil_gas" and a.engineer_with_tablet,
    ),
    (
        "workers wearing hard hats at a thermal engine",
        lambda a: (
            a.category == "thermal_engine"
            and (a.workers_with_hardhat > 0 or a.engineer_with_tablet)
        ),
    ),
    ("turbine site with smoke", lambda a: a.category == "turbine" and a.smoke),
    ("smoke and a leak", lambda a: a.smoke and a.leak),
]

CATEGORY: list[tuple[str, Pred]] = [
    ("wind turbine", _cat("turbine")),
    ("turbines", _cat("turbine")),
    ("turbine site", _cat("turbine")),
    ("electrical rotor", _cat("electrical_rotor")),
    ("rotor", _cat("electrical_rotor")),
    ("electric motor", _cat("electrical_rotor")),
    ("oil and gas drilling rig", _cat("oil_gas")),
    ("pump jack", _cat("oil_gas")),
    ("oil and gas site", _cat("oil_gas")),
    ("thermal engine generator", _cat("thermal_engine")),
    ("thermal engine", _cat("thermal_engine")),
    ("engines", _cat("thermal_engine")),
]

SITE: list[tuple[str, Pred]] = [
    *[(f"images from site {s.site_id}", lambda a, s=s: a.site_id == s.site_id) for s in SITES],
    *[(f"{s.name} site", lambda a, s=s: a.site_id == s.site_id) for s in SITES],
    ("sites in Texas", lambda a: a.site_id == "TX-BRAVO"),
    ("pictures from Wyoming", lambda a: a.site_id == "WY-ALPHA"),
    ("equipment in Alaska", lambda a: a.site_id == "AK-GOLF"),
    ("North Dakota photos", lambda a: a.site_id == "ND-CHARLIE"),
    ("California field site", lambda a: a.site_id == "CA-INDIA"),
]

TIME: list[tuple[str, Pred]] = [
    ("turbine at night", lambda a: a.category == "turbine" and a.time_of_day == "night"),
    (
        "night shift at the rotor site",
        lambda a: a.category == "electrical_rotor" and a.time_of_day == "night",
    ),
    (
        "electrical rotor by day",
        lambda a: a.category == "electrical_rotor" and a.time_of_day == "day",
    ),
    ("daytime oil and gas site", lambda a: a.category == "oil_gas" and a.time_of_day == "day"),
    ("scenes after dark", lambda a: a.time_of_day == "night"),
    ("in the evening", lambda a: a.time_of_day == "night"),
    (
        "morning at a thermal engine",
        lambda a: a.category == "thermal_engine" and a.time_of_day == "day",
    ),
    (
        "turbine not at night",
        lambda a: a.category == "turbine" and a.time_of_day == "day",
    ),
    (
        "crew in yellow helmets at night",
        lambda a: a.time_of_day == "night" and a.workers_with_hardhat > 0,
    ),
    (
        "daylight photos of rotors",
        lambda a: a.category == "electrical_rotor" and a.time_of_day == "day",
    ),
]

NEGATION: list[tuple[str, Pred]] = [
    ("turbine without smoke", lambda a: a.category == "turbine" and not a.smoke),
    ("thermal engine with no smoke", lambda a: a.category == "thermal_engine" and not a.smoke),
    ("oil and gas site without a leak", lambda a: a.category == "oil_gas" and not a.leak),
    ("thermal engine with no leaks", lambda a: a.category == "thermal_engine" and not a.leak),
    ("site without a tablet", lambda a: not a.engineer_with_tablet),
    (
        "no workers without hard hats at the oil site",
        lambda a: a.category == "oil_gas" and a.workers_without_hardhat == 0,
    ),
    (
        "everyone wearing hard hats at a turbine",
        lambda a: (
            a.category == "turbine"
            and a.workers_without_hardhat == 0
            and (a.workers_with_hardhat > 0 or a.engineer_with_tablet)
        ),
    ),
    ("workers without hard hats", lambda a: a.workers_without_hardhat > 0),
    ("crew with no hard hats", lambda a: a.workers_without_hardhat > 0),
    (
        "rotor with workers missing helmets",
        lambda a: a.category == "electrical_rotor" and a.workers_without_hardhat > 0,
    ),
    (
        "bare-headed crew at an oil and gas site",
        lambda a: a.category == "oil_gas" and a.workers_without_hardhat > 0,
    ),
    (
        "thermal engine site with unprotected heads",
        lambda a: a.category == "thermal_engine" and a.workers_without_hardhat > 0,
    ),
    ("turbine with no people", lambda a: a.category == "turbine" and _nobody(a)),
    (
        "oil and gas site with no smoke and no leak",
        lambda a: a.category == "oil_gas" and not (a.smoke or a.leak),
    ),
    ("night scenes without smoke", lambda a: a.time_of_day == "night" and not a.smoke),
    (
        "rotor site without a tablet by day",
        lambda a: (
            a.category == "electrical_rotor"
            and not a.engineer_with_tablet
            and a.time_of_day == "day"
        ),
    ),
    (
        "thermal engine not at night",
        lambda a: a.category == "thermal_engine" and a.time_of_day == "day",
    ),
]

COUNT: list[tuple[str, Pred]] = [
    ("three workers", lambda a: _workers(a) == 3),
    ("two workers", lambda a: _workers(a) == 2),
    ("one worker", lambda a: _workers(a) == 1),
    ("a single worker at a turbine", lambda a: a.category == "turbine" and _workers(a) == 1),
    ("three workers wearing hard hats", lambda a: a.workers_with_hardhat == 3),
    ("two workers without hard hats", lambda a: a.workers_without_hardhat == 2),
    ("one worker without a hard hat", lambda a: a.workers_without_hardhat == 1),
    ("2 workers at an oil and gas site", lambda a: a.category == "oil_gas" and _workers(a) == 2),
    ("three workers at night", lambda a: _workers(a) == 3 and a.time_of_day == "night"),
    (
        "one worker wearing a hard hat by day",
        lambda a: a.workers_with_hardhat == 1 and a.time_of_day == "day",
    ),
    ("empty site with no people", _nobody),
    ("nobody at the thermal engine", lambda a: a.category == "thermal_engine" and _nobody(a)),
    ("two people", lambda a: _workers(a) == 2),
    ("3 workers in hard hats", lambda a: a.workers_with_hardhat == 3),
    ("four workers", lambda a: _workers(a) == 4),
    (
        "one worker at an electrical rotor",
        lambda a: a.category == "electrical_rotor" and _workers(a) == 1,
    ),
]

COMBINED: list[tuple[str, Pred]] = [
    (
        "turbine at WY-ALPHA at night",
        lambda a: a.category == "turbine" and a.site_id == "WY-ALPHA" and a.time_of_day == "night",
    ),
    ("leak at Texas Bravo", lambda a: a.site_id == "TX-BRAVO" and a.leak),
    ("smoke at night", lambda a: a.smoke and a.time_of_day == "night"),
    ("leak at night", lambda a: a.leak and a.time_of_day == "night"),
    ("tablet at night", lambda a: a.engineer_with_tablet and a.time_of_day == "night"),
    (
        "two workers without hard hats at a thermal engine",
        lambda a: a.category == "thermal_engine" and a.workers_without_hardhat == 2,
    ),
    (
        "oil and gas site in Texas without a leak",
        lambda a: a.category == "oil_gas" and a.site_id == "TX-BRAVO" and not a.leak,
    ),
    (
        "thermal engine in Wyoming by day",
        lambda a: (
            a.category == "thermal_engine" and a.site_id == "WY-ALPHA" and a.time_of_day == "day"
        ),
    ),
    (
        "rotor at Colorado Foxtrot with workers without hats",
        lambda a: (
            a.category == "electrical_rotor"
            and a.site_id == "CO-FOXTROT"
            and a.workers_without_hardhat > 0
        ),
    ),
    (
        "engineer with a tablet in Alaska",
        lambda a: a.site_id == "AK-GOLF" and a.engineer_with_tablet,
    ),
]

IMAGE_QUERIES: list[tuple[str, str, Pred]] = [
    (category, query, pred)
    for category, queries in (
        ("scene", SCENE),
        ("category", CATEGORY),
        ("site and region", SITE),
        ("time of day", TIME),
        ("negation", NEGATION),
        ("count", COUNT),
        ("combined", COMBINED),
    )
    for query, pred in queries
]
