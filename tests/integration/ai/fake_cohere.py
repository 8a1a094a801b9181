"""A local HTTP server that speaks the part of Cohere's v2 API tier0 uses (embed, chat),
so the real ``cohere`` SDK can be tested end to end, including its error paths.

Texts are embedded with the same local MiniLM model (so search through the "Cohere"
path still ranks by meaning); images get a vector derived from their bytes. ``mode``
switches behaviour: ok, 401, 429 (always), 429-once, slow (sleeps past the client's
timeout), invent (chat answer with a number no document holds).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.servers import free_port
from tests.support.wait import wait_for
from tier0_ai.embeddings.local import LocalMiniLM


@dataclass
class FakeCohere:
    mode: str = "ok"
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    slow_seconds: float = 4.0
    url: str = ""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    failed_once: set[str] = field(default_factory=set)

    def set_mode(self, mode: str) -> None:
        """Switch behaviour and forget past requests (429-once fails once again)."""
        self.mode = mode
        self.requests.clear()
        self.failed_once.clear()

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    def app(self, model: LocalMiniLM) -> FastAPI:
        app = FastAPI()

        async def gate(request: Request, path: str) -> tuple[dict[str, Any], JSONResponse | None]:
            body = await request.json()
            self.requests.append((path, body, request.headers.get("authorization", "")))
            if self.mode == "401":
                return body, JSONResponse({"message": "invalid api token"}, status_code=401)
            if self.mode == "429" or (self.mode == "429-once" and path not in self.failed_once):
                self.failed_once.add(path)
                return body, JSONResponse(
                    {"message": "too many requests"},
                    status_code=429,
                    headers={"retry-after-ms": "20"},
                )
            if self.mode == "slow":
                await asyncio.sleep(self.slow_seconds)
            return body, None

        @app.post("/v2/embed")
        async def embed(request: Request) -> JSONResponse:
            body, error = await gate(request, "/v2/embed")
            if error is not None:
                return error
            if body.get("texts"):
                vectors = model.embed_texts(body["texts"], body["input_type"]).tolist()
            else:
                vectors = []
                for uri in body.get("images", []):
                    seed = int.from_bytes(hashlib.sha256(uri.encode()).digest()[:8], "big")
                    v = np.random.default_rng(seed).normal(size=384)
                    vectors.append((v / np.linalg.norm(v)).tolist())
            return JSONResponse(
                {
                    "id": "fake-embed",
                    "response_type": "embeddings_by_type",
                    "embeddings": {"float": vectors},
                    "texts": body.get("texts", []),
                    "meta": {"api_version": {"version": "2"}},
                }
            )

        @app.post("/v2/chat")
        async def chat(request: Request) -> JSONResponse:
            body, error = await gate(request, "/v2/chat")
            if error is not None:
                return error
            docs = body.get("documents", [])
            first = docs[-1] if docs else {"id": "none", "data": {"snippet": ""}}
            snippet = first["data"]["snippet"]
            text = f"Per the synthetic documents: {snippet}"
            if self.mode == "invent":
                text += " Roughly 987654 workers were involved."
            return JSONResponse(
                {
                    "id": "fake-chat",
                    "finish_reason": "COMPLETE",
                    "message": {
                        "role": "assistant",
                        "content": [{"type": "text", "text": text}],
                        "citations": [
                            {
                                "start": 29,
                                "end": len(text),
                                "text": snippet,
                                "sources": [
                                    {
                                        "type": "document",
                                        "id": first["id"],
                                        "document": first["data"],
                                    }
                                ],
                            }
                        ],
                    },
                    "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 1}},
                }
            )

        return app

    def start(self, model: LocalMiniLM) -> None:
        port = free_port()
        config = uvicorn.Config(
            self.app(model),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(
            lambda: self._server is not None and self._server.started, 10, what="fake Cohere up"
        )
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
