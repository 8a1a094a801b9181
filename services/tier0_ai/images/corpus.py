"""Generate the annotated synthetic image corpus: PNG + JSON annotation per image.

Deterministic for a seed: image i has category i mod 4 and site (i div 4) mod 10, so
60 images cover every category at every site; the scene attributes are drawn from a
seeded RNG with the seed queries' cases guaranteed (hatless workers at turbine
sites, an engineer with a tablet in every category).
"""

import json
import random
from pathlib import Path
from typing import get_args

from tier0_common.catalog import SITE_IDS

from .annotation import Category, ImageAnnotation, caption
from .draw import png_bytes

CATEGORY_ORDER: tuple[Category, ...] = get_args(Category)
MANIFEST = "manifest.json"


def annotations(count: int = 60, seed: int = 273) -> list[ImageAnnotation]:
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(seed)
    out: list[ImageAnnotation] = []
    for i in range(count):
        category = CATEGORY_ORDER[i % len(CATEGORY_ORDER)]
        site = SITE_IDS[(i // len(CATEGORY_ORDER)) % len(SITE_IDS)]
        rotation = (i // len(CATEGORY_ORDER)) % 5
        hatless = rotation == 0 or rng.random() < 0.15
        tablet = rotation == 2 or (rotation != 0 and rng.random() < 0.1)
        out.append(
            ImageAnnotation(
                image_id=f"syn-{category}-{site}-{i:03d}",
                site_id=site,
                category=category,
                time_of_day="night" if rng.random() < 0.3 else "day",
                workers_with_hardhat=rng.randint(0, 3) if not hatless else rng.randint(0, 1),
                workers_without_hardhat=rng.randint(1, 3) if hatless else 0,
                engineer_with_tablet=tablet,
                smoke=category in ("thermal_engine", "turbine", "oil_gas") and rng.random() < 0.3,
                leak=category in ("oil_gas", "thermal_engine") and rng.random() < 0.4,
            )
        )
    return out


def generate(out_dir: Path, count: int = 60, seed: int = 273) -> list[ImageAnnotation]:
    """Write ``{id}.png``, ``{id}.json`` (annotation + caption) and a manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items = annotations(count, seed)
    for a in items:
        (out_dir / f"{a.image_id}.png").write_bytes(png_bytes(a))
        record = {**a.model_dump(), "caption": caption(a)}
        (out_dir / f"{a.image_id}.json").write_text(json.dumps(record, indent=2, sort_keys=True))
    manifest = {
        "synthetic": True,
        "generator": "tier0_ai.images.corpus",
        "seed": seed,
        "count": len(items),
        "images": [a.image_id for a in items],
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return items
