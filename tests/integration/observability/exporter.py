"""A stand-in tier0 process for the Prometheus test: the real metric objects, served.

It imports the metrics the components define (the shared dead-letter counter, the
operator's failover metrics), moves them the way the components would, and serves
them with prometheus_client's HTTP server on the port given as argv[1] until its
stdin closes, so the test owns its lifetime without signals or sleeps.
"""

from __future__ import annotations

import sys

from prometheus_client import start_http_server

from tier0_ingest.deadletter import DEAD_LETTERS
from tier0_operator.metrics import FAILOVER_LATENCY, FAILOVERS, set_active_region


def main() -> None:
    DEAD_LETTERS.labels(source="mqtt", reason="bad_json").inc(3)
    FAILOVERS.labels(outcome="completed").inc()
    FAILOVER_LATENCY.observe(0.042)
    set_active_region("tier0-api", "region2", ["region1", "region2"])
    start_http_server(int(sys.argv[1]), addr="127.0.0.1")
    print("serving", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
