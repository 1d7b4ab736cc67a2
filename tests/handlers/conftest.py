"""The listener tests' world: every service over fakes and a fresh SQLite database (tests/handlers/kit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.handlers.kit import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = World(tmp_path)
    try:
        yield built
    finally:
        built.close()
