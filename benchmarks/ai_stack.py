"""What the AI benchmarks share: their own Redis, the generated corpora indexed, the app.

Why: retrieval_quality and diagnostics_eval measure the same stack (the supervised
Redis with the Query Engine, as `make up` and the test fixtures start it; tier0_ai's
routers in a FastAPI app over it) and must not each build it their own way.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "services"),
]

import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402

from tests.support.servers import free_port  # noqa: E402
from tests.support.wait import wait_for  # noqa: E402
from tier0_ai.api import routers  # noqa: E402
from tier0_ai.cli import index_folder  # noqa: E402
from tier0_ai.docs import corpus as doc_corpus  # noqa: E402
from tier0_ai.images import corpus as image_corpus  # noqa: E402
from tier0_ai.logs import generator as log_generator  # noqa: E402
from tier0_ai.settings import Settings  # noqa: E402
from tier0_ai.state import AIState  # noqa: E402
from tier0_common.api_plugin import RegionServices  # noqa: E402
from tier0_devenv import infra  # noqa: E402
from tier0_devenv.processes import Supervisor  # noqa: E402


@dataclass(slots=True)
class Stack:
    port: int
    data: Path
    ai: AIState
    sync: redis.Redis

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(port=self.port, decode_responses=True, protocol=2)

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            app.state.redis = self.client()
            yield
            await app.state.redis.aclose()

        def app_redis(request: Request) -> aioredis.Redis:
            client: aioredis.Redis = request.app.state.redis
            return client

        app = FastAPI(lifespan=lifespan)
        app.state.ai = self.ai
        for router in routers(RegionServices(redis=app_redis)):
            app.include_router(router)
        return app


def pct(samples: list[float], q: float) -> float:
    """The q-quantile of ``samples`` (seconds) in milliseconds, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def machine() -> str:
    return (
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
        f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )


@contextmanager
def ai_stack(index: bool = True) -> Iterator[Stack]:
    """A fresh Redis with the generated corpora (60 images, 12,000 log lines, the
    documents, 100 incidents) written to a temporary folder and, if ``index``, loaded."""
    workdir = Path(tempfile.mkdtemp(prefix="tier0-ai-bench-"))
    port = free_port()
    supervisor = Supervisor(workdir)
    supervisor.start(infra.redis_specs(workdir, port, name="redis-bench")[0])
    try:
        sync = redis.Redis(port=port, decode_responses=True, protocol=2)
        wait_for(sync.ping, 15, what="redis to answer PING")
        stack = Stack(port, workdir / "data", AIState.create(Settings(cohere_api_key=None)), sync)
        image_corpus.generate(stack.data / "images")
        log_generator.write(stack.data / "logs", log_generator.generate())
        doc_corpus.write(stack.data)
        if index:

            async def load() -> None:
                client = stack.client()
                try:
                    await index_folder(client, stack.ai.embeddings, stack.data)
                finally:
                    await client.aclose()

            asyncio.run(load())
        yield stack
    finally:
        supervisor.stop("redis-bench")
