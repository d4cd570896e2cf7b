"""The maps and the report in a real headless Chromium (Playwright, Debian's chromium).

The machine running the tests may have no internet: the maps link Leaflet on
its CDN, so the requests to the CDN are answered with the copy of Leaflet
shipped in ``foncier/templates/leaflet`` and every other network request
(map tiles) is aborted.  The report and ``inline_assets`` maps need nothing:
they are also opened with every request leaving the machine aborted, as on a
closed network, and must say that the background map is unavailable.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pytest
import shapely

from foncier._format import fr_number
from foncier.maps import LAYER_NAMES, OFFLINE_NOTICE, map_html, scenario_map, territory_map
from foncier.report import HEADLINE_LABELS, headline_figures, write_report
from foncier.scenarios import ScenarioResult
from tests.conftest import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"
#: A map must be drawn within this many seconds ("a few seconds" on a loaded 2-core machine).
LOAD_BUDGET_S = 10.0
BASE_LAYERS = (
    "communes",
    "units",
    "zae",
    "friches",
    "ppri_red",
    "ppri_blue",
    "natura2000",
    "znieff",
    "infrastructure",
)


# -- browser plumbing ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium package to run the browser tests"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _offline(route: Any) -> None:
    """Serve Leaflet's CDN from the packaged copy; abort any other network request."""
    url = route.request.url
    if url.startswith(LEAFLET_CDN):
        name = url.rsplit("/", 1)[-1]
        body = (resources.files("foncier") / "templates" / "leaflet" / name).read_bytes()
        kind = "text/css" if name.endswith(".css") else "application/javascript"
        route.fulfill(status=200, body=body, content_type=kind)
    elif url.startswith(("http://", "https://")):
        route.abort()
    else:
        route.continue_()


class MapPage:
    """An opened map page, its JavaScript errors and a few helpers."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})
        self.errors: list[str] = []
        self.cdn: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "request",
            lambda r: self.cdn.append(r.url) if r.url.startswith(LEAFLET_CDN) else None,
        )
        self.page.route("**/*", _offline)
        start = time.perf_counter()
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-control-layers-overlays label').length > 0"
        )
        self.load_s = time.perf_counter() - start
        self.map_var = self.page.evaluate(
            "() => Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))"
        )

    def layer_names(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".leaflet-control-layers label span span", "els => els.map(e => e.textContent.trim())"
        )

    def paths(self) -> int:
        return self.page.locator("path.leaflet-interactive").count()

    def toggle(self, name: str) -> None:
        self.page.locator(".leaflet-control-layers-overlays label", has_text=name).locator(
            "input"
        ).click()
        self.page.wait_for_timeout(200)

    def click_at(self, lon: float, lat: float, zoom: int = 18) -> str:
        """Zoom on a point, click it with the mouse, return the popup's text."""
        point = self.page.evaluate(
            f"""() => {{
                const m = window['{self.map_var}'];
                m.setView([{lat}, {lon}], {zoom}, {{animate: false}});
                const p = m.latLngToContainerPoint([{lat}, {lon}]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y];
            }}"""
        )
        self.page.wait_for_timeout(300)
        self.page.mouse.click(point[0], point[1])
        popup = self.page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        return str(popup.text_content())

    def screenshot_variance(self) -> tuple[float, int]:
        from PIL import Image

        image = np.asarray(Image.open(io.BytesIO(self.page.screenshot())).convert("RGB"))
        colours = np.unique(image.reshape(-1, 3), axis=0)
        return float(image.std()), len(colours)

    def close(self) -> None:
        self.page.close()


def _inside_point(geometry: Any, crs: Any) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.point_on_surface(geometry)], crs=crs).to_crs(4326)[0]
    return point.x, point.y


# -- data ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def territory_page(sample, units, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "territoire.html"
    path.write_text(map_html(territory_map(sample, units)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenario_page(sample, units, scenario_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "scenario.html"
    result = ScenarioResult.from_folder(scenario_dir)
    path.write_text(map_html(scenario_map(sample, result, units)), encoding="utf-8")
    return path


# -- tests ---------------------------------------------------------------------------------


def test_territory_map_in_chromium(browser, territory_page, sample, units):
    view = MapPage(browser, territory_page)
    try:
        assert view.errors == []
        assert view.load_s < LOAD_BUDGET_S
        assert any(u.endswith("leaflet.js") for u in view.cdn)  # online users get the CDN
        names = view.layer_names()
        for key in BASE_LAYERS:
            assert LAYER_NAMES[key] in names, key
        assert LAYER_NAMES["tiles"] in names

        before = view.paths()
        view.toggle(LAYER_NAMES["zae"])
        assert before - view.paths() == len(sample.zae)  # one path per ZAE goes away
        view.toggle(LAYER_NAMES["zae"])
        assert view.paths() == before
        view.toggle(LAYER_NAMES["znieff"])  # hidden at first
        znieff = int(sample.constraints["kind"].str.startswith("znieff").sum())
        assert view.paths() - before == znieff

        std, colours = view.screenshot_variance()
        assert std > 10 and colours > 20  # not blank

        unit = units.loc[units["net_area_ha"].idxmax()]
        text = view.click_at(*_inside_point(unit.geometry, units.crs))
        assert f"Unité foncière {unit.unit_id}" in text
        assert fr_number(unit.net_area_ha, 2, "ha") in text
        share = 1.0 if np.isnan(unit.enaf_share) else unit.enaf_share
        assert fr_number(unit.net_area_ha * share, 2, "ha") + " d'ENAF" in text
        assert "Complétude des données" in text
        assert view.errors == []
    finally:
        view.close()


def test_scenario_map_in_chromium(browser, scenario_page, scenario_dir, units):
    result = ScenarioResult.from_folder(scenario_dir)
    view = MapPage(browser, scenario_page)
    try:
        assert view.errors == []
        assert view.load_s < LOAD_BUDGET_S
        names = view.layer_names()
        for key in (*BASE_LAYERS, "placements"):
            assert LAYER_NAMES[key] in names, key
        panel = view.page.locator("#foncier-unmatched").text_content() or ""
        assert f"Projets non placés ({len(result.unmatched)})" in panel
        for pid in result.unmatched["project_id"]:
            assert pid in panel

        before = view.paths()
        view.toggle(LAYER_NAMES["placements"])
        hosts = result.assignments["unit_id"].nunique()
        # a lot per placed project, an outline and a marker per host unit
        assert before - view.paths() == len(result.assignments) + 2 * hosts
        view.toggle(LAYER_NAMES["placements"])

        placed = result.assignments.iloc[0]
        lot = result.placements.set_index("project_id").loc[placed.project_id]
        text = view.click_at(*_inside_point(lot.geometry, result.placements.crs))
        assert placed.project_id in text
        assert placed.zan_cost in text
        assert fr_number(placed.area_ha, 2, "ha") in text
        assert "Contributions au score" in text
        std, colours = view.screenshot_variance()
        assert std > 10 and colours > 20
        assert view.errors == []
    finally:
        view.close()


def test_offline_map_needs_no_network(browser, sample, units, tmp_path):
    path = tmp_path / "hors-ligne.html"
    path.write_text(map_html(territory_map(sample, units, inline_assets=True)), encoding="utf-8")
    view = MapPage(browser, path)
    try:
        assert view.errors == [] and view.cdn == []
        assert LAYER_NAMES["communes"] in view.layer_names()
        assert view.paths() > len(sample.communes)
    finally:
        view.close()


def test_report_renders_with_the_scenario_figures(browser, scenario_dir, sample, units):
    path = write_report(scenario_dir, sample)
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", _offline)
    try:
        page.goto(path.resolve().as_uri())
        shown = dict(
            page.eval_on_selector_all(
                ".figure", "els => els.map(e => [e.dataset.key, e.dataset.value])"
            )
        )
        result = ScenarioResult.from_folder(scenario_dir)
        expected = headline_figures(result, sample.projects)
        assert set(shown) == set(HEADLINE_LABELS)
        for key in ("projects", "projects_placed", "jobs_placed", "ha_used", "ha_enaf"):
            assert float(shown[key]) == pytest.approx(result.totals[key]), key
        for key, value in expected.items():
            assert float(shown[key]) == pytest.approx(value), key
        visible = page.locator(".figure[data-key='ha_used'] .value").text_content()
        assert visible == fr_number(result.totals["ha_used"], 2, "ha")
        frame = page.frame_locator("iframe.map")
        frame.locator(".leaflet-control-layers-overlays label").first.wait_for(timeout=10_000)
        labels = frame.locator(".leaflet-control-layers-overlays label").all_text_contents()
        assert any(LAYER_NAMES["placements"] in label for label in labels)
        assert page.locator("svg").count() >= 2
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        assert errors == []
    finally:
        page.close()


def _no_network(route: Any) -> None:
    """Abort every request leaving the machine (what a closed prefecture network does)."""
    url = route.request.url
    local = urlparse(url).hostname in {"localhost", "127.0.0.1"}
    if url.startswith(("http://", "https://")) and not local:
        route.abort()
    else:
        route.continue_()


def test_map_with_network_blocked(browser, sample, units, tmp_path):
    # Cartofriches publishes points: draw the sample's friches as points to see them.
    friches = sample.friches.copy()
    friches["geometry"] = shapely.point_on_surface(friches.geometry.to_numpy())
    territory = dataclasses.replace(sample, layers={**sample.layers, "friches": friches})
    path = tmp_path / "sans-reseau.html"
    path.write_text(map_html(territory_map(territory, units, inline_assets=True)), "utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.route("**/*", _no_network)
    try:
        page.goto(path.resolve().as_uri())
        notice = page.locator("#foncier-offline")
        notice.wait_for(state="visible", timeout=10_000)
        assert (notice.text_content() or "").strip() == OFFLINE_NOTICE
        assert "fond de carte indisponible hors ligne" in OFFLINE_NOTICE.lower()
        assert errors == []
        assert failed and all(urlparse(u).hostname.endswith("openstreetmap.org") for u in failed)
        names = page.eval_on_selector_all(
            ".leaflet-control-layers label span span", "els => els.map(e => e.textContent.trim())"
        )
        for key in (*BASE_LAYERS, "commune_names"):
            assert LAYER_NAMES[key] in names, key
        # Every friche is a circle (an SVG path), no marker image anywhere.
        sites = page.locator(".leaflet-foncier_sites-pane path.leaflet-interactive").count()
        assert sites == len(sample.zae) + len(friches)
        assert page.locator("img:not(.leaflet-tile)").count() == 0
        labels = page.locator(".foncier-label").all_text_contents()
        assert sorted(labels) == sorted(sample.communes["name"])
        assert page.locator(".leaflet-control-scale-line").count() == 1  # metres only
        scale = page.locator(".leaflet-control-scale-line").text_content() or ""
        assert scale.endswith(("m", "km")) and "mi" not in scale and "ft" not in scale
        assert page.locator("path.leaflet-interactive").count() > len(sample.communes)
        page.locator("#foncier-legend summary").click()  # the legend folds
        assert not page.locator("#foncier-legend details").evaluate("d => d.open")
    finally:
        page.close()


def test_service_map_page_with_network_blocked(browser, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from foncier.sample import write_sample

    folder = tmp_path / "territoire"
    write_sample(folder, n_parcels=3000, seed=0, n_communes=20)
    settings = Settings(territory=folder, state_dir=tmp_path / "state", api_token="t0ken")
    with TestClient(create_app(settings)) as client:
        served = client.get("/maps/territory")
    assert served.status_code == 200
    path = tmp_path / "service.html"
    path.write_text(served.text, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", _no_network)
    try:
        page.goto(path.resolve().as_uri())
        page.locator("#foncier-offline").wait_for(state="visible", timeout=10_000)
        names = page.eval_on_selector_all(
            ".leaflet-control-layers label span span", "els => els.map(e => e.textContent.trim())"
        )
        assert LAYER_NAMES["communes"] in names and LAYER_NAMES["units"] in names
        assert page.locator(".foncier-label").count() == 20  # one name per commune
        assert errors == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on 127.0.0.1 (a thread), for pages that fetch from it (/docs)."""
    from api.settings import Settings
    from foncier.sample import write_sample

    folder = tmp_path_factory.mktemp("docs") / "territoire"
    write_sample(folder, n_parcels=3000, seed=0, n_communes=20)
    with serve_in_thread(Settings(territory=folder, state_dir=folder.with_name("state"))) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "drawn"), [("/docs", ".opblock"), ("/redoc", "[data-section-id]")]
)
def test_api_documentation_works_offline(browser, live_service, path, drawn):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    outside: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def local_only(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
            return
        if route.request.resource_type != "image":  # ReDoc's "powered by" logo may fail
            outside.append(route.request.url)
        route.abort()

    page.route("**/*", local_only)
    page.on(
        "requestfailed",
        lambda r: failed.append(r.url) if r.resource_type != "image" else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        answer = page.goto(live_service + path)
        assert answer is not None and answer.status == 200
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        page.locator(drawn).first.wait_for(state="attached", timeout=30_000)
        assert page.locator(drawn).count() > 5  # the routes are drawn
        assert outside == [] and failed == [] and errors == []
    finally:
        page.close()
