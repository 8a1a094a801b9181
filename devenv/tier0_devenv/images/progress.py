"""Timed, named steps: every long step prints when it starts and how long it took,
and a failure names the step, so a cold build (minutes) is never silent and a broken
one says where it broke."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from ..processes import DevenvError

Progress = Callable[[str], None]
OUTPUT_TAIL_CHARS = 3000


class ImageBuildError(DevenvError):
    """A build step failed; the message names the step and shows its output's tail."""


@contextmanager
def step(progress: Progress, name: str) -> Iterator[None]:
    progress(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    except ImageBuildError as exc:
        if str(exc).startswith("step '"):
            raise  # an inner step already named itself
        raise ImageBuildError(f"step '{name}' failed: {exc}") from exc
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise ImageBuildError(f"step '{name}' failed: {exc}") from exc
    progress(f"{name}: done ({time.monotonic() - started:.1f}s)")


def run(
    argv: Sequence[str | Path],
    what: str,
    *,
    env: dict[str, str] | None = None,
    input_bytes: bytes | None = None,
    log: Path | None = None,
    timeout: float | None = None,
) -> str:
    """Run a command and return its stdout; on failure raise with what it was doing
    and the tail of its output. With ``log`` both streams go to that file (long build
    logs) instead, and the file's tail is returned."""
    args = [str(part) for part in argv]
    with ExitStack() as stack:
        stdout: IO[bytes] | int = subprocess.PIPE
        stderr: IO[bytes] | int = subprocess.PIPE
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            stdout = stack.enter_context(log.open("ab"))
            stdout.write(f"$ {' '.join(args)}\n".encode())
            stdout.flush()
            stderr = subprocess.STDOUT
        try:
            done = subprocess.run(
                args,
                env=env,
                stdin=None if input_bytes is not None else subprocess.DEVNULL,
                input=input_bytes,
                stdout=stdout,
                stderr=stderr,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ImageBuildError(f"{what}: {args[0]} not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise ImageBuildError(f"{what}: timed out after {timeout}s: {' '.join(args)}") from exc
    if log is not None:
        output = log.read_text(errors="replace")[-OUTPUT_TAIL_CHARS:]
    else:
        output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        where = f" (full log: {log})" if log is not None else ""
        errors = output if log is not None else output + done.stderr.decode(errors="replace")
        raise ImageBuildError(
            f"{what}: exit code {done.returncode}{where}; {' '.join(args)}\n"
            f"{errors[-OUTPUT_TAIL_CHARS:]}"
        )
    return output
