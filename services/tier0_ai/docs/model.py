"""A document and an incident record, as the loaders produce and the stores keep them."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The paragraph every synthetic document carries; kept in the file, not in passages.
SYNTHETIC_MARKER = "Synthetic demonstration data"


@dataclass(slots=True)
class Document:
    doc_id: str
    title: str
    text: str
    topic: str = "general"
    operator: str = ""
    synthetic: bool = False
    source: str = ""


@dataclass(slots=True)
class Incident:
    incident_id: str
    operator: str
    site_id: str
    date: str  # ISO date
    severity: str  # minor | moderate | major
    kind: str
    description: str
    synthetic: bool = True

    @property
    def year(self) -> int:
        return int(self.date[:4])


@dataclass(slots=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    text: str
    topic: str
    operator: str
    synthetic: bool
    extra: dict[str, str] = field(default_factory=dict)
