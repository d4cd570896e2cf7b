"""Shared fixtures: small hand-made layers and the synthetic sample territory."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from foncier.sample import make_sample, write_sample
from foncier.scenarios import Scenario
from foncier.supply import land_units
from foncier.territory import Territory

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(autouse=True, scope="session")
def _units_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Cached land units in a folder of the test session, never the user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FONCIER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def grid(n: int = 3, size: float = 100.0, x0: float = 700_000.0, y0: float = 6_300_000.0):
    """An n x n grid of size-metre squares in EPSG:2154, row-major from the lower left."""
    return [
        shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        for j in range(n)
        for i in range(n)
    ]


@pytest.fixture
def grid_parcels() -> gpd.GeoDataFrame:
    """Nine 1 ha parcels of commune 30007 (Alès), in a 3x3 block."""
    geoms = grid()
    return gpd.GeoDataFrame(
        {
            "idu": [f"30007000AB{i + 1:04d}" for i in range(9)],
            "insee": "30007",
            "section": "AB",
            "numero": [f"{i + 1:04d}" for i in range(9)],
            "contenance_m2": 10_000.0,
        },
        geometry=geoms,
        crs="EPSG:2154",
    )


@pytest.fixture(scope="session")
def sample_territory() -> Territory:
    """The default synthetic sample (about 30,000 parcels), built once per session."""
    return make_sample()


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic sample written as a territory folder, once per session."""
    folder = tmp_path_factory.mktemp("sample") / "territory"
    write_sample(folder)
    return folder


@pytest.fixture(scope="session")
def sample(sample_folder: Path) -> Territory:
    """The default sample as read back from its folder."""
    return Territory.from_folder(sample_folder)


@pytest.fixture(scope="session")
def units(sample: Territory) -> gpd.GeoDataFrame:
    """The land units of the default sample."""
    return land_units(sample)


@pytest.fixture(scope="session")
def scenario_dir(
    sample: Territory, units: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The default scenario (objective jobs, budgets per commune) of the sample, written out."""
    outdir = tmp_path_factory.mktemp("scenario") / "jobs"
    Scenario(sample, units=units, name="emplois").run().to_folder(outdir)
    return outdir


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared real open-data folder (skips when absent)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real open data not found at {REAL_DATA}")
    return REAL_DATA


@contextmanager
def serve_in_thread(settings: Any) -> Iterator[str]:
    """The service of ``settings`` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    from api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
