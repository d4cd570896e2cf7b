"""Fixtures of the service tests: a small sample territory and clients built from settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from foncier.sample import write_sample

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def api_territory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample territory folder (3,000 parcels, 20 communes), written once."""
    folder = tmp_path_factory.mktemp("api") / "territory"
    write_sample(folder, n_parcels=3000, seed=0, n_communes=20)
    return folder


@pytest.fixture
def make_client(api_territory: Path, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build clients on the small territory; settings overridable, state in ``tmp_path``."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "territory": api_territory,
            "state_dir": tmp_path / "state",
            "api_token": TOKEN,
        }
        values.update(overrides)
        client = TestClient(create_app(Settings(**values)))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of a fresh service (token ``TOKEN`` configured)."""
    return make_client()


@pytest.fixture(scope="module")
def shared_client(
    api_territory: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One service per module, for tests that share scenario runs."""
    settings = Settings(
        territory=api_territory,
        state_dir=tmp_path_factory.mktemp("shared-state"),
        api_token=TOKEN,
    )
    with TestClient(create_app(settings)) as client:
        yield client
