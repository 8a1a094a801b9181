"""Graceful shutdown and connection recycling: traffic follows the Service.

A region API behind a Kubernetes Service loses requests in two ways unless it helps:

* On SIGTERM a plain uvicorn stops listening at once, while kube-proxy still sends new
  connections to the pod for a moment (EndpointSlice and iptables/nftables updates
  run concurrently with the kill), and it drops idle keep-alive connections that a
  client may be writing to right then. Here SIGTERM starts a *drain* instead: readiness
  answers 503, the server keeps accepting and serving for ``SHUTDOWN_DRAIN_SECONDS``,
  and every response carries ``Connection: close`` so each client's next request opens
  a new connection through the Service, to a pod that is not going away. Only then
  does uvicorn's own graceful shutdown run (stop listening, finish in-flight requests
  within ``SHUTDOWN_TIMEOUT_SECONDS``).
* A keep-alive connection stays pinned to the pod it was opened to: conntrack keeps
  its DNAT after a failover moved the Service's selector to the other region, so the
  client would never follow the failover. ``CONNECTION_MAX_AGE_SECONDS`` bounds that:
  the first response on a connection older than this carries ``Connection: close``
  (what nginx calls keepalive_time), and the client's next connection goes wherever
  the Service points now.

Every response also names the region that served it (``X-Tier0-Region``), so a client
or benchmark sees which side of a failover answered without parsing bodies.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from types import FrameType

import structlog
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("tier0_api.shutdown")

#: Response header naming the region whose process answered.
REGION_HEADER = "x-tier0-region"


@dataclass
class Drain:
    """Whether this process is draining; the server starts it, the app reports it."""

    started_monotonic: float | None = None

    @property
    def draining(self) -> bool:
        return self.started_monotonic is not None

    def start(self) -> None:
        if self.started_monotonic is None:
            self.started_monotonic = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self.started_monotonic is None else time.monotonic() - self.started_monotonic


@dataclass
class ConnectionAges:
    """When each open connection (client address and port) sent its first request.

    ASGI gives no connection id; the peer address and port identify a live TCP
    connection. Entries of connections the client closed itself are pruned once they
    are far older than any age that matters, so the map stays small.
    """

    max_age: float
    first_seen: dict[tuple[str, int], float] = field(default_factory=dict)
    _last_prune: float = 0.0

    def too_old(self, client: tuple[str, int], now: float) -> bool:
        opened = self.first_seen.setdefault(client, now)
        if now - self._last_prune > self.max_age * 10:
            horizon = now - self.max_age * 10
            self.first_seen = {k: v for k, v in self.first_seen.items() if v >= horizon}
            self.first_seen.setdefault(client, opened)
            self._last_prune = now
        return now - opened >= self.max_age

    def closed(self, client: tuple[str, int]) -> None:
        self.first_seen.pop(client, None)


class ConnectionPolicyMiddleware:
    """Names the region on every response and asks clients to reconnect when this
    process drains or their connection is older than the maximum age."""

    def __init__(self, app: ASGIApp, *, region: str, drain: Drain, max_age: float) -> None:
        self.app = app
        self.region = region.encode()
        self.drain = drain
        self.ages = ConnectionAges(max_age) if max_age > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = (str(client[0]), int(client[1])) if client else None
        close = self.drain.draining or (
            self.ages is not None and key is not None and self.ages.too_old(key, time.monotonic())
        )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {b"connection", REGION_HEADER.encode()}
                ]
                headers.append((REGION_HEADER.encode(), self.region))
                if close:
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)
        if close and self.ages is not None and key is not None:
            self.ages.closed(key)


class DrainingServer(uvicorn.Server):
    """uvicorn.Server whose first SIGTERM drains for ``drain_seconds`` before the usual
    graceful shutdown; SIGINT (Ctrl-C) and a second SIGTERM stop at once as usual."""

    def __init__(self, config: uvicorn.Config, drain: Drain, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.drain_seconds > 0 and not self.drain.draining:
            self.drain.start()
            log.info("draining before shutdown", drain_seconds=self.drain_seconds)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain.draining and self.drain.elapsed() >= self.drain_seconds:
            log.info("drain over, shutting down", drained_seconds=round(self.drain.elapsed(), 3))
            return True
        return await super().on_tick(counter)
