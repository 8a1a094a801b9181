"""What a picture shows, as data, and the caption derived from it.

The annotation is the ground truth: the drawing code renders exactly these
attributes, the caption is a pure function of them, and tests judge search results
against them. Every generated annotation says it is synthetic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tier0_common.catalog import SITES_BY_ID

from ..attributes import CATEGORIES

Category = Literal["turbine", "thermal_engine", "electrical_rotor", "oil_gas"]

SYNTHETIC_NOTICE = "Synthetic image drawn by tier0_ai (not a photograph)."


class ImageAnnotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    site_id: str
    category: Category
    time_of_day: Literal["day", "night"]
    workers_with_hardhat: int = Field(ge=0, le=6)
    workers_without_hardhat: int = Field(ge=0, le=6)
    engineer_with_tablet: bool
    smoke: bool
    leak: bool
    synthetic: bool = True

    def tags(self) -> set[str]:
        """The attribute TAGs stored with the image (same names as :mod:`..attributes`)."""
        tags: set[str] = {self.time_of_day}
        if self.workers_with_hardhat or self.engineer_with_tablet:
            tags.add("hardhat")
        if self.workers_without_hardhat:
            tags.add("no_hardhat")
        for name in ("smoke", "leak"):
            if getattr(self, name):
                tags.add(name)
        if self.engineer_with_tablet:
            tags.add("tablet")
        # people counts, as the caption states them (see attributes.count_tags)
        workers = self.workers_with_hardhat + self.workers_without_hardhat
        if self.workers_with_hardhat:
            tags.add(f"hatted_{self.workers_with_hardhat}")
        if self.workers_without_hardhat:
            tags.add(f"hatless_{self.workers_without_hardhat}")
        if workers:
            tags.add(f"workers_{workers}")
        if not (workers or self.engineer_with_tablet):
            tags.add("nobody")
        return tags


def _workers(n: int, one: str, many: str) -> str:
    return f"1 worker {one}" if n == 1 else f"{n} workers {many}"


def caption(a: ImageAnnotation) -> str:
    """The caption of an annotation; every clause states a drawn attribute."""
    site = SITES_BY_ID.get(a.site_id)
    where = f"{a.site_id} ({site.name})" if site else a.site_id
    when = "by day" if a.time_of_day == "day" else "at night"
    parts = [f"{CATEGORIES[a.category].capitalize()} site {where} {when}."]
    if a.workers_with_hardhat:
        parts.append(
            _workers(
                a.workers_with_hardhat, "wearing a yellow hard hat", "wearing yellow hard hats"
            )
            + "."
        )
    if a.workers_without_hardhat:
        parts.append(
            _workers(
                a.workers_without_hardhat,
                "without a hard hat (bare head)",
                "without hard hats (bare heads)",
            )
            + "."
        )
    if a.engineer_with_tablet:
        parts.append("An engineer in a white hard hat holding a tablet.")
    if not (a.workers_with_hardhat or a.workers_without_hardhat or a.engineer_with_tablet):
        parts.append("No people in view.")
    if a.smoke:
        parts.append("Smoke rising from the equipment.")
    if a.leak:
        parts.append("A black fluid leak pooling on the ground.")
    parts.append(SYNTHETIC_NOTICE)
    return " ".join(parts)
