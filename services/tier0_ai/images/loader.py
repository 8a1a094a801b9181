"""Load a folder tree of images (the generated corpus or a user's own) with captions.

Real image sets are laid out as folders ("turbines/WY-ALPHA/IMG_0042.jpg"), so the
loader descends every subfolder. For each image, in order:

- a ``{stem}.json`` sidecar: an annotation as written by :mod:`.corpus`, or any object
  with ``caption`` and optional ``site_id`` and ``category``;
- a ``{stem}.txt`` sidecar;
- an entry in a ``captions.json`` in its folder or any folder above it (keyed by file
  name or by path relative to that captions file);
- otherwise no caption: the folder and file names stand in for one.

Category and site come from the sidecar, else from the caption's words, else from the
folder and file names ("turbines", "oil-gas", "wy_alpha", "Texas Bravo", "Alaska");
names that map to nothing are reported. Every file gets a line in the report saying
what was done (loaded with which caption source, category and site and where they came
from, or skipped and why). Files that are not decodable images, are too large or have
bad sidecars are skipped with the reason, never fatal.
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
from ..names import REGION, SITE_STATE, Text, fuzzy_spans, site_aliases
from .annotation import ImageAnnotation, caption

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
UNSPECIFIED = "unspecified"
#: caption_from of an image that had no caption: its folder and file names stand in.
FILE_NAME = "file name"
CAPTIONS = "captions.json"
MANIFEST = "manifest.json"
SIDECARS = {".json", ".txt"}
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
    #: Where the caption came from; FILE_NAME means there was none.
    caption_from: str = "annotation sidecar"


@dataclass(slots=True)
class FileReport:
    """What the loader did with one file."""

    file: str
    action: str  # loaded | skipped | ignored
    image_id: str = ""
    caption_from: str = ""
    category: str = ""
    category_from: str = ""
    site: str = ""
    site_from: str = ""
    unmapped: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(slots=True)
class LoadReport:
    images: list[LoadedImage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)


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
    except UnidentifiedImageError as exc:
        # Pillow's message names an in-memory buffer, which tells the reader nothing
        raise ValueError("not a decodable image (no image format recognised)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"not a decodable image ({type(exc).__name__}: {exc})") from exc
    if fmt not in MIME:
        raise ValueError(f"unsupported image format {fmt or 'unknown'}")
    return MIME[fmt]


_GENERIC = re.compile(
    r"^(img|image|images|dsc|dscn|dcim|pxl|photo|photos|pic|pics|picture|pictures|"
    r"jpe?g|png|webp|gif|copy|final|edited|raw|\d+|[a-z])$",
    re.I,
)


@dataclass(slots=True)
class PathNames:
    """What a file's folder and file names say: category, site, and unmapped words."""

    category: str = UNSPECIFIED
    category_from: str = ""
    site: str = UNSPECIFIED
    site_from: str = ""
    tags: set[str] = field(default_factory=set)
    unmapped: list[str] = field(default_factory=list)


def path_names(rel: Path) -> PathNames:
    """Read the folder names and the file stem of ``rel`` (relative to the loaded root)."""
    out = PathNames()
    parts = [*rel.parent.parts, rel.stem]
    for i, part in enumerate(parts):
        where = "file name" if i == len(parts) - 1 else f"folder '{part}'"
        words = re.sub(r"[_.\-]+", " ", part)
        t = Text(words)
        for value, _text, _m in fuzzy_spans(t, site_aliases()):
            if out.site == UNSPECIFIED:
                out.site, out.site_from = value, where
        for m in t.find(REGION):
            sites = [s for s, state in SITE_STATE.items() if state.lower() == m.group(1).lower()]
            if len(sites) == 1 and out.site == UNSPECIFIED:
                out.site, out.site_from = sites[0], where
            elif not sites:
                out.unmapped.append(m.group(1))
        found = attributes.extract(t.rest())["category"]
        if found and out.category == UNSPECIFIED:
            out.category, out.category_from = next(iter(found)), where
        for _name, pattern in attributes.CATEGORY_PATTERNS:
            t.find(pattern)
        for tag, pattern in attributes.SCENE_PATTERNS:
            if t.find(pattern) and not (tag == "day" and "night" in out.tags):
                out.tags.add(tag)
        out.unmapped += [w for w in re.findall(r"[A-Za-z0-9]+", t.rest()) if not _GENERIC.match(w)]
    return out


def _fallback_caption(names: PathNames, rel: Path) -> str:
    what = attributes.CATEGORIES.get(names.category, "image").capitalize()
    where = f" at {names.site}" if names.site != UNSPECIFIED else ""
    scene = "".join(f", {attributes.TAG_WORDS[t]}" for t in sorted(names.tags))
    return f"{what}{where}{scene} (no caption; from the file {rel.as_posix()})"


def _from_sidecars(
    path: Path, rel: Path, data: bytes, mime: str, captions: dict[Path, str]
) -> tuple[LoadedImage, FileReport]:
    sidecar = path.with_suffix(".json")
    meta: dict[str, object] = {}
    names = path_names(rel)
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
            return loaded, FileReport(
                str(path),
                "loaded",
                loaded.image_id,
                "annotation sidecar",
                loaded.category,
                "annotation",
                loaded.site_id,
                "annotation",
            )
    text = path.with_suffix(".txt")
    caption_from = "json sidecar" if meta.get("caption") else ""
    found = meta.get("caption")
    if not found and text.is_file():
        found, caption_from = text.read_text().strip(), "txt sidecar"
    if not found and path.resolve() in captions:
        found, caption_from = captions[path.resolve()], "captions.json"
    if not found:
        found, caption_from = _fallback_caption(names, rel), FILE_NAME
    text_caption = str(found)[:2000]
    named = attributes.extract(text_caption)
    if caption_from == FILE_NAME:
        # the stand-in caption says what the names say; credit the names
        named = {"site": set(), "category": set(), "attrs": names.tags}
    site, site_from = str(meta.get("site_id") or "").upper(), "sidecar"
    if site not in SITE_IDS and named["site"]:
        site, site_from = next(iter(named["site"])), "caption"
    if site not in SITE_IDS:
        site, site_from = names.site, names.site_from
    category, category_from = str(meta.get("category") or ""), "sidecar"
    if category not in attributes.CATEGORIES and named["category"]:
        category, category_from = next(iter(named["category"])), "caption"
    if category not in attributes.CATEGORIES:
        category, category_from = names.category, names.category_from
    stem = "-".join([*rel.parent.parts, rel.stem])
    image_id = f"user-{_ID_UNSAFE.sub('-', stem)[:120] or 'image'}"
    loaded = LoadedImage(
        image_id=image_id,
        caption=text_caption,
        site_id=site,
        category=category,
        tags=named["attrs"],
        synthetic=bool(meta.get("synthetic", False)),
        data=data,
        mime=mime,
        source=str(path),
        caption_from=caption_from,
    )
    return loaded, FileReport(
        str(path),
        "loaded",
        image_id,
        caption_from,
        category,
        category_from or "not mapped",
        site,
        site_from or "not mapped",
        names.unmapped if caption_from == FILE_NAME or UNSPECIFIED in (category, site) else [],
    )


def _captions(root: Path, report: LoadReport) -> dict[Path, str]:
    """Every captions.json under ``root``: image path -> caption (the nearest file wins)."""
    out: dict[Path, str] = {}
    files = sorted(root.rglob(CAPTIONS), key=lambda p: len(p.parts), reverse=True)
    for captions_file in files:
        try:
            raw = json.loads(captions_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
            report.skipped.append((str(captions_file), f"bad {CAPTIONS}: {exc}"))
            report.files.append(FileReport(str(captions_file), "skipped", reason=str(exc)))
            continue
        if not isinstance(raw, dict):
            report.skipped.append((str(captions_file), f"{CAPTIONS} is not a JSON object"))
            continue
        for key, text in raw.items():
            out.setdefault((captions_file.parent / str(key)).resolve(), str(text))
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def load_folder(folder: Path) -> LoadReport:
    report = LoadReport()
    if not folder.is_dir():
        report.skipped.append((str(folder), "not a folder"))
        report.files.append(FileReport(str(folder), "skipped", reason="not a folder"))
        return report
    captions = _captions(folder, report)
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or _hidden(rel) or path.name == CAPTIONS:
            continue
        if path.suffix.lower() not in EXTENSIONS:
            if path.suffix.lower() not in SIDECARS and path.name != MANIFEST:
                report.files.append(
                    FileReport(str(path), "ignored", reason="not an image or a caption file")
                )
            continue
        try:
            data = path.read_bytes()
            mime = _decode(path, data)
            loaded, line = _from_sidecars(path, rel, data, mime, captions)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            report.skipped.append((str(path), str(exc)))
            report.files.append(FileReport(str(path), "skipped", reason=str(exc)))
            continue
        report.images.append(loaded)
        report.files.append(line)
    return report
