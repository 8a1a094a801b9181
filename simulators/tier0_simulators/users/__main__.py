"""``python -m tier0_simulators.users``: publish every web site's activity report on a
fixed cadence until the configured number of rounds is done (or forever).

The cadence is fixed-rate on the monotonic clock, so a slow confirm does not make the
reports drift later and later; if a round overruns, the next one starts at once rather
than bunching up to catch up.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from types import FrameType

import orjson
from prometheus_client import Counter, start_http_server
from pydantic import ValidationError

from tier0_common.logs import configure_logging
from tier0_common.settings_doc import env_help

from .generator import ActivityGenerator
from .publisher import ConfirmedPublisher
from .settings import UserSimSettings

ROUNDS = Counter("tier0_usersim_rounds_total", "Rounds of reports published (one per site)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tier0_simulators.users",
        description=(
            "Simulate web-site user activity: every USER_SIM_INTERVAL_SECONDS, publish one "
            "report per web site (the seed's message shape) to a durable topic exchange "
            "with routing key activity.<site_id>, persistent, with publisher confirms. "
            "Reconnects when RabbitMQ restarts. Progress is logged as JSON lines on stderr."
        ),
        epilog=env_help(UserSimSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the reports as JSON lines on stdout instead of publishing them",
    )
    return parser


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = UserSimSettings()
    except ValidationError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    log = configure_logging("usersim", settings.log_level)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    generator = ActivityGenerator(
        settings.user_sim_seed, max_listed_users=settings.user_sim_max_listed_users
    )
    if args.dry_run:
        for _ in range(settings.user_sim_rounds or 1):
            for report in generator.round(datetime.now(UTC)):
                sys.stdout.write(orjson.dumps(report).decode() + "\n")
        return 0
    # pika logs each connection step, and each failed attempt with a traceback; our own
    # events (amqp_connected, amqp_unavailable, ...) already say what happened.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    publisher = ConfirmedPublisher(
        settings.amqp_url.get_secret_value(),
        settings.amqp_exchange,
        attempts=settings.user_sim_publish_attempts,
    )
    log.info(
        "usersim_started",
        exchange=settings.amqp_exchange,
        sites=list(generator.sites),
        interval_s=settings.user_sim_interval_seconds,
        rounds=settings.user_sim_rounds or "forever",
        seed=settings.user_sim_seed,
    )
    done = confirmed = 0
    next_tick = time.monotonic()
    try:
        while not settings.user_sim_rounds or done < settings.user_sim_rounds:
            started = time.monotonic()
            reports = generator.round(datetime.now(UTC))
            ok = sum(publisher.publish(r["site_id"], orjson.dumps(r)) for r in reports)
            done += 1
            confirmed += ok
            ROUNDS.inc()
            log.info(
                "round_published",
                round=done,
                confirmed=ok,
                dropped=len(reports) - ok,
                total_confirmed=confirmed,
                users=sum(r["metrics"]["active_users"] for r in reports),
                took_ms=round((time.monotonic() - started) * 1000, 1),
            )
            if settings.user_sim_rounds and done >= settings.user_sim_rounds:
                break
            next_tick += settings.user_sim_interval_seconds
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
            publisher.sleep(delay)
    finally:
        publisher.close()
        log.info("usersim_stopped", rounds=done, confirmed=confirmed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
