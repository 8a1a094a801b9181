"""Fixtures of the chart tests: one helm binary (found or fetched once) per session."""

from __future__ import annotations

import pytest

from tests.support.helm import Helm, helm


@pytest.fixture(scope="session")
def helm_cli() -> Helm:
    return helm()
