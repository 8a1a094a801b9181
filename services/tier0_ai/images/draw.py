"""Render an annotation as a picture with Pillow, so the image shows what it says.

Simple shapes, deterministic for a given annotation: sky and light by time of day,
the equipment of the category, one figure per worker (a yellow dome on the head for
a hard hat, a bare head otherwise), the engineer with a dark tablet in hand, grey
smoke puffs, a black pool for a leak, and a "SYNTHETIC" stamp.
"""

from __future__ import annotations

import io
import json

from PIL import Image, ImageDraw, PngImagePlugin

from .annotation import ImageAnnotation, caption

WIDTH, HEIGHT = 320, 240
GROUND_Y = 170


def _equipment(
    d: ImageDraw.ImageDraw, category: str, metal: tuple[int, int, int]
) -> tuple[int, int]:
    """Draw the category's equipment; returns the point smoke rises from."""
    if category == "turbine":
        d.polygon([(196, GROUND_Y), (204, 60), (210, 60), (218, GROUND_Y)], fill=metal)
        hub = (207, 58)
        for end in ((207, 12), (250, 82), (164, 82)):
            d.line([hub, end], fill=(235, 235, 235), width=6)
        d.ellipse([hub[0] - 6, hub[1] - 6, hub[0] + 6, hub[1] + 6], fill=(200, 200, 200))
        return (214, 70)
    if category == "thermal_engine":
        d.rectangle([160, 110, 260, GROUND_Y], fill=metal, outline=(40, 40, 40))
        d.rectangle([236, 60, 250, 110], fill=(90, 90, 90))
        for x in range(170, 250, 16):
            d.rectangle([x, 120, x + 8, 150], fill=(60, 60, 60))
        return (243, 55)
    if category == "electrical_rotor":
        d.rectangle([150, 150, 270, GROUND_Y], fill=(70, 70, 70))
        d.ellipse([165, 70, 255, 160], fill=metal, outline=(40, 40, 40), width=3)
        d.ellipse([195, 100, 225, 130], fill=(184, 115, 51))
        for dx, dy in ((0, -35), (35, 0), (0, 35), (-35, 0)):
            d.ellipse([210 + dx - 7, 115 + dy - 7, 210 + dx + 7, 115 + dy + 7], fill=(184, 115, 51))
        return (210, 70)
    d.line([(175, GROUND_Y), (200, 95), (225, GROUND_Y)], fill=metal, width=5)
    d.line([(150, 95), (260, 80)], fill=(60, 60, 60), width=8)
    d.polygon([(250, 70), (272, 82), (250, 96)], fill=(60, 60, 60))
    d.rectangle([255, 130, 290, GROUND_Y], fill=(110, 110, 110))
    return (270, 80)


def _figure(d: ImageDraw.ImageDraw, x: int, hardhat: bool, engineer: bool) -> None:
    body = (245, 245, 245) if engineer else (255, 120, 0)
    d.line([(x - 5, GROUND_Y), (x, GROUND_Y - 22), (x + 5, GROUND_Y)], fill=(40, 40, 90), width=3)
    d.rectangle([x - 7, GROUND_Y - 48, x + 7, GROUND_Y - 22], fill=body, outline=(30, 30, 30))
    d.ellipse([x - 6, GROUND_Y - 62, x + 6, GROUND_Y - 50], fill=(224, 172, 105))
    if hardhat:
        colour = (255, 255, 255) if engineer else (255, 215, 0)
        d.pieslice(
            [x - 8, GROUND_Y - 66, x + 8, GROUND_Y - 52],
            180,
            360,
            fill=colour,
            outline=(30, 30, 30),
        )
        d.line([(x - 9, GROUND_Y - 59), (x + 9, GROUND_Y - 59)], fill=colour, width=2)
    if engineer:
        d.line([(x + 7, GROUND_Y - 40), (x + 16, GROUND_Y - 36)], fill=body, width=3)
        d.rectangle(
            [x + 13, GROUND_Y - 46, x + 25, GROUND_Y - 30],
            fill=(20, 20, 30),
            outline=(120, 200, 255),
        )


def render(a: ImageAnnotation) -> Image.Image:
    night = a.time_of_day == "night"
    sky = (15, 20, 50) if night else (135, 200, 250)
    ground = (40, 50, 35) if night else (110, 160, 80)
    img = Image.new("RGB", (WIDTH, HEIGHT), sky)
    d = ImageDraw.Draw(img)
    if night:
        d.ellipse([20, 15, 45, 40], fill=(240, 240, 200))
        for i in range(12):
            x, y = (37 * i * 7) % WIDTH, 10 + (23 * i) % 70
            d.point([(x, y), (x + 1, y)], fill=(255, 255, 255))
    else:
        d.ellipse([20, 15, 55, 50], fill=(255, 230, 60))
    d.rectangle([0, GROUND_Y, WIDTH, HEIGHT], fill=ground)
    metal = (150, 155, 165) if not night else (95, 100, 110)
    stack = _equipment(d, a.category, metal)
    if a.smoke:
        for i in range(5):
            r = 8 + 3 * i
            cx, cy = stack[0] + 6 * i, stack[1] - 14 * i
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(120 + 10 * i,) * 3)
    if a.leak:
        d.ellipse([150, GROUND_Y + 8, 250, GROUND_Y + 30], fill=(10, 10, 10))
        d.line([(235, GROUND_Y - 10), (235, GROUND_Y + 10)], fill=(10, 10, 10), width=3)
    x = 22
    for _ in range(a.workers_with_hardhat):
        _figure(d, x, hardhat=True, engineer=False)
        x += 24
    for _ in range(a.workers_without_hardhat):
        _figure(d, x, hardhat=False, engineer=False)
        x += 24
    if a.engineer_with_tablet:
        _figure(d, x + 4, hardhat=True, engineer=True)
    d.rectangle([0, HEIGHT - 18, WIDTH, HEIGHT], fill=(0, 0, 0))
    d.text((4, HEIGHT - 15), f"SYNTHETIC  {a.image_id}", fill=(255, 255, 255))
    return img


def png_bytes(a: ImageAnnotation) -> bytes:
    """PNG bytes with the annotation and caption in text chunks (self-describing file)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("tier0:synthetic", "true")
    info.add_text("tier0:annotation", json.dumps(a.model_dump(), sort_keys=True))
    info.add_text("tier0:caption", caption(a))
    out = io.BytesIO()
    render(a).save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()
