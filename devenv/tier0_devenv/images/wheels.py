"""Python wheels for image builds, fetched on the host and served on loopback.

pip inside a build container would need the host's TLS trust (these machines reach
PyPI through an intercepting proxy whose CA only the host trusts) and would download
every wheel again on each cold build. Instead the host's pip downloads each lock's
wheels (hashes verified, only binary wheels) into a wheelhouse in the cache, and a
loopback HTTP server hands that folder to the build (`--network host`), whose pip
runs with PIP_NO_INDEX=1 PIP_FIND_LINKS=<url>: it still checks every hash against the
lock, and reaches nothing but this machine.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .progress import Progress, run, step


def download(lock: Path, wheelhouse: Path, progress: Progress) -> None:
    """Every wheel of ``lock`` into ``wheelhouse`` (already present files are kept)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    with step(progress, f"wheels of {lock.name} into {wheelhouse}"):
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--only-binary=:all:",
                "--no-deps",
                "--dest",
                str(wheelhouse),
                "--requirement",
                str(lock),
            ],
            f"pip download {lock.name}",
            timeout=1800,
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return


@contextmanager
def serve(wheelhouse: Path) -> Iterator[str]:
    """Serve ``wheelhouse`` on 127.0.0.1 (a free port) for the block; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(wheelhouse))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="wheelhouse", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
