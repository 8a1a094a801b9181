"""``python -m tier0_ai``: generate the corpora, load them (or a user's files) into a
region's Redis, re-index when the embedding model changes, show what is indexed and
what is missing (the local run, tier0_devenv, asks through this CLI rather than by
importing AI code).

The Redis target is REDIS_HOST / REDIS_PORT (flags override), so the same command
fills region1 and region2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import redis
import redis.asyncio as aioredis
from pydantic import SecretStr
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tier0_common.logs import configure_logging
from tier0_common.redis_search import command, items, search_total
from tier0_common.redis_search import text as reply_text

from . import keys
from .docs import corpus as doc_corpus
from .docs import loader as doc_loader
from .docs import store as doc_store
from .embeddings.local import MODEL_NAME
from .embeddings.service import EmbeddingService
from .images import corpus as image_corpus
from .images import loader as image_loader
from .images import store as image_store
from .indexes import outdated
from .logs import generator as log_generator
from .logs import parser as log_parser
from .logs import store as log_store
from .settings import Settings


def _password(args: argparse.Namespace) -> str | None:
    """REDIS_PASSWORD (Settings), never a flag: a command line is visible in `ps`."""
    password: SecretStr | None = getattr(args, "redis_password", None)
    return password.get_secret_value() if password else None


def _client(args: argparse.Namespace) -> aioredis.Redis:
    return aioredis.Redis(
        host=args.redis_host,
        port=args.redis_port,
        password=_password(args),
        decode_responses=True,
        protocol=2,
    )


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2, default=str))


def generate(args: argparse.Namespace) -> None:
    out: Path = args.out
    images = image_corpus.generate(out / "images", args.images, args.seed)
    entries = log_generator.generate(args.logs, args.seed)
    access, app = log_generator.write(out / "logs", entries)
    docs, incidents = doc_corpus.write(out, args.seed)
    _print(
        {
            "images": len(images),
            "log_entries": len(entries),
            "access_log": access,
            "app_log": app,
            "documents": len(docs),
            "incidents": len(incidents),
            "out": out,
            "synthetic": True,
        }
    )


async def _load_images(
    client: aioredis.Redis, service: EmbeddingService, folder: Path
) -> dict[str, object]:
    report = image_loader.load_folder(folder)
    counts = await image_store.index_images(client, service, report.images)
    return {
        "images": len(report.images),
        "indexed": counts,
        "skipped": report.skipped,
        "files": [{k: v for k, v in asdict(f).items() if v} for f in report.files],
    }


async def _load_logs(client: aioredis.Redis, files: list[Path]) -> dict[str, object]:
    written, skipped = 0, Counter[str]()
    for path in files:
        report = log_parser.parse_file(path)
        written += await log_store.store(client, report.entries)
        skipped.update(report.skipped)
    return {"log_entries": written, "skipped_lines": skipped}


async def _load_docs(
    client: aioredis.Redis, service: EmbeddingService, folder: Path
) -> dict[str, object]:
    report = doc_loader.load_folder(folder)
    counts = await doc_store.index_documents(client, service, report.documents)
    return {"documents": len(report.documents), "indexed": counts, "skipped": report.skipped}


async def index_folder(
    client: aioredis.Redis, service: EmbeddingService, data: Path
) -> dict[str, object]:
    """Load a generated data folder (images/, logs/, docs/, incidents.jsonl); logs replace
    the previously indexed ones so re-running does not double the counts."""
    result: dict[str, object] = {}
    result["images"] = await _load_images(client, service, data / "images")
    await log_store.clear(client)
    result["logs"] = await _load_logs(client, sorted((data / "logs").glob("*")))
    result["docs"] = await _load_docs(client, service, data / "docs")
    incidents = doc_corpus.load_incidents(data / "incidents.jsonl")
    result["incidents"] = await doc_store.store_incidents(client, incidents)
    return result


async def index_all(args: argparse.Namespace, service: EmbeddingService) -> dict[str, object]:
    client = _client(args)
    try:
        return await index_folder(client, service, args.data)
    finally:
        await client.aclose()


async def reindex(args: argparse.Namespace, service: EmbeddingService) -> dict[str, object]:
    """Drop every model's vectors and re-embed with the current models; vectors of a
    model that is no longer configured are removed, never mixed with the new ones."""
    client = _client(args)
    try:
        indexed = [reply_text(field) for field in await client.hkeys(keys.MODELS)]
        for field in indexed:
            corpus, _, model = field.partition(":")
            if corpus == "images":
                await image_store.drop_model(client, model)
            elif corpus == "docs":
                await doc_store.drop_model(client, model)
        images = image_loader.load_folder(args.data / "images")
        docs = doc_loader.load_folder(args.data / "docs")
        return {
            "dropped": indexed,
            "images": await image_store.index_images(
                client, service, images.images, write_meta=False
            ),
            "docs": await doc_store.index_documents(client, service, docs.documents),
        }
    finally:
        await client.aclose()


def current_models(settings: Settings) -> list[str]:
    """The embedding models this configuration indexes with."""
    if settings.cohere_enabled:
        return [settings.cohere_embed_model, MODEL_NAME]
    return [MODEL_NAME]


async def missing_corpora(client: aioredis.Redis, models: list[str]) -> list[str]:
    """What a region still lacks: ``images:<model>``/``docs:<model>`` entries, logs, incidents."""
    have = {reply_text(field) for field in await client.hkeys(keys.MODELS)}
    missing = [
        f"{corpus}:{model}"
        for model in models
        for corpus in ("images", "docs")
        if f"{corpus}:{model}" not in have
    ]
    for name, index, schema in (
        ("logs", keys.LOG_INDEX, log_store.SCHEMA),
        ("incidents", keys.INCIDENT_INDEX, doc_store.INCIDENT_SCHEMA),
    ):
        try:
            reply = await command(client, "FT.SEARCH", index, "*", "LIMIT", 0, 0)
            total = search_total(reply)
        except redis.ResponseError:
            total = 0
        # an index from an earlier version lacks fields the questions now use
        if total == 0 or await outdated(client, index, schema):
            missing.append(name)
    return missing


async def missing(args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    """Per Redis port: the missing corpora, or ``{"error": ...}`` when it does not answer."""
    models = current_models(settings)
    out: dict[str, object] = {"models": models}
    for port in args.ports or [args.redis_port]:
        # No retries: a Redis that refuses is reported at once (redis-py would back off
        # for seconds), since the question is only whether the region is ready.
        client = aioredis.Redis(
            host=args.redis_host,
            port=port,
            password=_password(args),
            decode_responses=True,
            protocol=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            out[str(port)] = await missing_corpora(client, models)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            out[str(port)] = {"error": str(exc)}
        finally:
            await client.aclose()
    return out


async def status(args: argparse.Namespace) -> dict[str, object]:
    client = _client(args)
    try:
        return {
            "models": await client.hgetall(keys.MODELS),
            "indexes": sorted(
                name
                for name in map(reply_text, items(await command(client, "FT._LIST")))
                if name.startswith("ai:")
            ),
        }
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    configure_logging("tier0_ai", settings.ai_log_level)
    parser = argparse.ArgumentParser(prog="python -m tier0_ai", description=__doc__)
    parser.add_argument("--redis-host", default=os.environ.get("REDIS_HOST", "127.0.0.1"))
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("REDIS_PORT", "6379")))
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the synthetic images, logs, documents and incidents")
    g.add_argument("--out", type=Path, default=settings.ai_data_dir)
    g.add_argument("--images", type=int, default=60)
    g.add_argument("--logs", type=int, default=12_000)
    g.add_argument("--seed", type=int, default=273)
    for name, text in (
        ("index", "load a generated data folder into Redis"),
        ("reindex", "drop every model's vectors and re-embed with the current models"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--data", type=Path, default=settings.ai_data_dir)
    li = sub.add_parser("load-images", help="index a folder of your own images (optional captions)")
    li.add_argument("folder", type=Path)
    ll = sub.add_parser("load-logs", help="append log files (combined log format or JSON lines)")
    ll.add_argument("files", type=Path, nargs="+")
    ld = sub.add_parser("load-docs", help="index a folder of PDF / Markdown / text documents")
    ld.add_argument("folder", type=Path)
    sub.add_parser("status", help="show the AI indexes and their models")
    mi = sub.add_parser("missing", help="list the corpora each Redis lacks for the current models")
    mi.add_argument("ports", type=int, nargs="*", help="Redis ports (default: --redis-port)")
    parser.set_defaults(redis_password=settings.redis_password)
    args = parser.parse_args(argv)

    if args.command == "generate":
        generate(args)
        return 0
    if args.command == "status":
        _print(asyncio.run(status(args)))
        return 0
    if args.command == "missing":
        _print(asyncio.run(missing(args, settings)))
        return 0
    service = EmbeddingService(settings)

    async def run() -> object:
        if args.command == "index":
            return await index_all(args, service)
        if args.command == "reindex":
            return await reindex(args, service)
        client = _client(args)
        try:
            if args.command == "load-images":
                return await _load_images(client, service, args.folder)
            if args.command == "load-logs":
                return await _load_logs(client, args.files)
            return await _load_docs(client, service, args.folder)
        finally:
            await client.aclose()

    _print(asyncio.run(run()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
