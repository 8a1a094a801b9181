"""Bytes off the queue to a validated report, or the reason it is refused.

The reason's first word (before the colon) becomes the dead-letter metric label, so it
is one of a few fixed words: ``too_large``, ``bad_json``, ``schema``. Validation is the
shared pydantic model itself: at 5 sites every 5 s there is no hot path to optimise, and
using the model guarantees ingest accepts exactly what the contract says.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from tier0_common.schema import MAX_ACTIVITY_BYTES, UserActivity


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def decode(body: bytes) -> UserActivity | Refusal:
    if len(body) > MAX_ACTIVITY_BYTES:
        return Refusal(f"too_large: {len(body)} bytes > {MAX_ACTIVITY_BYTES}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Refusal(f"bad_json: {exc}")
    if not isinstance(document, dict):
        return Refusal(f"schema: expected a JSON object, got {type(document).__name__}")
    try:
        return UserActivity.model_validate(document)
    except ValidationError as exc:
        return Refusal(f"schema: {_first_error(exc)}")
