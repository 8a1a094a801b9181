"""Load a folder of images (the generated corpus or a user's own) with their captions.

A caption comes from, in order: a ``{stem}.json`` sidecar (an annotation as written
by :mod:`.corpus`, or any object with ``caption`` and optional ``site_id`` and
``category``), a ``{stem}.txt`` sidecar, an entry in ``captions.json``
(file name -> caption), or the file name. Files that are not decodable images, are
too large or have bad sidecars are skipped with the reason, never fatal.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from tier0_common.catalog import SITE_IDS

from .. import attributes
from .annotation import ImageAnnotation, caption

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
UNSPECIFIED = "unspecified"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


@dataclass(slots=True)
class LoadedImage:
    image_id: str
    caption: str
    site_id: str
    category: str
    tags: set[str]
    synthetic: bool
    data: bytes | None = None
    mime: str = "image/png"
    annotation: dict[str, object] | None = None
    source: str = ""


@dataclass(slots=True)
class LoadReport:
    images: list[LoadedImage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def from_annotation(a: ImageAnnotation, data: bytes | None = None, source: str = "") -> LoadedImage:
    return LoadedImage(
        image_id=a.image_id,
        caption=caption(a),
        site_id=a.site_id,
        category=a.category,
        tags=a.tags(),
        synthetic=a.synthetic,
        data=data,
        annotation=a.model_dump(),
        source=source,
    )


def _decode(path: Path, data: bytes) -> str:
    """The image's MIME type; raises ValueError when it is not a usable image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            fmt = (img.format or "").lower()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"not a decodable image ({type(exc).__name__}: {exc})") from exc
    if fmt not in MIME:
        raise ValueError(f"unsupported image format {fmt or 'unknown'}")
    return MIME[fmt]


def _from_sidecars(path: Path, data: bytes, mime: str, captions: dict[str, str]) -> LoadedImage:
    sidecar = path.with_suffix(".json")
    meta: dict[str, object] = {}
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text())
        if not isinstance(meta, dict):
            raise ValueError(f"{sidecar.name} is not a JSON object")
        try:
            annotation = ImageAnnotation.model_validate(
                {k: v for k, v in meta.items() if k != "caption"}
            )
        except ValidationError:
            annotation = None
        if annotation is not None:
            loaded = from_annotation(annotation, data, str(path))
            loaded.mime = mime
            return loaded
    text = path.with_suffix(".txt")
    found = meta.get("caption") or (text.read_text().strip() if text.is_file() else None)
    found = found or captions.get(path.name) or path.stem.replace("_", " ").replace("-", " ")
    text_caption = str(found)[:2000]
    named = attributes.extract(text_caption)
    site = str(meta.get("site_id") or next(iter(named["site"]), UNSPECIFIED)).upper()
    if site not in SITE_IDS:
        site = UNSPECIFIED
    category = str(meta.get("category") or next(iter(named["category"]), UNSPECIFIED))
    if category not in attributes.CATEGORIES:
        category = UNSPECIFIED
    image_id = _ID_UNSAFE.sub("-", path.stem)[:120] or "image"
    return LoadedImage(
        image_id=f"user-{image_id}",
        caption=text_caption,
        site_id=site,
        category=category,
        tags=named["attrs"],
        synthetic=bool(meta.get("synthetic", False)),
        data=data,
        mime=mime,
        source=str(path),
    )


def load_folder(folder: Path) -> LoadReport:
    report = LoadReport()
    if not folder.is_dir():
        report.skipped.append((str(folder), "not a folder"))
        return report
    captions: dict[str, str] = {}
    captions_file = folder / "captions.json"
    if captions_file.is_file():
        try:
            raw = json.loads(captions_file.read_text())
            captions = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            report.skipped.append((str(captions_file), f"bad captions.json: {exc}"))
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in EXTENSIONS or not path.is_file():
            continue
        try:
            data = path.read_bytes()
            mime = _decode(path, data)
            report.images.append(_from_sidecars(path, data, mime, captions))
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            report.skipped.append((str(path), str(exc)))
    return report
