"""The listener tests' world: every service over fakes and a fresh SQLite database (tests/handlers/kit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.handlers.kit import World, migrated_template


@pytest.fixture(scope="session")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file for the session; each world starts from a copy of it."""
    return migrated_template(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def make_world(tmp_path: Path, schema: Path) -> Iterator[Callable[..., World]]:
    """Factory: a world configured with extra environment variables (ESCALATION_CHANNEL=..., LEADS=...)."""
    built: list[World] = []

    def make(**env: str) -> World:
        home = tmp_path / f"world{len(built)}"
        home.mkdir()
        built.append(World(home, schema, **env))
        return built[-1]

    yield make
    for world in built:
        world.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


@pytest.fixture
def other(world: World) -> Iterator[World]:
    """A second wiring of the app on the world's database (the posting process's, in the hand-over tests)."""
    home = Path(world.config.database_url.removeprefix("sqlite:///")).parent
    second = World(home)  # the same database file, already migrated
    yield second
    second.close()
