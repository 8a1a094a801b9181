"""The shared RediSearch module: query builders and the typed reply parsers.

(Escaping and FT.SEARCH/FT.AGGREGATE parsing are covered in tests/unit/api/test_parsing.py.)
"""

from __future__ import annotations

import pytest

from tier0_common.redis_search import (
    UnexpectedReply,
    count_by,
    knn_search,
    pairs,
    search_total,
    text,
    text_terms,
)


def test_knn_search_returns_fields_and_distance_nearest_first() -> None:
    args = knn_search("ai:idx:x", b"\x00" * 8, 5, ("id", "site"), prefilter="(@site:{A})")
    assert args[:3] == ["FT.SEARCH", "ai:idx:x", "(@site:{A})=>[KNN 5 @vec $v AS dist]"]
    assert args[args.index("SORTBY") : args.index("SORTBY") + 3] == ["SORTBY", "dist", "ASC"]
    assert args[args.index("RETURN") : args.index("RETURN") + 5] == [
        "RETURN", "3", "id", "site", "dist",
    ]  # fmt: skip
    assert args[-2:] == ["DIALECT", "2"]


def test_count_by_sorts_only_when_asked() -> None:
    plain = count_by("idx", "*", "level", 100)
    assert "SORTBY" not in plain
    assert plain[3:6] == ["GROUPBY", "1", "@level"]
    sorted_ = count_by("idx", "*", "ip", 10, ("@count", "DESC"))
    at = sorted_.index("SORTBY")
    assert sorted_[at : at + 4] == ["SORTBY", "2", "@count", "DESC"]
    assert sorted_[sorted_.index("LIMIT") : sorted_.index("LIMIT") + 3] == ["LIMIT", "0", "10"]


def test_pairs_reads_flat_lists_dicts_and_nil() -> None:
    assert pairs([b"a", b"1", "b", 2]) == {"a": "1", "b": "2"}
    assert pairs({"a": "1"}) == {"a": "1"}
    assert pairs(None) == {}


def test_a_reply_of_the_wrong_shape_is_named() -> None:
    with pytest.raises(UnexpectedReply, match="FT.SEARCH: expected an array, got str"):
        search_total("OK")
    with pytest.raises(UnexpectedReply, match="expected a scalar"):
        text(["nested"])


def test_text_terms_drop_stopwords_and_duplicates() -> None:
    assert text_terms("What is the turbine TURBINE vibration?") == ["turbine", "vibration"]
