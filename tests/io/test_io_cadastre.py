from __future__ import annotations

import gzip
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _io_helpers import real, squares
from pyproj import Geod, Transformer

from foncier.errors import CRSError, DataSourceError, GeometryRepairedWarning
from foncier.io import read_cadastre
from foncier.io._common import find_column

IDS = [f"30007000AB{i + 1:04d}" for i in range(9)]


def etalab_features(ids=IDS, contenance=None, crs_out="EPSG:4326"):
    """Etalab-like features for a 3x3 grid of 1 ha squares near Alès."""
    geoms = gpd.GeoSeries(squares(), crs="EPSG:2154").to_crs(crs_out)
    contenance = contenance if contenance is not None else [10_000] * len(ids)
    return [
        {
            "type": "Feature",
            "id": idu,
            "geometry": json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"],
            "properties": {
                "id": idu,
                "commune": idu[:5],
                "prefixe": idu[5:8],
                "section": idu[8:10].lstrip("0"),
                "numero": idu[10:].lstrip("0"),
                "contenance": c,
                "arpente": False,
                "created": "2020-01-01",
                "updated": "2021-01-01",
            },
        }
        for idu, g, c in zip(ids, geoms, contenance, strict=False)
    ]


def write_etalab(path, features, *, gz=False):
    text = json.dumps({"type": "FeatureCollection", "features": features})
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_reads_etalab_geojson_with_tax_and_geometric_area(tmp_path):
    path = write_etalab(tmp_path / "cadastre-30007-parcelles.json", etalab_features())
    parcels = read_cadastre(path)
    assert parcels.crs.to_epsg() == 2154
    assert parcels["idu"].tolist() == IDS
    assert (parcels["insee"] == "30007").all()
    assert (parcels["contenance_m2"] == 10_000).all()
    # 100 m squares written in EPSG:4326 with 7 decimals come back within 0.1 m².
    np.testing.assert_allclose(parcels["area_m2"], 10_000, atol=1.0)
    cols = list(parcels.columns)
    assert cols.index("area_m2") == cols.index("contenance_m2") + 1
    report = parcels.attrs["load_report"]
    assert report.rows_read == 9 and report.reprojected and report.crs_in == "EPSG:4326"


def test_reads_gzip_and_several_files(tmp_path):
    a = write_etalab(tmp_path / "a.json.gz", etalab_features()[:5], gz=True)
    b = write_etalab(tmp_path / "b.json", etalab_features()[5:])
    parcels = read_cadastre([a, b])
    assert sorted(parcels["idu"]) == IDS


def test_truncated_gzip_names_the_file(tmp_path):
    data = gzip.compress(json.dumps({"features": etalab_features()}).encode())
    path = tmp_path / "cadastre-30007-parcelles.json.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match=r"cadastre-30007-parcelles.json.gz.*tronqué"):
        read_cadastre(path)


def test_truncated_geojson_names_the_file(tmp_path):
    text = json.dumps({"type": "FeatureCollection", "features": etalab_features()})
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DataSourceError, match="cut.json"):
        read_cadastre(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataSourceError, match="n'existe pas"):
        read_cadastre(tmp_path / "nope.json")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(DataSourceError, match="empty"):
        read_cadastre(tmp_path / "empty.json")


def test_row_problems_are_rejected_with_reasons(tmp_path):
    ids = [*IDS[:6], "BAD", IDS[7], IDS[0]]
    contenance = [10_000, "n/a", 10_000, -5, 10_000, 10_000, 10_000, 10_000, 10_000]
    path = write_etalab(tmp_path / "x.json", etalab_features(ids, contenance))
    parcels = read_cadastre(path)
    reasons = dict(parcels.attrs["load_report"].rows_rejected)
    assert reasons == {
        "BAD": "identifiant de parcelle mal formé (14 caractères attendus)",
        IDS[1]: "contenance non numérique",
        IDS[3]: "contenance négative",
        IDS[0]: "parcelle en double (la première est gardée)",
    }
    assert len(parcels) == 5
    assert parcels.attrs["load_report"].rows_kept == 5


def test_renamed_id_column_is_a_clear_error(tmp_path):
    features = etalab_features()
    for f in features:
        f["properties"]["parcelle"] = f["properties"].pop("id")
        del f["id"]
    path = write_etalab(tmp_path / "renamed.json", features)
    with pytest.raises(DataSourceError, match=r"renamed.json.*aucune colonne 'id'"):
        read_cadastre(path)


def test_upper_case_fields_are_matched(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"ID": IDS, "COMMUNE": "30007", "SECTION": "AB", "NUMERO": "1", "CONTENANCE": 1.0},
        geometry=squares(),
        crs="EPSG:2154",
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    parcels = read_cadastre(tmp_path / "p.gpkg")
    assert parcels.attrs["load_report"].reprojected is False
    np.testing.assert_allclose(parcels["area_m2"], 10_000)


def test_file_in_a_wrongly_declared_crs_is_refused(tmp_path):
    # Lambert-93 coordinates declared as UTM 31N land in the sea far from France.
    gdf = gpd.GeoDataFrame(
        {"id": IDS, "section": "AB", "numero": "1", "contenance": 1.0},
        geometry=squares(),
        crs="EPSG:32631",
    )
    gdf.to_file(tmp_path / "wrong.gpkg", engine="pyogrio")
    with pytest.raises(CRSError, match=r"wrong.gpkg.*hors de la France métropolitaine"):
        read_cadastre(tmp_path / "wrong.gpkg")


def test_insee_filter(tmp_path):
    ids = [*IDS[:4], *(f"30008000AB{i:04d}" for i in range(1, 6))]
    parcels = read_cadastre(
        write_etalab(tmp_path / "x.json", etalab_features(ids)), insee=["30008"]
    )
    assert set(parcels["insee"]) == {"30008"} and len(parcels) == 5
    assert parcels.attrs["load_report"].rows_read == 5


def test_find_column_ignores_case_and_bom():
    assert find_column(["\ufeffIDCOM", "x"], "idcom") == "\ufeffIDCOM"
    assert find_column(["a"], "b") is None
    with pytest.raises(DataSourceError, match="'b' ou 'c'"):
        find_column(["a"], "b", "c", required=True, source="f.csv")


REAL_COUNTS = {"91027": 6759, "91432": 5166, "91326": 2859, "91479": 2857}


def _independent_areas(path):
    """Parcel count and total area of a raw Etalab file: shoelace in EPSG:2154, and geodesic."""
    data = json.loads(path.read_text())
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    geod = Geod(ellps="GRS80")
    planar = geodesic = 0.0
    for f in data["features"]:
        geom = f["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for rings in polygons:
            for k, ring in enumerate(rings):
                lon, lat = np.array(ring).T
                x, y = to_l93.transform(lon, lat)
                shoelace = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
                g = abs(geod.polygon_area_perimeter(lon, lat)[0])
                sign = 1 if k == 0 else -1
                planar += sign * shoelace
                geodesic += sign * g
    return len(data["features"]), planar, geodesic


@pytest.mark.slow
@pytest.mark.parametrize("insee", sorted(REAL_COUNTS))
def test_real_essonne_communes_counts_and_areas(insee):
    path = real(f"cadastre/cadastre-{insee}-parcelles.json")
    parcels = read_cadastre(path)
    n, planar, geodesic = _independent_areas(path)
    assert len(parcels) == n == REAL_COUNTS[insee]
    assert parcels.attrs["load_report"].rows_rejected == []
    assert (parcels["insee"] == insee).all()
    total = parcels["area_m2"].sum()
    # Same projection, computed independently: equal up to repairs of invalid rings.
    assert total == pytest.approx(planar, rel=1e-6)
    # Lambert-93 scale distortion near Paris stays well under 0.1 %.
    assert total == pytest.approx(geodesic, rel=1e-3)
    assert parcels["idu"].str.len().eq(14).all()


@pytest.mark.slow
def test_real_four_communes_in_one_call():
    paths = [real(f"cadastre/cadastre-{i}-parcelles.json") for i in sorted(REAL_COUNTS)]
    parcels = read_cadastre(paths)
    assert parcels.groupby("insee").size().to_dict() == REAL_COUNTS
    assert parcels["idu"].is_unique


def test_shapefile_without_prj_is_refused_with_its_name(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": IDS, "section": "AB", "numero": "1", "contenance": 1.0},
        geometry=squares(),
        crs="EPSG:2154",
    )
    gdf.to_file(tmp_path / "parcelles.shp", engine="pyogrio")
    (tmp_path / "parcelles.prj").unlink()
    with pytest.raises(CRSError, match=r"parcelles.shp.*aucun SCR"):
        read_cadastre(tmp_path / "parcelles.shp")


def test_invalid_geometry_is_repaired_and_reported(tmp_path):
    bowtie = shapely.Polygon(
        [(700_000, 6_300_000), (700_100, 6_300_100), (700_100, 6_300_000), (700_000, 6_300_100)]
    )
    gdf = gpd.GeoDataFrame(
        {"id": IDS[:2], "section": "AB", "numero": "1", "contenance": 1.0},
        geometry=[bowtie, squares()[4]],
        crs="EPSG:2154",
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    with pytest.warns(GeometryRepairedWarning, match=r"1 géométrie\(s\) invalide\(s\) réparée"):
        parcels = read_cadastre(tmp_path / "p.gpkg")
    report = parcels.attrs["load_report"]
    assert report.geometries_repaired == 1 and report.repaired_ids == [IDS[0]]
    assert parcels["area_m2"].iloc[0] == pytest.approx(5_000)
    assert "land_cover" in " ".join(report.notes)
