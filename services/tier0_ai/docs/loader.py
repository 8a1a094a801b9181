"""Load a user's documents: PDF (pypdf), Markdown and plain text.

Markdown may start with a ``---`` front matter of ``key: value`` lines (doc_id, topic,
operator, synthetic), as the generated corpus does. Unreadable, empty, encrypted or
oversized files are skipped with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from .model import SYNTHETIC_MARKER, Document

MAX_DOC_BYTES = 20 * 1024 * 1024
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


@dataclass(slots=True)
class DocReport:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return {}, text
    meta = {}
    for line in text[4:end].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    return meta, text[end + 5 :]


def _title(text: str, fallback: str) -> tuple[str, str]:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip(), text.replace(line, "", 1).strip()
        if line.strip():
            break
    return fallback, text.strip()


def _pdf_text(path: Path) -> str:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise ValueError("encrypted PDF")
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, PyPdfError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc


def load_file(path: Path) -> Document:
    if path.stat().st_size > MAX_DOC_BYTES:
        raise ValueError(f"larger than {MAX_DOC_BYTES} bytes")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raw = _pdf_text(path)
    elif suffix in (".md", ".markdown", ".txt"):
        raw = path.read_text(encoding="utf-8")
    else:
        raise ValueError(f"unsupported file type {suffix or '(none)'}")
    meta, body = _front_matter(raw)
    title, body = _title(body, path.stem.replace("-", " ").replace("_", " "))
    if not body.strip():
        raise ValueError("no extractable text")
    doc_id = meta.get("doc_id") or _ID_UNSAFE.sub("-", path.stem)[:120]
    return Document(
        doc_id=doc_id,
        title=title,
        text=body,
        topic=meta.get("topic", "general"),
        operator=meta.get("operator", ""),
        synthetic=meta.get("synthetic", "").lower() == "true" or SYNTHETIC_MARKER in body,
        source=str(path),
    )


def load_folder(folder: Path) -> DocReport:
    report = DocReport()
    if not folder.is_dir():
        report.skipped.append((str(folder), "not a folder"))
        return report
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".pdf", ".md", ".markdown", ".txt"):
            continue
        try:
            report.documents.append(load_file(path))
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            report.skipped.append((str(path), str(exc)))
    return report
