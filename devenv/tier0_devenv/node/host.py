"""Machine-wide state the node claims: the one-node-per-machine marker.

kube-proxy's chains, the bridge and the kubepods cgroups are global to the host, so
two real nodes on one machine would break each other. `up` writes a marker naming
its work dir; preflight refuses to start a second node while the marker names a
different one, and `down` removes it last.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER = Path("/run/tier0-node.json")


def claimed_by() -> Path | None:
    try:
        return Path(json.loads(MARKER.read_text())["workdir"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim(workdir: Path) -> None:
    MARKER.write_text(json.dumps({"workdir": str(workdir)}) + "\n")


def release(workdir: Path) -> None:
    if claimed_by() == workdir:
        MARKER.unlink(missing_ok=True)
