"""A catalogue of bad inputs: each refused with a French message naming the file or field.

Every case is run against the library (the error class and the key words of
its message) and, where a command reads that input, against the CLI (exit
code 2 and one ``Erreur :`` line).  The input files are hashed before and
after: a refused input is never changed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import CRSError, DataSourceError, FoncierError, LayerSchemaError
from foncier.explain import query_project
from foncier.io.admin import read_communes, read_epci_membership
from foncier.io.cadastre import read_cadastre
from foncier.io.cartofriches import read_cartofriches
from foncier.io.cerema import read_cerema_enaf
from foncier.io.constraints import read_constraints
from foncier.io.dem import reproject_dem
from foncier.io.gpu import read_gpu_zoning
from foncier.io.zae import read_zae
from foncier.layers import empty_layer, validate_layer
from foncier.projects import project_frame, read_projects, validate_projects
from foncier.territory import Territory

from .conftest import grid

X0, Y0 = 700_000.0, 6_300_000.0
HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>"
HEADER = "project_id,name,sector,area_min_ha,area_max_ha,jobs,investment_eur,preferred_insee"
GOOD_ROW = "P1,Usine,chimie,2,3,40,1000000,30007"


def sha(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def zip_bytes(tmp: Path) -> bytes:
    z = tmp / "x.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("a.txt", "hello")
    data = z.read_bytes()
    z.unlink()
    return data


def communes_gdf() -> gpd.GeoDataFrame:
    """One 3 km x 3 km commune, 30007 (900 ha)."""
    return gpd.GeoDataFrame(
        {"insee": ["30007"], "name": ["Alès"], "epci": ["200066918"]},
        geometry=[shapely.box(X0, Y0, X0 + 3000, Y0 + 3000)],
        crs="EPSG:2154",
    )


def parcels_gdf(dx: float = 0.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "idu": [f"30007000AB{i + 1:04d}" for i in range(9)],
            "insee": "30007",
            "section": "AB",
            "numero": [f"{i + 1:04d}" for i in range(9)],
            "contenance_m2": 10_000.0,
        },
        geometry=grid(x0=X0 + dx),
        crs="EPSG:2154",
    )


def write_dem(path: Path, *, x0: float = X0 - 500, nodata_only: bool = False) -> None:
    z = np.add.outer(np.arange(40.0), np.arange(40.0)).astype("float32") * 2.0
    if nodata_only:
        z[:] = -9999.0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=40,
        height=40,
        count=1,
        dtype="float32",
        crs="EPSG:2154",
        transform=Affine(100, 0, x0, 0, -100, Y0 + 3500),
        nodata=-9999.0,
    ) as dst:
        dst.write(z, 1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A small valid territory folder: one commune, nine parcels, two projects, a DEM."""
    dem = tmp_path / "src-dem.tif"
    write_dem(dem)
    projects = validate_layer(
        "projects",
        pd.DataFrame(
            {
                "project_id": ["P1", "P2"],
                "name": ["Usine", "Entrepôt"],
                "sector": ["chimie", "logistique"],
                "area_min_ha": [2.0, 1.0],
                "area_max_ha": [3.0, 2.0],
                "jobs": [40, 10],
                "preferred_insee": ["30007", None],
            }
        ),
    )
    t = Territory(
        "mini",
        {"communes": validate_layer("communes", communes_gdf()), "parcels": parcels_gdf()},
        empty_layer("enaf_consumption"),
        projects,
        dem_path=dem,
    )
    out = t.to_folder(tmp_path / "territory")
    dem.unlink()
    return out


def test_the_small_territory_loads(folder: Path) -> None:
    t = Territory.from_folder(folder)
    assert len(t.parcels) == 9 and len(t.communes) == 1 and len(t.projects) == 2
    assert "dem" in t.reports and "EPSG:2154" in t.reports["dem"].summary()


# -- projects files: numbers, communes, content ---------------------------------------------


def _csv(row: str) -> bytes:
    return f"{HEADER}\n{row}\n".encode()


def _geojson(**change: float) -> bytes:
    props = {"project_id": "P1", "name": "U", "sector": "c", "area_min_ha": 2.0,
             "area_max_ha": 3.0, "jobs": 40, **change}  # fmt: skip
    feature = {"type": "Feature", "geometry": None, "properties": props}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


PROJECT_FILES: list[tuple[str, str, Callable[[Path], bytes], type[Exception], list[str]]] = [
    ("inf-area", "p.csv", lambda t: _csv("P1,U,c,2,inf,40,0,"), LayerSchemaError,
     ["area_max_ha", "non finies"]),
    ("minus-inf-min", "p.csv", lambda t: _csv("P1,U,c,-inf,3,40,0,"), LayerSchemaError,
     ["area_min_ha", "non finies"]),
    ("area-1e12", "p.csv", lambda t: _csv("P1,U,c,1e12,1e12,40,0,"), LayerSchemaError,
     ["area_min_ha", "maximum plausible"]),
    ("jobs-1e30", "p.csv", lambda t: _csv("P1,U,c,2,3,1e30,0,"), LayerSchemaError,
     ["jobs", "maximum plausible"]),
    ("jobs-inf", "p.csv", lambda t: _csv("P1,U,c,2,3,inf,0,"), LayerSchemaError,
     ["jobs", "non finies"]),
    ("jobs-200k", "p.csv", lambda t: _csv("P1,U,c,2,3,200000,0,"), LayerSchemaError,
     ["jobs", "100"]),
    ("invest-1e15", "p.csv", lambda t: _csv("P1,U,c,2,3,40,1e15,"), LayerSchemaError,
     ["investment_eur", "maximum plausible"]),
    ("invest-nan", "p.csv", lambda t: _csv("P1,U,c,2,3,40,nan,"), LayerSchemaError,
     ["investment_eur"]),
    ("area-over-territory", "p.csv", lambda t: _csv("P1,U,c,2000,3000,40,0,"), LayerSchemaError,
     ["area_min_ha", "plus grandes que le territoire", "900 ha"]),
    ("insee-outside", "p.csv", lambda t: _csv("P1,U,c,2,3,40,0,30999"), LayerSchemaError,
     ["preferred_insee", "hors du territoire"]),
    ("geojson-jobs-1e30", "p.geojson", lambda t: _geojson(jobs=1e30), LayerSchemaError,
     ["p.geojson", "jobs", "maximum plausible"]),
    ("geojson-area-1e12", "p.geojson", lambda t: _geojson(area_max_ha=1e12), LayerSchemaError,
     ["p.geojson", "area_max_ha", "maximum plausible"]),
    ("html-as-csv", "p.csv", lambda t: HTML, DataSourceError, ["p.csv", "page HTML"]),
    ("html-as-json", "p.json", lambda t: HTML, DataSourceError, ["p.json", "page HTML"]),
    ("zip-as-csv", "p.csv", zip_bytes, DataSourceError, ["p.csv", "archive ZIP"]),
    ("geojson-as-csv", "p.csv", lambda t: b'{"type": "FeatureCollection", "features": []}',
     DataSourceError, ["p.csv", "JSON"]),
    ("sqlite-as-json", "p.json", lambda t: b"SQLite format 3\x00" + b"\x00" * 200,
     DataSourceError, ["p.json", "SQLite"]),
    ("pdf-as-csv", "p.csv", lambda t: b"%PDF-1.4\n...", DataSourceError, ["p.csv", "PDF"]),
    ("truncated-csv", "p.csv", lambda t: f"{HEADER}\n{GOOD_ROW}\nP2,Entre".encode(),
     DataSourceError, ["p.csv", "tronqué"]),
    ("truncated-json", "p.json", lambda t: b'{"type": "FeatureCollection", "features": [{"ty',
     DataSourceError, ["p.json"]),
    ("empty-json", "p.json", lambda t: b"", DataSourceError, ["p.json", "vide"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "make", "error", "words"),
    [pytest.param(n, m, e, w, id=i) for i, n, m, e, w in PROJECT_FILES],
)
def test_bad_projects_file_library(
    tmp_path: Path, name: str, make: Callable[[Path], bytes], error: type, words: list[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    path = src / name
    path.write_bytes(make(tmp_path))
    before = sha(src)
    with pytest.raises(error) as info:
        read_projects(path, communes_gdf())
    for word in words:
        assert word in str(info.value)
    assert sha(src) == before


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [pytest.param(n, m, w, id=i) for i, n, m, _, w in PROJECT_FILES],
)
def test_bad_projects_file_cli_import(
    tmp_path: Path, name: str, make: Callable[[Path], bytes], words: list[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    communes = src / "communes.geojson"
    communes_gdf().rename(columns={"insee": "code", "name": "nom"}).to_crs(4326).to_file(
        communes, engine="pyogrio"
    )
    path = src / name
    path.write_bytes(make(tmp_path))
    before = sha(src)
    out = tmp_path / "out"
    args = ["import", "--name", "t", "--communes", str(communes), "--projects", str(path)]
    result = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Erreur")]
    assert len(errors) == 1 and "Traceback" not in result.output
    for word in words:
        assert word in errors[0]
    assert sha(src) == before
    assert not out.exists()


# -- territory folders: content of territory.gpkg, geography, DEM ---------------------------


def _gpkg_geojson(folder: Path) -> None:
    (folder / "territory.gpkg").write_text(
        json.dumps({"type": "FeatureCollection", "features": []})
    )


def _gpkg_html(folder: Path) -> None:
    (folder / "territory.gpkg").write_bytes(HTML)


def _gpkg_zip(folder: Path) -> None:
    (folder / "territory.gpkg").write_bytes(zip_bytes(folder.parent))


def _gpkg_truncated(folder: Path) -> None:
    gpkg = folder / "territory.gpkg"
    gpkg.write_bytes(gpkg.read_bytes()[:3000])


def _rewrite(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    gpkg = folder / "territory.gpkg"
    gpkg.unlink()
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG")


def _no_communes(folder: Path) -> None:
    _rewrite(folder, {"parcels": parcels_gdf()})


def _all_empty(folder: Path) -> None:
    _rewrite(folder, {"communes": empty_layer("communes"), "parcels": empty_layer("parcels")})


def _degrees_as_l93(folder: Path) -> None:
    wgs = parcels_gdf().to_crs(4326)
    _rewrite(
        folder, {"communes": communes_gdf(), "parcels": wgs.set_crs(2154, allow_override=True)}
    )


def _l93_as_lambert2(folder: Path) -> None:
    bad = parcels_gdf().set_crs(27572, allow_override=True)
    _rewrite(folder, {"communes": communes_gdf(), "parcels": bad})


def _parcels_far_away(folder: Path) -> None:
    _rewrite(folder, {"communes": communes_gdf(), "parcels": parcels_gdf(dx=-500_000)})


def _dem_nodata(folder: Path) -> None:
    write_dem(folder / "dem.tif", nodata_only=True)


def _dem_far_away(folder: Path) -> None:
    write_dem(folder / "dem.tif", x0=X0 + 300_000)


def _dem_html(folder: Path) -> None:
    (folder / "dem.tif").write_bytes(HTML)


def _projects_insee(folder: Path) -> None:
    (folder / "projects.csv").write_bytes(_csv("P1,U,c,2,3,40,0,30999"))


def _projects_inf(folder: Path) -> None:
    (folder / "projects.csv").write_bytes(_csv("P1,U,c,2,Infinity,40,0,"))


def _enaf_html(folder: Path) -> None:
    (folder / "enaf_consumption.csv").write_bytes(HTML)


FOLDER_CASES: list[tuple[str, Callable[[Path], None], type[Exception], list[str]]] = [
    ("gpkg-is-geojson", _gpkg_geojson, DataSourceError, ["territory.gpkg", "pas un GeoPackage",
                                                         "JSON"]),
    ("gpkg-is-html", _gpkg_html, DataSourceError, ["territory.gpkg", "page HTML"]),
    ("gpkg-is-zip", _gpkg_zip, DataSourceError, ["territory.gpkg", "archive ZIP"]),
    ("gpkg-truncated", _gpkg_truncated, DataSourceError, ["territory.gpkg"]),
    ("no-communes-layer", _no_communes, DataSourceError, ["territory.gpkg", "communes", "manque"]),
    ("all-layers-empty", _all_empty, DataSourceError, ["territory.gpkg", "vides"]),
    ("degrees-as-l93", _degrees_as_l93, CRSError, ["parcels", "EPSG:2154", "domaine de validité"]),
    ("l93-as-lambert2", _l93_as_lambert2, CRSError, ["parcels", "EPSG:27572",
                                                     "domaine de validité"]),
    ("parcels-500-km", _parcels_far_away, CRSError, ["parcels", "ne recouvre pas", "500 km"]),
    ("dem-all-nodata", _dem_nodata, DataSourceError, ["dem.tif", "aucune altitude"]),
    ("dem-300-km", _dem_far_away, CRSError, ["MNT", "ne recouvre pas", "km"]),
    ("dem-is-html", _dem_html, DataSourceError, ["dem.tif", "page HTML"]),
    ("projects-insee", _projects_insee, LayerSchemaError, ["preferred_insee", "30999"]),
    ("projects-inf", _projects_inf, LayerSchemaError, ["area_max_ha", "non finies"]),
    ("enaf-is-html", _enaf_html, DataSourceError, ["enaf_consumption.csv", "page HTML"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spoil", "error", "words"), [pytest.param(s, e, w, id=i) for i, s, e, w in FOLDER_CASES]
)
def test_bad_territory_folder_library(
    folder: Path, spoil: Callable[[Path], None], error: type, words: list[str]
) -> None:
    spoil(folder)
    before = sha(folder)
    with pytest.raises(error) as info:
        Territory.from_folder(folder)
    for word in words:
        assert word in str(info.value)
    assert sha(folder) == before


@pytest.mark.parametrize(
    ("spoil", "words"), [pytest.param(s, w, id=i) for i, s, _, w in FOLDER_CASES]
)
def test_bad_territory_folder_cli(
    folder: Path, spoil: Callable[[Path], None], words: list[str]
) -> None:
    spoil(folder)
    before = sha(folder)
    result = CliRunner().invoke(main, ["info", str(folder)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Erreur")]
    assert len(errors) == 1 and "Traceback" not in result.output
    for word in words:
        assert word in errors[0]
    assert sha(folder) == before


# -- open-data readers: content, not names ---------------------------------------------------

READERS: list[tuple[str, str, Callable[[Path], object]]] = [
    ("cadastre", "parcelles.json", read_cadastre),
    ("communes", "communes.geojson", read_communes),
    ("constraints", "n2000.geojson", lambda p: read_constraints(p, "natura2000")),
    ("gpu", "zone_urba.json", read_gpu_zoning),
    ("cartofriches", "friches.csv", read_cartofriches),
    ("zae", "zae.csv", read_zae),
    ("cerema", "conso.csv", read_cerema_enaf),
    ("epci", "epci.json", read_epci_membership),
    ("dem", "mnt.tif", lambda p: reproject_dem(p, p.parent.parent / "out.tif")),
]


@pytest.mark.parametrize(("content", "words"), [(HTML, "page HTML"), (None, "archive ZIP")])
@pytest.mark.parametrize(("name", "reader"), [pytest.param(n, r, id=i) for i, n, r in READERS])
def test_reader_refuses_content(
    tmp_path: Path, name: str, reader: Callable[[Path], object], content: bytes | None, words: str
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    path = src / name
    path.write_bytes(content if content is not None else zip_bytes(tmp_path))
    before = sha(src)
    with pytest.raises(DataSourceError) as info:
        reader(path)
    assert name in str(info.value) and words in str(info.value)
    assert sha(src) == before


def test_reproject_dem_refuses_all_nodata(tmp_path: Path) -> None:
    write_dem(tmp_path / "mnt.tif", nodata_only=True)
    before = sha(tmp_path)
    with pytest.raises(DataSourceError, match="aucune altitude"):
        reproject_dem(tmp_path / "mnt.tif", tmp_path / "out" / "dem.tif")
    assert sha(tmp_path) == before


# -- library calls: finite, plausible numbers ------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"area_min_ha": float("inf")}, ["area_min_ha", "non finies"]),
        ({"area_min_ha": 2, "area_max_ha": float("inf")}, ["area_max_ha", "non finies"]),
        ({"area_min_ha": 1e12}, ["area_min_ha", "maximum plausible"]),
        ({"area_min_ha": 2, "jobs": 1e30}, ["jobs", "maximum plausible"]),
        ({"area_min_ha": 2, "max_dist_interchange_km": float("inf")}, ["max_dist_interchange_km"]),
        ({"area_min_ha": 2, "max_slope_pct": 500}, ["max_slope_pct", "maximum plausible"]),
        ({"area_min_ha": 2, "earliest_year": 9999}, ["earliest_year", "maximum plausible"]),
    ],
)
def test_project_frame_refuses(fields: dict, words: list[str]) -> None:
    with pytest.raises(LayerSchemaError) as info:
        project_frame(fields)
    for word in words:
        assert word in str(info.value)


def test_validate_projects_caps_area_by_territory() -> None:
    ok = project_frame({"area_min_ha": 800, "area_max_ha": 900})
    assert validate_projects(ok, communes_gdf())["area_max_ha"].iloc[0] == 900
    with pytest.raises(LayerSchemaError, match="plus grandes que le territoire"):
        validate_projects(project_frame({"area_min_ha": 800, "area_max_ha": 901}), communes_gdf())


@pytest.mark.parametrize(
    ("layer", "column"),
    [("parcels", "contenance_m2"), ("communes", None)],
)
def test_validate_layer_refuses_infinite_values(layer: str, column: str | None) -> None:
    gdf = parcels_gdf() if layer == "parcels" else communes_gdf()
    if column is None:
        gdf = gdf.set_crs(27572, allow_override=True)
        with pytest.raises(CRSError, match="domaine de validité"):
            validate_layer(layer, gdf)
        return
    gdf.loc[2, column] = np.inf
    with pytest.raises(LayerSchemaError, match=f"{column}.*non finies"):
        validate_layer(layer, gdf)


@pytest.mark.parametrize("k", [-1, 0, 1.5, True, 10**9, float("nan")])
def test_query_k_is_checked(sample_territory: Territory, units: gpd.GeoDataFrame, k) -> None:
    from foncier.scenarios import Scenario

    scenario = Scenario(sample_territory, units=units)
    with pytest.raises(FoncierError, match="'k'"):
        scenario.query({"area_min_ha": 2.0}, k=k)


def test_query_project_refuses_infinite_area(units: gpd.GeoDataFrame) -> None:
    empty = pd.Series(dtype=float)
    with pytest.raises(LayerSchemaError, match="area_min_ha.*non finies"):
        query_project({"area_min_ha": float("inf")}, units, empty, empty)


# -- DEM coverage is reported --------------------------------------------------------------


def test_partial_dem_coverage_is_reported(folder: Path, tmp_path: Path) -> None:
    from foncier.supply import land_units, slope_coverage, supply_summary

    t = Territory.from_folder(folder)
    # The parcels are not candidate land (no zoning): check on the parcels as units.
    units = gpd.GeoDataFrame(
        {"slope_mean_pct": [1.0, np.nan, np.nan, 2.0]},
        geometry=grid(2, x0=X0),
        crs="EPSG:2154",
    )
    info = slope_coverage(units, t)
    assert info["units_without_slope"] == 2 and info["share_without_slope"] == 0.5
    assert "2 unités foncières sur 4 (50 %) sans pente" in info["slope_note"]
    assert info["slope_note"] in t.reports["dem"].notes
    lu = land_units(t)
    assert "share_without_slope" in lu.attrs
    summary = supply_summary(lu, t.communes)
    assert summary.attrs["units_without_slope"] == lu.attrs["units_without_slope"]


def test_zonal_slope_reports_units_outside_the_dem(folder: Path) -> None:
    from foncier.terrain import zonal_slope

    units = gpd.GeoDataFrame(
        geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 500), shapely.box(X0 + 9e4, Y0, X0 + 9.1e4,
                                                                        Y0 + 500)],
        crs="EPSG:2154",
    )  # fmt: skip
    slopes = zonal_slope(units, folder / "dem.tif")
    assert np.isfinite(slopes["slope_mean_pct"].iloc[0])
    assert np.isnan(slopes["slope_mean_pct"].iloc[1])
    assert slopes.attrs["units_without_slope"] == 1
    assert slopes.attrs["share_without_slope"] == 0.5


def test_cli_supply_says_which_units_have_no_slope(tmp_path: Path) -> None:
    from foncier.sample import write_sample

    folder = tmp_path / "t"
    write_sample(folder, n_parcels=2000, seed=1, n_communes=20)
    (folder / "dem.tif").unlink()
    before = sha(folder)
    out = tmp_path / "units.gpkg"
    result = CliRunner().invoke(main, ["supply", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    n = len(gpd.read_file(out, layer="land_units"))
    assert n > 0
    assert f"{n} unités foncières sur {n} (100 %) sans pente" in result.output
    assert "pas de MNT" in result.output
    assert sha(folder) == before


def test_fetch_refuses_an_error_page_served_as_data(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from foncier.io.fetch import fetch_territory

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)  # a captive portal or a proxy answers 200 with a page
            self.send_header("Content-Length", str(len(HTML)))
            self.end_headers()
            self.wfile.write(HTML)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        urls = {"cadastre": "{base}/cadastre-{insee}-parcelles.json"}
        with pytest.raises(DataSourceError) as info:
            fetch_territory(
                tmp_path,
                insee=["30007"],
                base_url=f"http://127.0.0.1:{httpd.server_address[1]}",
                urls=urls,
                sources=["cadastre"],
                progress=False,
            )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "page HTML" in str(info.value) and "cadastre-30007-parcelles.json" in str(info.value)
    assert not list(tmp_path.rglob("cadastre-30007-parcelles.json*"))
