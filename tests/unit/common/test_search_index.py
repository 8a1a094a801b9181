import redis

from tier0_common.search_index import is_already_exists_error, is_missing_index_error


def test_missing_index_wordings_of_both_redisearch_generations() -> None:
    assert is_missing_index_error(redis.ResponseError("idx:dev: no such index"))
    assert is_missing_index_error(redis.ResponseError("Unknown Index name"))
    assert not is_missing_index_error(redis.ResponseError("Index already exists"))


def test_already_exists_is_recognised() -> None:
    assert is_already_exists_error(redis.ResponseError("Index already exists"))
    assert not is_already_exists_error(redis.ResponseError("Unknown Index name"))
