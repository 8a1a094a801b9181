"""Loading a user's own photos the way real image sets are laid out: category and site
subfolders of JPEGs, a captions.json, a sidecar, files that are not images; then
searching them offline, where a photo with no caption says it matched on its names."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.support.servers import Endpoint
from tier0_ai.cli import _load_images
from tier0_ai.images.search import FILE_NAME_ONLY
from tier0_ai.state import AIState

from .conftest import async_client, make_app

pytestmark = pytest.mark.integration

PHOTOS = {
    "turbines/wy-alpha/IMG_0001.jpg": (30, 90, 160),
    "turbines/IMG_0002.jpg": (40, 100, 150),
    "oil_gas/Texas Bravo/DSC_0003.jpg": (90, 60, 30),
    "rotors/night_shift_ak-golf.jpg": (10, 10, 40),
    "misc/holiday_snapshot.jpg": (200, 200, 180),
    "misc/captioned.jpg": (60, 60, 60),
}


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for rel, colour in PHOTOS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), colour).save(root / rel, "JPEG")
    (root / "captions.json").write_text(
        json.dumps({"misc/captioned.jpg": "A thermal engine with smoke at night at LA-HOTEL"})
    )
    (root / "turbines" / "IMG_0002.txt").write_text("two workers without hard hats")
    (root / "misc" / "broken.jpg").write_bytes(b"not an image")
    (root / "misc" / "notes.md").write_text("trip notes")
    return root


def test_a_folder_tree_is_loaded_mapped_reported_and_searchable(
    photos: Path, redis2: object, redis_region2: Endpoint, offline_ai: AIState
) -> None:
    async def load() -> dict[str, object]:
        client = async_client(redis_region2)
        try:
            return await _load_images(client, offline_ai.embeddings, photos)
        finally:
            await client.aclose()

    result = asyncio.run(load())
    assert result["images"] == len(PHOTOS)
    listed = result["files"]
    assert isinstance(listed, list)
    files = {Path(f["file"]).relative_to(photos).as_posix(): f for f in listed}
    assert files["turbines/wy-alpha/IMG_0001.jpg"] == {
        "file": str(photos / "turbines/wy-alpha/IMG_0001.jpg"),
        "action": "loaded",
        "image_id": "user-turbines-wy-alpha-IMG_0001",
        "caption_from": "file name",
        "category": "turbine",
        "category_from": "folder 'turbines'",
        "site": "WY-ALPHA",
        "site_from": "folder 'wy-alpha'",
    }
    assert files["oil_gas/Texas Bravo/DSC_0003.jpg"]["site"] == "TX-BRAVO"
    assert files["rotors/night_shift_ak-golf.jpg"]["site_from"] == "file name"
    assert files["turbines/IMG_0002.jpg"]["caption_from"] == "txt sidecar"
    assert files["misc/captioned.jpg"]["caption_from"] == "captions.json"
    assert files["misc/captioned.jpg"]["category"] == "thermal_engine"
    assert files["misc/holiday_snapshot.jpg"]["unmapped"] == ["misc", "holiday", "snapshot"]
    assert files["misc/holiday_snapshot.jpg"]["category_from"] == "not mapped"
    assert files["misc/broken.jpg"]["action"] == "skipped"
    assert (
        files["misc/broken.jpg"]["reason"] == "not a decodable image (no image format recognised)"
    )
    assert files["misc/notes.md"]["action"] == "ignored"

    with TestClient(make_app(redis_region2, offline_ai), raise_server_exceptions=False) as api:
        body = api.post("/api/images/search", json={"query": "turbine", "top_k": 2}).json()
        assert {r["image_id"] for r in body["results"]} == {
            "user-turbines-wy-alpha-IMG_0001",
            "user-turbines-IMG_0002",
        }
        notes = {r["image_id"]: r["note"] for r in body["results"]}
        assert notes["user-turbines-wy-alpha-IMG_0001"] == FILE_NAME_ONLY
        assert notes["user-turbines-IMG_0002"] is None  # it has a caption
        body = api.post(
            "/api/images/search", json={"query": "oil and gas site in Texas", "top_k": 1}
        ).json()
        assert [r["image_id"] for r in body["results"]] == ["user-oil_gas-Texas-Bravo-DSC_0003"]
        body = api.post("/api/images/search", json={"query": "rotor at night", "top_k": 1}).json()
        assert [r["image_id"] for r in body["results"]] == ["user-rotors-night_shift_ak-golf"]
        assert not body["relaxed"]
