"""Components of `make up` that are not one supervised daemon each.

Most of the stack is "start this process and wait until it answers" (a ProcessSpec).
A few parts are not: indexing the AI corpora is a one-shot job, and the Kubernetes
control plane is a group of daemons that LocalCluster starts and waits for as a whole.
A Step gives those the same three verbs as a process: `up` (idempotent, with progress
lines), `status` rows, and the supervisor folders `down` must stop, so the stack stays
one ordered list and `down` still stops everything newest first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .settings import DevenvSettings

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""

    name: str
    pid: int | None
    url: str
    status: str
    #: Times the watcher restarted it since `make up` (None: not watched).
    restarts: int | None = None


class Step(ABC):
    """A component run by code rather than by one ProcessSpec."""

    @abstractmethod
    def up(self, settings: DevenvSettings, progress: Progress) -> list[Row]:
        """Bring this part up (a no-op when it already is); raise DevenvError on failure."""

    @abstractmethod
    def status(self, settings: DevenvSettings) -> list[Row]:
        """Rows for `make status`; cheap and side-effect free."""

    def supervisor_dirs(self, settings: DevenvSettings) -> list[Path]:
        """Supervisor roots (other than the run folder) holding this step's pidfiles."""
        return []

    def notes(self, settings: DevenvSettings) -> list[str]:
        """Lines printed after the `up` table: how to use what this step started."""
        return []
