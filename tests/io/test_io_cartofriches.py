from __future__ import annotations

import json
from collections import Counter

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _io_helpers import real, squares

from foncier.errors import DataSourceError
from foncier.io import read_cadastre, read_cartofriches
from foncier.io.cartofriches import parse_idpar_list

IDUS = [f"30007000AB{i + 1:04d}" for i in range(9)]


def parcels_layer():
    return gpd.GeoDataFrame(
        {"idu": IDUS, "insee": "30007", "section": "AB", "numero": "1", "contenance_m2": 1e4},
        geometry=squares(),
        crs="EPSG:2154",
    )


def friches_file(tmp_path, rows, geoms, name="friches.geojson"):
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:2154").to_crs("EPSG:4326")
    path = tmp_path / name
    gdf.to_file(path, engine="pyogrio")
    return path


def centre(i):
    return squares()[i].centroid


def test_points_take_their_land_from_listed_parcels(tmp_path):
    rows = {
        "site_id": ["f1", "f2", "f3"],
        "site_nom": ["Usine", "Garage", "Dépôt"],
        "site_statut": ["friche sans projet", "Friche potentielle", "friche avec projet"],
        "site_surface": [20_000.0, 5_000.0, 1_234.0],
        "comm_insee": ["30007", "30007", "30007"],
        "l_idpar": [f"{{{IDUS[0]},{IDUS[1]}}}", f"{{{IDUS[4]},30007000ZZ0001}}", None],
    }
    path = friches_file(tmp_path, rows, [centre(0), centre(4), centre(8)])
    friches = read_cartofriches(path, parcels=parcels_layer())
    f1, f2, f3 = (friches.set_index("site_id").loc[k] for k in ("f1", "f2", "f3"))
    # f1: both parcels loaded -> their union, area measured.
    assert f1.geometry.geom_type == "Polygon"
    assert f1.geometry.area == pytest.approx(20_000)
    assert f1["surface_m2"] == pytest.approx(20_000) and not f1["approximate"]
    # f2: one parcel missing -> kept as point, declared surface, flagged.
    assert f2.geometry.geom_type == "Point" and f2["approximate"]
    assert f2["surface_m2"] == 5_000
    # f3: no parcel list -> point.
    assert f3.geometry.geom_type == "Point" and f3["approximate"]
    assert f2["status"] == "friche potentielle"
    notes = " ".join(friches.attrs["load_report"].notes)
    assert "1 friche(s) ponctuelle(s) prennent leur emprise" in notes
    assert "seule une partie de leurs parcelles est chargée" in notes


def test_without_parcels_every_point_is_approximate(tmp_path):
    rows = {
        "SITE_ID": ["f1"],
        "SITE_STATUT": ["friche reconvertie"],
        "SITE_SURFACE": ["1 500,5"],
        "COMM_INSEE": [30007],
    }
    path = friches_file(tmp_path, rows, [centre(0)])
    friches = read_cartofriches(path)
    # No shape is invented: the point stays a point.
    assert friches.geometry.iloc[0].geom_type == "Point"
    assert friches.geometry.iloc[0].distance(centre(0)) < 0.01
    assert friches["approximate"].tolist() == [True]
    assert friches["surface_m2"].tolist() == [1500.5]  # "1 500,5" read the French way
    assert friches["insee"].tolist() == ["30007"]


def test_polygons_are_kept_with_their_area(tmp_path):
    rows = {
        "site_id": ["p1"],
        "site_statut": ["friche sans projet"],
        "site_surface": [1.0],
        "comm_insee": ["30007"],
    }
    path = friches_file(tmp_path, rows, [shapely.box(700_000, 6_300_000, 700_200, 6_300_100)])
    friches = read_cartofriches(path)
    assert friches["surface_m2"].iloc[0] == pytest.approx(20_000, rel=1e-6)
    assert not friches["approximate"].iloc[0]


def test_row_problems_are_rejected(tmp_path):
    rows = {
        "site_id": ["a", "b", "c", "d", "a", None],
        "site_statut": ["friche sans projet", "démolie", "friche sans projet"]
        + ["friche sans projet"] * 3,
        "site_surface": ["10", "10", "beaucoup", "-3", "10", "10"],
        "comm_insee": ["30007", "30007", "30007", "30007", "30007", "30007"],
    }
    path = friches_file(tmp_path, rows, [centre(i) for i in range(6)])
    friches = read_cartofriches(path)
    assert friches["site_id"].tolist() == ["a"]
    assert dict(friches.attrs["load_report"].rows_rejected) == {
        "5": "pas de site_id",
        "b": "unknown status 'démolie'",
        "c": "site_surface non numérique",
        "d": "site_surface négative",
        "a": "site_id en double (le premier est gardé)",
    }


def test_missing_status_column(tmp_path):
    path = friches_file(tmp_path, {"site_id": ["a"], "comm_insee": ["30007"]}, [centre(0)])
    with pytest.raises(DataSourceError, match=r"friches.geojson.*'site_statut'"):
        read_cartofriches(path)


def test_parse_idpar_list():
    values = parse_idpar_list(
        gpd.pd.Series(["{301140000W0256}", "{a, b;c}", "", None], dtype=object)
    )
    assert values.tolist() == [["301140000W0256"], ["A", "B", "C"], [], []]


GARD = "friches/cartofriches_points_gard30_20231002.geojson"


def test_real_gard_friches_by_status():
    path = real(GARD)
    friches = read_cartofriches(path)
    raw = json.loads(path.read_text())
    expected = Counter(f["properties"]["site_statut"] for f in raw["features"])
    assert friches["status"].value_counts().to_dict() == dict(expected)
    assert dict(expected) == {
        "friche potentielle": 236,
        "friche avec projet": 21,
        "friche sans projet": 13,
        "site avec projet": 6,
    }
    assert friches["approximate"].all()
    surface = {f["properties"]["site_id"]: f["properties"]["site_surface"] for f in raw["features"]}
    np.testing.assert_allclose(
        friches["surface_m2"].to_numpy(), friches["site_id"].map(surface).astype(float).to_numpy()
    )


def test_real_gard_friches_in_ales_agglomeration():
    communes = gpd.read_file(real("admin/communes_ales_agglomeration_2018geom.geojson"))
    friches = read_cartofriches(real(GARD), insee=communes["code"])
    assert len(friches) == 88
    assert friches["insee"].isin(set(communes["code"])).all()
    assert friches.attrs["load_report"].rows_read == 88


@pytest.mark.slow
def test_real_occitanie_geopackage():
    friches = read_cartofriches(real("friches/cartofriches_points_occitanie_20231002.gpkg"))
    assert len(friches) == 2831
    assert (
        friches["insee"]
        .str[:2]
        .isin({"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"})
        .all()
    )


def test_real_points_with_parcels_of_another_area_stay_points(tmp_path):
    # Essonne parcels do not list any Gard friche: every friche stays an approximate point.
    parcels = read_cadastre(real("cadastre/cadastre-91479-parcelles.json"))
    friches = read_cartofriches(real(GARD), parcels=parcels)
    assert friches.geom_type.eq("Point").all() and friches["approximate"].all()


def test_csv_with_long_lat_columns(tmp_path):
    path = tmp_path / "friches.csv"
    path.write_text(
        "site_id;site_statut;site_surface;comm_insee;Long;Lat\n"
        "a;friche sans projet;1000;30007;4,0806;44,1250\n"
        "b;friche sans projet;1000;30007;;\n",
        encoding="utf-8-sig",
    )
    friches = read_cartofriches(path)
    assert friches["site_id"].tolist() == ["a"]
    assert friches.attrs["load_report"].rows_rejected == [("b", "pas de géométrie")]
    x, y = friches.geometry.iloc[0].coords[0]
    assert 700_000 < x < 900_000 and 6_300_000 < y < 6_400_000
    (tmp_path / "nolonlat.csv").write_text(
        "site_id;site_statut;comm_insee\na;friche sans projet;30007\n"
    )
    with pytest.raises(DataSourceError, match=r"nolonlat.csv.*'long'"):
        read_cartofriches(tmp_path / "nolonlat.csv")
