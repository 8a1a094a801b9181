"""`python -m tier0_devenv.images build [--import-to SOCKET] [--out FILE] [--only NAME...]`.

Progress lines on stderr (each step with its time), the manifest (chart values path
-> repository and tag) as JSON on stdout, so `... build > images.json` works too.
`skaffold ARGS...` runs skaffold (built from its Go module) with the private dockerd up;
`skaffold-build` is skaffold's custom build step (it reads $IMAGE).
Exit codes: 0 built, 1 a step failed (named in the message), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .build import build_all
from .progress import ImageBuildError
from .settings import ImagesSettings
from .skaffold import custom_build, run_skaffold
from .specs import BY_NAME

_STARTED = time.monotonic()


def _say(line: str) -> None:
    print(f"[images {time.monotonic() - _STARTED:6.1f}s] {line}", file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m tier0_devenv.images",
        description="Build tier0's images locally (no registry), cached by their inputs.",
    )
    sub = cli.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build what is missing; optionally import it")
    build.add_argument(
        "--import-to",
        type=Path,
        metavar="SOCKET",
        help="containerd socket to import the images into (namespace k8s.io)",
    )
    build.add_argument("--out", type=Path, metavar="FILE", help="write the manifest JSON there")
    build.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=sorted(BY_NAME),
        help="build only these images (and their parents)",
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="also run each image's self-check command in it (no network)",
    )
    sub.add_parser(
        "skaffold",
        help="run skaffold (e.g. `run -p real-node`) with the private dockerd it needs",
        add_help=False,
    )
    sub.add_parser("skaffold-build", help="skaffold's custom build step (reads $IMAGE)")
    return cli


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds like an error: the private dockerd and work folders are
    # cleaned up by the same finally blocks, not left behind by a bare kill.
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args, rest = parser().parse_known_args(argv)
    if rest and args.command != "skaffold":
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        settings = ImagesSettings()
    except ValidationError as exc:
        print(f"bad TIER0_IMAGES_* setting: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "skaffold":
            return run_skaffold(settings, rest, _say)
        if args.command == "skaffold-build":
            image = os.environ.get("IMAGE", "")
            if not image:
                print("skaffold-build: $IMAGE not set (skaffold sets it)", file=sys.stderr)
                return 2
            custom_build(settings, image, settings.import_to, _say)
            return 0
        manifest = build_all(
            settings,
            names=args.only,
            import_to=args.import_to,
            out=args.out,
            smoke=args.check,
            progress=_say,
        )
    except ImageBuildError as exc:
        print(f"[images] FAILED: {exc}", file=sys.stderr, flush=True)
        print("[images] nothing is left running (the private dockerd was stopped)", file=sys.stderr)
        return 1
    print(json.dumps(manifest, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
