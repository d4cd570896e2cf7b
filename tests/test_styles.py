"""Styled GeoPackages (layer_styles, metadata, placements' geometry type) and GeoParquet exports."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import DataSourceError
from foncier.exports import write_layer
from foncier.layers import ORIGINS
from foncier.palette import (
    BUDGET_PALETTE,
    EXCEEDED,
    FRICHE_COLOURS,
    INCOMPLETE,
    ORIGIN_COLOURS,
    sector_colour,
)
from foncier.sample import write_sample
from foncier.scenarios import Scenario, ScenarioResult
from foncier.styles import STYLE_NAME, add_layer_styles, layer_style, qml, sld
from foncier.territory import GPKG_NAME, SPATIAL_LAYERS, Territory

_OGRINFO = shutil.which("ogrinfo")
needs_ogrinfo = pytest.mark.skipif(
    _OGRINFO is None, reason="ogrinfo not installed (Debian: apt-get install gdal-bin)"
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """A small sample territory folder (3,000 parcels, 20 communes), written once."""
    folder = tmp_path_factory.mktemp("styles") / "territory"
    return write_sample(folder, n_parcels=3000, seed=0, n_communes=20)


@pytest.fixture(scope="module")
def result_dir(small: Territory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = Scenario(small, name="emplois", time_limit=30).run()
    return result.to_folder(tmp_path_factory.mktemp("styles-result") / "jobs")


def _styles(path: Path) -> dict[str, tuple[str, str, int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT f_table_name, styleQML, styleSLD, useAsDefault, styleName FROM layer_styles"
        ).fetchall()
    assert len({r[0] for r in rows if r[4] == STYLE_NAME}) == sum(r[4] == STYLE_NAME for r in rows)
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows if r[4] == STYLE_NAME}


def _ogr_layers(path: Path) -> list[str]:
    assert _OGRINFO is not None
    out = subprocess.run(
        [_OGRINFO, "-ro", "-q", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return re.findall(r"^\d+: (\S+)", out, flags=re.MULTILINE)


def _categories(qml_text: str) -> dict[str, str]:
    """Category value -> fill colour (``#rrggbb``) of a categorised QML."""
    root = ET.fromstring(qml_text.split("\n", 1)[1])
    colours = {}
    for symbol in root.iter("symbol"):
        rgba = next(p.get("v") for p in symbol.iter("prop") if p.get("k") == "color")
        r, g, b, _ = (int(v) for v in str(rgba).split(","))
        colours[symbol.get("name")] = f"#{r:02x}{g:02x}{b:02x}"
    return {c.get("value"): colours[c.get("symbol")] for c in root.iter("category")}


def test_territory_gpkg_is_styled(small: Territory) -> None:
    assert small.folder is not None
    gpkg = small.folder / GPKG_NAME
    styles = _styles(gpkg)
    assert set(styles) == set(SPATIAL_LAYERS)
    assert all(default == 1 for _, _, default, _ in styles.values())
    for text, sld_text, _, _ in styles.values():
        ET.fromstring(text.split("\n", 1)[1])
        ET.fromstring(sld_text.split("?>", 1)[1])
    friches = _categories(styles["friches"][0])
    assert friches["friche sans projet"] == FRICHE_COLOURS["friche sans projet"] == "#e66101"
    info = pyogrio.read_info(gpkg, layer="parcels")
    assert info["layer_metadata"]["DONNEES_SYNTHETIQUES"] == "oui"
    assert info["layer_metadata"]["MILLESIME_ENAF"] == small.enaf_vintage.label  # type: ignore[union-attr]
    # the territory reads back unchanged beside its styles
    back = Territory.from_folder(small.folder)
    assert len(back.parcels) == len(small.parcels)


@needs_ogrinfo
def test_ogrinfo_lists_layer_styles_of_every_gpkg(small: Territory, result_dir: Path) -> None:
    assert small.folder is not None
    assert _ogr_layers(small.folder / GPKG_NAME) == [*SPATIAL_LAYERS, "layer_styles"]
    assert _ogr_layers(result_dir / "placements.gpkg") == ["placements", "layer_styles"]
    assert _ogr_layers(result_dir / "land_units.gpkg") == ["land_units", "layer_styles"]


def test_placements_are_multipolygons_with_project_fields(result_dir: Path) -> None:
    gpkg = result_dir / "placements.gpkg"
    info = pyogrio.read_info(gpkg, layer="placements")
    assert info["geometry_type"] == "MultiPolygon"
    assert {"name", "sector", "jobs", "zan_cost", "explanation"} <= set(info["fields"])
    meta = info["layer_metadata"]
    assert meta["REGLES_ZAN"].startswith("climat-resilience-2023 v")
    assert meta["DONNEES_SYNTHETIQUES"] == "oui"
    placements = gpd.read_file(gpkg, layer="placements")
    assert len(placements) and placements["explanation"].str.len().gt(10).all()
    categories = _categories(_styles(gpkg)["placements"][0])
    sectors = set(placements["sector"])
    assert sectors <= set(categories)
    assert all(categories[s] == sector_colour(s) for s in sectors)
    back = ScenarioResult.from_folder(result_dir)
    assert len(back.placements) == len(placements)


def test_land_units_by_origin(result_dir: Path) -> None:
    categories = _categories(_styles(result_dir / "land_units.gpkg")["land_units"][0])
    assert {o: categories[o] for o in ORIGINS} == ORIGIN_COLOURS
    assert categories[""] == "#737373"  # every other value


def _matches(conditions, row: dict[str, object]) -> bool:
    ops = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
    }
    return all(ops[op](row[col], value) for col, op, value in conditions)


@pytest.mark.parametrize(
    ("remaining", "status", "colour"),
    [
        (0.7, "on track", BUDGET_PALETTE[1]),
        (0.0, "at risk", BUDGET_PALETTE[0]),
        (25.0, "on track", BUDGET_PALETTE[6]),
        (3.0, "at risk", BUDGET_PALETTE[3]),
        (-2.0, "exceeded", EXCEEDED),
        (4.0, "incomplete", INCOMPLETE),
    ],
)
def test_communes_by_zan_status(remaining: float, status: str, colour: str) -> None:
    style = layer_style("communes", ["insee", "remaining_ha", "status"], "fill", {})
    hits = [
        r.colour
        for r in style.rules
        if _matches(r.conditions, {"remaining_ha": remaining, "status": status})
    ]
    assert hits == [colour]
    assert 'renderer-v2 type="RuleRenderer"' in qml(style)
    assert sld(style, "communes").count("<se:Rule>") == len(style.rules)
    plain = layer_style("communes", ["insee", "name"], "fill", {})
    assert not plain.rules and plain.column is None


def test_restyling_keeps_other_styles(tmp_path: Path, small: Territory) -> None:
    gpkg = write_layer(small.zae, tmp_path / "zae.gpkg", "zae")
    with closing(sqlite3.connect(gpkg)) as conn, conn:
        conn.execute(
            "INSERT INTO layer_styles (f_table_name, styleName, styleQML, useAsDefault) "
            "VALUES ('zae', 'mon style', '<qgis/>', 1)"
        )
    add_layer_styles(gpkg, metadata={"DONNEES": "essai"})
    with closing(sqlite3.connect(gpkg)) as conn:
        rows = dict(conn.execute("SELECT styleName, useAsDefault FROM layer_styles"))
    assert rows == {"mon style": 0, STYLE_NAME: 1}
    assert pyogrio.read_info(gpkg, layer="zae")["layer_metadata"]["DONNEES"] == "essai"
    with pytest.raises(DataSourceError, match="absente"):
        add_layer_styles(gpkg, ["rivers"])


def test_supply_writes_geoparquet_and_styled_gpkg(small: Territory, tmp_path: Path) -> None:
    assert small.folder is not None
    parquet = tmp_path / "units.parquet"
    done = CliRunner().invoke(main, ["supply", str(small.folder), "-o", str(parquet)])
    assert done.exit_code == 0, done.output
    assert "GeoParquet" in done.output
    geo = json.loads(pq.read_schema(parquet).metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    column = geo["columns"]["geometry"]
    assert column["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    back = gpd.read_parquet(parquet)
    assert back.crs.to_epsg() == 2154
    gpkg = tmp_path / "units.gpkg"
    done = CliRunner().invoke(
        main, ["supply", str(small.folder), "-o", str(gpkg), "--format", "gpkg"]
    )
    assert done.exit_code == 0, done.output
    units = gpd.read_file(gpkg, layer="land_units")
    assert len(back) == len(units) > 0
    assert list(back["unit_id"]) == list(units["unit_id"])
    # the GeoPackage promotes mixed polygons to multipolygons: same shapes either way
    assert shapely.equals(back.geometry.to_numpy(), units.geometry.to_numpy()).all()
    assert (back.geom_type == "Polygon").any()
    assert set(_styles(gpkg)) == {"land_units"}
    assert pyogrio.read_info(gpkg, layer="land_units")["layer_metadata"]["TERRITOIRE"] == small.name


def test_supply_rejects_an_unknown_format(small: Territory, tmp_path: Path) -> None:
    assert small.folder is not None
    done = CliRunner().invoke(
        main, ["supply", str(small.folder), "-o", str(tmp_path / "u.shp"), "--format", "shp"]
    )
    assert done.exit_code == 2
    assert "shp" in done.output
