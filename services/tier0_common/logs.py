"""Structured JSON logs, configured the same way in every process.

One line of JSON per event (timestamp, level, component, event, fields) so that logs
from the simulators, ingest, the API and the operator can be searched together.
"""

from __future__ import annotations

import logging
import sys

import structlog


def known_level(level: str) -> str:
    """``level`` upper-cased, or ValueError when logging does not know it (settings
    validators call this so a typo fails at start-up, naming the variable)."""
    if not isinstance(logging.getLevelName(level.upper()), int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    return level.upper()


def configure_logging(component: str, level: str = "INFO") -> structlog.stdlib.BoundLogger:
    """Route stdlib and structlog records to stderr as JSON lines; idempotent."""
    numeric = logging.getLevelName(known_level(level))
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    structlog.contextvars.bind_contextvars(component=component)
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(component)
    return logger
