"""The synthetic images show what their annotations and captions say."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tier0_ai import attributes
from tier0_ai.images.annotation import ImageAnnotation, caption
from tier0_ai.images.corpus import annotations, generate
from tier0_ai.images.draw import GROUND_Y, render
from tier0_ai.images.loader import load_folder
from tier0_common.catalog import SITE_IDS


def _annotation(**overrides: object) -> ImageAnnotation:
    base = dict(
        image_id="t-1",
        site_id="WY-ALPHA",
        category="turbine",
        time_of_day="day",
        workers_with_hardhat=0,
        workers_without_hardhat=0,
        engineer_with_tablet=False,
        smoke=False,
        leak=False,
    )
    return ImageAnnotation.model_validate({**base, **overrides})


def test_corpus_covers_every_category_and_site_with_the_seed_cases() -> None:
    items = annotations()
    assert len(items) >= 48
    assert {(a.category, a.site_id) for a in items} >= {
        (c, s)
        for c in ("turbine", "thermal_engine", "electrical_rotor", "oil_gas")
        for s in SITE_IDS
    }
    assert any(a.category == "turbine" and a.workers_without_hardhat for a in items)
    assert {a.category for a in items if a.engineer_with_tablet} == {
        "turbine",
        "thermal_engine",
        "electrical_rotor",
        "oil_gas",
    }
    assert all(a.synthetic for a in items)


def test_caption_states_each_attribute_and_is_read_back_by_the_extractor() -> None:
    for a in annotations():
        text = caption(a)
        assert "Synthetic image" in text
        named = attributes.extract(text)
        assert named["attrs"] == a.tags(), (text, a.tags())
        assert named["site"] == {a.site_id}


def _head_pixel(img: Image.Image, x: int) -> tuple[int, int, int]:
    """Colour just above a figure's face, where a hard hat's dome is drawn."""
    return img.getpixel((x, GROUND_Y - 63))  # type: ignore[return-value]


def test_drawing_puts_a_yellow_hard_hat_only_on_workers_that_wear_one() -> None:
    img = render(_annotation(workers_with_hardhat=1, workers_without_hardhat=1))
    hat, bare = _head_pixel(img, 22), _head_pixel(img, 46)
    assert hat == (255, 215, 0)
    assert bare != (255, 215, 0) and bare == img.getpixel((5, 5))  # sky shows above a bare head


def test_drawing_shows_tablet_night_and_leak() -> None:
    day = render(_annotation())
    night = render(_annotation(time_of_day="night", engineer_with_tablet=True, leak=True))
    assert sum(day.getpixel((160, 5))) > sum(night.getpixel((160, 5)))  # type: ignore[arg-type]
    assert night.getpixel((22 + 4 + 19, GROUND_Y - 38)) == (20, 20, 30)  # the tablet's screen
    assert night.getpixel((200, GROUND_Y + 19)) == (10, 10, 10)  # the leak's pool


def test_generated_folder_loads_back_with_annotations(tmp_path: Path) -> None:
    generate(tmp_path, count=8)
    report = load_folder(tmp_path)
    assert report.skipped == []
    assert len(report.images) == 8
    first = report.images[0]
    assert first.synthetic and first.annotation is not None and first.mime == "image/png"
    with Image.open(io.BytesIO(first.data or b"")) as img:
        assert img.info["tier0:synthetic"] == "true"


def test_user_folder_skips_corrupt_and_oversized_files_with_reasons(tmp_path: Path) -> None:
    good = Image.new("RGB", (8, 8), (255, 0, 0))
    good.save(tmp_path / "pump-1.png")
    (tmp_path / "pump-1.txt").write_text("Oil and gas pump at TX-BRAVO with a leak at night")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "empty.png").write_bytes(b"")
    truncated = io.BytesIO()
    good.save(truncated, format="PNG")
    (tmp_path / "truncated.png").write_bytes(truncated.getvalue()[:40])
    (tmp_path / "notes.md").write_text("ignored: not an image")
    report = load_folder(tmp_path)
    assert [i.image_id for i in report.images] == ["user-pump-1"]
    loaded = report.images[0]
    assert (loaded.site_id, loaded.category) == ("TX-BRAVO", "oil_gas")
    assert loaded.tags == {"leak", "night"}
    skipped = dict((Path(p).name, why) for p, why in report.skipped)
    assert set(skipped) == {"broken.jpg", "empty.png", "truncated.png"}
    assert all("image" in why for why in skipped.values())
