from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from _io_helpers import real, squares

from foncier.errors import DataSourceError, LayerSchemaError
from foncier.io import DEFAULT_EFFECTS, read_constraints, read_infrastructure


def ppri_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"ZONE": ["Rouge", "bleu", "BLEU", "blanche"], "ID": ["r1", "b1", "b1", "w1"]},
        geometry=squares()[:4],
        crs="EPSG:2154",
    )
    path = tmp_path / "ppri.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return path


def test_default_effects():
    assert DEFAULT_EFFECTS["ppri_red"] == "exclude"
    assert DEFAULT_EFFECTS["natura2000"] == "exclude"
    assert {k for k, v in DEFAULT_EFFECTS.items() if v == "exclude"} == {"ppri_red", "natura2000"}


def test_ppri_mapping_from_a_field(tmp_path):
    cons = read_constraints(
        ppri_file(tmp_path), {"rouge": "ppri_red", "bleu": "ppri_blue"}, field="zone"
    )
    assert cons["kind"].tolist() == ["ppri_red", "ppri_blue", "ppri_blue"]
    assert cons["effect"].tolist() == ["exclude", "penalise", "penalise"]
    # Duplicate ids of the file are made unique with the feature's position.
    assert cons["constraint_id"].tolist() == ["ppri_red:r1", "ppri_blue:b1-1", "ppri_blue:b1-2"]
    assert cons.attrs["load_report"].rows_rejected == [
        ("3", "ZONE value 'blanche' not in the mapping")
    ]


def test_effect_override(tmp_path):
    cons = read_constraints(ppri_file(tmp_path), "znieff1", effect="exclude")
    assert (cons["effect"] == "exclude").all() and len(cons) == 4
    per_kind = read_constraints(
        ppri_file(tmp_path),
        {"rouge": "ppri_red", "bleu": "ppri_blue"},
        field="ZONE",
        effect={"ppri_blue": "exclude"},
    )
    assert (per_kind["effect"] == "exclude").all()


def test_bad_arguments(tmp_path):
    path = ppri_file(tmp_path)
    with pytest.raises(LayerSchemaError, match="type de contrainte inconnu 'flood'"):
        read_constraints(path, "flood")
    with pytest.raises(LayerSchemaError, match="demande field="):
        read_constraints(path, {"rouge": "ppri_red"})
    with pytest.raises(DataSourceError, match=r"ppri.gpkg.*'niveau'"):
        read_constraints(path, {"rouge": "ppri_red"}, field="niveau")
    with pytest.raises(LayerSchemaError, match="effet de contrainte inconnu"):
        read_constraints(path, "znieff1", effect="forbid")


def test_points_are_not_constraints(tmp_path):
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(700_000, 6_300_000)], crs=2154)
    gdf.to_file(tmp_path / "pts.gpkg", engine="pyogrio")
    with pytest.raises(Exception, match="polygon"):
        read_constraints(tmp_path / "pts.gpkg", "other")


def test_infrastructure_points_and_lines(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"osm_id": [11, 12], "name": ["Échangeur 1", None]},
        geometry=[
            shapely.Point(700_000, 6_300_000),
            shapely.LineString([(700_000, 6_300_000), (700_100, 6_300_100)]),
        ],
        crs="EPSG:2154",
    )
    gdf.to_file(tmp_path / "x.geojson", engine="pyogrio")
    infra = read_infrastructure(tmp_path / "x.geojson", "interchange")
    assert infra["infra_id"].tolist() == ["interchange:11", "interchange:12"]
    assert infra["name"].iloc[0] == "Échangeur 1"
    with pytest.raises(LayerSchemaError, match="type d'infrastructure inconnu"):
        read_infrastructure(tmp_path / "x.geojson", "airport")


@pytest.mark.parametrize(
    ("rel", "kind", "n", "effect", "id_field"),
    [
        ("environnement/natura2000_paysdebray76.geojson", "natura2000", 6, "exclude", "SITECODE"),
        ("environnement/znieff1_paysdebray76.geojson", "znieff1", 123, "penalise", "CODE_NATIO"),
        ("environnement/znieff2_paysdebray76.geojson", "znieff2", 10, "penalise", "CODE_NATIO"),
    ],
)
def test_real_nature_layers(rel, kind, n, effect, id_field):
    path = real(rel)
    cons = read_constraints(path, kind)
    raw = json.loads(path.read_text())["features"]
    assert len(cons) == len(raw) == n
    assert (cons["kind"] == kind).all() and (cons["effect"] == effect).all()
    assert cons["constraint_id"].is_unique
    assert {f"{kind}:{f['properties'][id_field]}" for f in raw} <= set(cons["constraint_id"]) | {
        c.rsplit("-", 1)[0] for c in cons["constraint_id"]
    }
    assert cons["name"].notna().all()
    assert cons.geom_type.isin(["Polygon", "MultiPolygon"]).all()
