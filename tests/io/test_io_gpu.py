from __future__ import annotations

import json
from collections import Counter

import geopandas as gpd
import pandas as pd
import pytest
from _io_helpers import real, squares

from foncier.errors import DataSourceError
from foncier.io import read_gpu_zoning
from foncier.io.gpu import SECTOR_ZONE_TYPES, map_zone_type


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("U", "U"),
        ("u", "U"),
        ("AUc", "AUc"),
        ("AUC", "AUc"),
        ("AUs", "AUs"),
        ("A", "A"),
        ("Ah", "A"),
        ("Ac", "A"),
        ("N", "N"),
        ("Nh", "N"),
        ("Nd", "N"),
        ("Nco", "N"),
        (" n ", "N"),
    ],
)
def test_zone_types_and_sub_types(raw, expected):
    assert map_zone_type(pd.Series([raw])).iloc[0] == expected


@pytest.mark.parametrize("raw", ["AU", "AUx", "X", "", None])
def test_ambiguous_or_unknown_zone_types_are_missing(raw):
    assert pd.isna(map_zone_type(pd.Series([raw], dtype=object)).iloc[0])


def zone_file(tmp_path, name="zone_urba.gpkg", **columns):
    n = len(next(iter(columns.values())))
    gdf = gpd.GeoDataFrame(columns, geometry=squares()[:n], crs="EPSG:2154")
    path = tmp_path / name
    gdf.to_file(path, engine="pyogrio")
    return path


def test_upper_case_plu_fields_zone_ids_and_insee_from_idurba(tmp_path):
    path = zone_file(
        tmp_path,
        LIBELLE=["Uz", "Uz", "AUc1", "Nh"],
        TYPEZONE=["U", "U", "AUc", "Nh"],
        DESTDOMI=["02", 2, None, "00"],
        IDURBA=["30007_PLU_20200101"] * 4,
    )
    zones = read_gpu_zoning(path)
    assert zones["zone_id"].tolist() == [
        "30007_PLU_20200101:Uz:0",
        "30007_PLU_20200101:Uz:1",
        "30007_PLU_20200101:AUc1:2",
        "30007_PLU_20200101:Nh:3",
    ]
    assert (zones["insee"] == "30007").all()
    assert zones["zone_type"].tolist() == ["U", "U", "AUc", "N"]
    assert zones["destdomi"].tolist()[:2] == ["02", "02"]
    assert pd.isna(zones["destdomi"].iloc[2])
    assert zones["typezone"].tolist() == ["U", "U", "AUc", "Nh"]


def test_insee_field_wins_and_unknown_types_are_rejected(tmp_path):
    path = zone_file(
        tmp_path,
        libelle=["U1", "AU", "A"],
        typezone=["U", "AU", "A"],
        insee=["30028", "30028", "30028"],
        idurba=["200066918_PLUI_20200101"] * 3,
    )
    zones = read_gpu_zoning(path)
    assert zones["insee"].tolist() == ["30028", "30028"]
    assert zones.attrs["load_report"].rows_rejected == [
        ("200066918_PLUI_20200101:AU:1", "unknown zone type 'AU'")
    ]


def test_plui_without_insee_takes_the_commune_of_each_zone(tmp_path):
    path = zone_file(
        tmp_path, libelle=["U", "N", "A"], typezone=["U", "N", "A"], idurba=["200066918_PLUI"] * 3
    )
    rejected = read_gpu_zoning(path)
    assert len(rejected) == 0
    assert len(rejected.attrs["load_report"].rows_rejected) == 3
    cells = squares()
    communes = gpd.GeoDataFrame(
        {"insee": ["30007", "30028"], "name": ["a", "b"], "epci": "200066918"},
        geometry=[cells[0].union(cells[1]), cells[2]],
        crs="EPSG:2154",
    )
    zones = read_gpu_zoning(path, communes=communes)
    assert zones["insee"].tolist() == ["30007", "30007", "30028"]


def test_carte_communale_sectors(tmp_path):
    path = zone_file(
        tmp_path,
        TYPESECT=["01", "02", "03", "99", 2],
        INSEE=["30100"] * 5,
        IDURBA=["30100_CC_20190101"] * 5,
    )
    zones = read_gpu_zoning(path)
    assert zones["zone_type"].tolist() == ["U", "U", "N", "U"]
    assert zones["destdomi"].tolist()[1] == "02" and zones["destdomi"].tolist()[3] == "02"
    assert pd.isna(zones["destdomi"].iloc[0])
    assert zones["libelle"].tolist() == ["secteur 01", "secteur 02", "secteur 03", "secteur 02"]
    reasons = [r for _, r in zones.attrs["load_report"].rows_rejected]
    assert reasons == ["unknown zone type '99'"]
    assert SECTOR_ZONE_TYPES["02"] == ("U", "02")


def test_not_a_zoning_file(tmp_path):
    path = zone_file(tmp_path, LIBELLE=["U"], ZONE=["U"])
    with pytest.raises(DataSourceError, match=r"zone_urba.gpkg.*no 'typezone'.*nor 'typesect'"):
        read_gpu_zoning(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "zone_urba.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(DataSourceError, match="zone_urba.gpkg"):
        read_gpu_zoning(path)


def _raw_counts(path):
    """Zones per TYPEZONE, counted from the raw GeoJSON with the json module."""
    data = json.loads(path.read_text())
    return Counter(f["properties"]["TYPEZONE"] for f in data["features"]), len(data["features"])


@pytest.mark.parametrize(
    ("rel", "insee", "n", "activity_labels"),
    [
        ("plu/gpu_76648_zone_urba_20241107.geojson", "76648", 71, {"Uy", "Uz", "AUz"}),
        ("plu/gpu_76321_zone_urba_20240219.geojson", "76321", 46, {"Uy", "AUy1", "AUy2"}),
    ],
)
def test_real_gpu_zoning_of_two_communes(rel, insee, n, activity_labels):
    path = real(rel)
    zones = read_gpu_zoning(path)
    expected, total = _raw_counts(path)
    assert len(zones) == total == n
    assert zones.groupby("zone_type").size().to_dict() == dict(expected)
    assert (zones["insee"] == insee).all()
    assert activity_labels <= set(zones["libelle"])
    assert zones["zone_id"].is_unique
    assert zones.attrs["load_report"].reprojected
    # The real files publish no DESTDOMI: activity zones are recognised by their labels.
    assert zones["destdomi"].isna().all()
    assert any("pas de DESTDOMI" in note for note in zones.attrs["load_report"].notes)


def test_real_gpu_two_files_together():
    paths = [
        real("plu/gpu_76648_zone_urba_20241107.geojson"),
        real("plu/gpu_76321_zone_urba_20240219.geojson"),
    ]
    zones = read_gpu_zoning(paths)
    assert zones.groupby("insee").size().to_dict() == {"76321": 46, "76648": 71}


def test_published_zone_ids_are_kept(tmp_path):
    path = zone_file(
        tmp_path, IDZONE=[101, 102], LIBELLE=["U", "A"], TYPEZONE=["U", "A"], INSEE=["30007"] * 2
    )
    assert read_gpu_zoning(path)["zone_id"].tolist() == ["101", "102"]
