"""A tiny stand-in for a region API, with answers the test controls.

The operator's gates talk HTTP to each region's API: /health (readiness),
/api/status (freshness: last_ingest_utc, data_age_seconds) and /api/canary/{id}
(canary visible). This server answers those from a state object the test flips, and
it "ingests" canaries the way the real pipeline does: by subscribing to the real
MQTT broker on tier0/canary/+. The Kubernetes side is never faked.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from paho.mqtt import client as mqtt

from tier0_common.rfc3339 import to_rfc3339
from tier0_devenv.credentials import Credential


@dataclass
class RegionState:
    healthy: bool = True
    #: Epoch of the last ingested message; None means "nothing ingested".
    last_ingest: float | None = field(default_factory=time.time)
    #: When False the region drops canaries (its ingest path is broken).
    ingest_canaries: bool = True
    canaries: set[str] = field(default_factory=set)
    #: Seconds /health takes to answer (a slow gate keeps the failover lock held).
    health_delay: float = 0.0
    #: When set, /health answers 200 only once every party has asked (probes that
    #: run one after the other break the barrier at its timeout and get 503).
    health_barrier: threading.Barrier | None = None


class RegionApi:
    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.state = RegionState()
        self._mqtt: mqtt.Client | None = None
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == "/health":
                    if state.health_delay:
                        time.sleep(state.health_delay)
                    together = True
                    if state.health_barrier is not None:
                        try:
                            state.health_barrier.wait()
                        except threading.BrokenBarrierError:
                            together = False
                    ok = state.healthy and together
                    self._send(200 if ok else 503, {"ok": ok})
                elif self.path == "/api/status":
                    last = state.last_ingest
                    self._send(
                        200,
                        {
                            "region": name,
                            "last_ingest_utc": to_rfc3339(last) if last else None,
                            "data_age_seconds": time.time() - last if last else None,
                        },
                    )
                elif self.path.startswith("/api/canary/"):
                    seen = self.path.rsplit("/", 1)[1] in state.canaries
                    self._send(200 if seen else 404, {"seen": seen})
                else:
                    self._send(404, {})

            def _send(self, code: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RegionApi:
        self._thread.start()
        return self

    def subscribe_canaries(self, host: str, port: int, user: Credential) -> None:
        """Read canaries as the region's ingest does (``user``: the ingest role)."""
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"fake-{self.name}-{self.port}"
        )
        client.username_pw_set(user.username, user.password)
        subscribed = threading.Event()

        def on_connect(c: mqtt.Client, *_: object) -> None:
            c.subscribe("tier0/canary/+", qos=1)

        def on_subscribe(*_: object) -> None:
            subscribed.set()

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            if self.state.ingest_canaries:
                self.state.canaries.add(json.loads(msg.payload)["canary_id"])

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        client.connect(host, port)
        client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError(f"fake {self.name} could not subscribe to {host}:{port}")
        self._mqtt = client

    def stop(self) -> None:
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
        self._server.shutdown()
        self._server.server_close()
