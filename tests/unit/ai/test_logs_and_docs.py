"""Log generation and parsing round trip; documents, chunking and offline answers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tier0_ai.docs import corpus
from tier0_ai.docs.chunking import chunk
from tier0_ai.docs.loader import load_folder
from tier0_ai.docs.model import Document
from tier0_ai.docs.retrieve import Passage
from tier0_ai.logs import generator
from tier0_ai.logs.parser import parse_combined, parse_file
from tier0_ai.rag import compose


def test_generated_logs_round_trip_through_the_parsers(tmp_path: Path) -> None:
    entries = generator.generate(12_000)
    assert len(entries) == 12_000
    access, app = generator.write(tmp_path, entries)
    parsed = parse_file(access).entries + parse_file(app).entries
    assert len(parsed) == 12_000
    want = Counter((e.ip, e.status) for e in entries if e.kind == "access")
    assert Counter((e.ip, e.status) for e in parsed if e.kind == "access") == want
    noisy = Counter(e.ip for e in entries if e.status == 400).most_common(1)[0]
    assert noisy[1] > 100  # a burst, not background noise


def test_parser_reads_plain_combined_lines_and_skips_garbage(tmp_path: Path) -> None:
    line = '1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://x/" "Mozilla/4.08"'
    e = parse_combined(line)
    assert (e.ip, e.status, e.path, e.bytes_sent, e.latency_ms) == (
        "1.2.3.4",
        200,
        "/a.gif",
        2326,
        0.0,
    )
    f = tmp_path / "mixed.log"
    f.write_text(
        f'{line}\nnot a log line\n{{"ts": 1, "level": "error", "message": "x"}}\n{{bad json\n'
    )
    report = parse_file(f)
    assert [x.kind for x in report.entries] == ["access", "app"]
    assert sum(report.skipped.values()) == 2


def test_every_document_and_bp_record_says_it_is_fictional() -> None:
    for d in corpus.documents():
        assert "fictional" in d.text
        if d.operator == "BP":
            assert corpus.REAL_NAME_NOTICE in d.text
    for r in corpus.incidents():
        assert "fictional" in r.description
        if r.operator == "BP":
            assert "BP is used only as a sample operator name" in r.description


def test_chunks_drop_the_notice_and_stay_small() -> None:
    doc = Document("d", "T", ("word " * 400).strip() + ".\n\nShort one.\n\n" + corpus.NOTICE)
    chunks = chunk(doc, max_chars=300)
    assert all(len(c.text) <= 300 for c in chunks)
    assert not any("Synthetic demonstration" in c.text for c in chunks)
    assert chunks[-1].text.endswith("Short one.")


def test_loader_skips_corrupt_pdf_and_reads_markdown_front_matter(tmp_path: Path) -> None:
    corpus.write(tmp_path)
    (tmp_path / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage without xref")
    (tmp_path / "docs" / "empty.txt").write_text("   ")
    report = load_folder(tmp_path / "docs")
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert set(skipped) == {"broken.pdf", "empty.txt"}
    assert "PDF" in skipped["broken.pdf"] and "no extractable text" in skipped["empty.txt"]
    ids = {d.doc_id for d in report.documents}
    assert "bp-sustainability-social" in ids and all(d.synthetic for d in report.documents)


def _passage(text: str, similarity: float) -> Passage:
    return Passage("d#0", "d", "T", text, "t", "BP", True, 0.1, similarity)


def test_offline_answer_only_quotes_passages_and_says_when_nothing_is_relevant() -> None:
    assert "Nothing relevant" in compose.documents("q", [_passage("Hard hats: 5 years.", 0.1)])
    text = compose.documents("List rules", [_passage("Hard hats: 5 years.", 0.6)])
    assert "- Hard hats: 5 years. [d]" in text and corpus.REAL_NAME_NOTICE in text
