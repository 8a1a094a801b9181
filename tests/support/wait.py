"""The one way tests wait: poll a predicate until it is truthy or a deadline passes.

No test sleeps to synchronise and no loop polls without a deadline; a timeout fails
with the description and the last value seen, so the failure says what never happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    pass


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    *,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    last_error: BaseException | None = None
    while True:
        try:
            last = predicate()
            last_error = None
            if last:
                return last  # type: ignore[return-value]
        except Exception as exc:  # the predicate may race with a starting server
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f"last error: {last_error!r}" if last_error else f"last value: {last!r}"
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {what}; {detail}")
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], Awaitable[T]],
    timeout: float,
    *,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    last_error: BaseException | None = None
    while True:
        try:
            last = await predicate()
            last_error = None
            if last:
                return last  # type: ignore[return-value]
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f"last error: {last_error!r}" if last_error else f"last value: {last!r}"
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {what}; {detail}")
        await asyncio.sleep(interval)
