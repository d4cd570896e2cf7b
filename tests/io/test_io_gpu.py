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
    with pytest.raises(
        DataSourceError, match=r"zone_urba.gpkg.*ni colonne 'typezone'.*ni 'typesect'"
    ):
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


# -- activity zones: DESTDOMI and the label rules --------------------------------------
def _classes(zones):
    """Activity class of each distinct label."""
    return zones.drop_duplicates("libelle").set_index("libelle")["activity_class"].to_dict()


@pytest.mark.parametrize(
    ("rel", "activity_labels"),
    [
        ("plu/gpu_76648_zone_urba_20241107.geojson", {"Uy", "Uz", "AUz"}),
        ("plu/gpu_76321_zone_urba_20240219.geojson", {"Uy", "AUy1", "AUy2"}),
    ],
)
def test_real_seine_maritime_activity_zones_from_their_labels(rel, activity_labels):
    zones = read_gpu_zoning(real(rel))
    classes = _classes(zones)
    # exactly the Uy / Uz / AUz / AUy* zones, nothing else (Ud, Uh, Uca, AUh1 are housing)
    assert {lab for lab, c in classes.items() if c == "activity"} == activity_labels
    raw = gpd.read_file(real(rel))
    expected = raw["LIBELLE"].isin(activity_labels)
    assert (zones["activity_class"] == "activity").sum() == expected.sum() > 0
    notes = zones.attrs["load_report"].notes
    # every distinct label is listed with its class in the load report
    listed = " ".join(notes)
    assert all(label in listed for label in raw["LIBELLE"].unique())
    assert any(n.startswith("zone d'activités (libellé U/AU") and "Uy" in n for n in notes)


def test_real_pezou_destdomi_conflict_is_reported_and_kept_as_activity():
    path = real("plu/gpu_41175_PLU_20140603/41175_ZONE_URBA.shp")
    zones = read_gpu_zoning(path)
    classes = _classes(zones)
    assert {lab for lab, c in classes.items() if c == "activity"} == {"UY", "UYi", "1AUY"}
    # UE "dédiée aux équipements publics": the long label decides, not an activity zone
    assert classes["UE"] == classes["UEi"] == "other"
    # the UTF-8 DBF without .cpg is read as UTF-8
    assert "Zone urbanisée dédiée au développement économique" in set(zones["libelong"])
    by_label = zones.drop_duplicates("libelle").set_index("libelle")
    assert by_label.loc["1AUY", "destdomi"] == "02"
    assert by_label.loc["UY", "destdomi"] == by_label.loc["UYi", "destdomi"] == "01"
    assert by_label.loc["UY", "activity_reason"].startswith("conflit : DESTDOMI 01")
    assert by_label.loc["1AUY", "activity_reason"].startswith("DESTDOMI 02 ;")
    conflict = [n for n in zones.attrs["load_report"].notes if n.startswith("conflit")]
    n_conflict = int(zones["libelle"].isin(["UY", "UYi"]).sum())
    assert conflict == [
        f"conflit DESTDOMI / libellés pour {n_conflict} zones (UY, UYi) : à vérifier"
    ]


def test_real_pezou_destdomi_wins_when_the_rules_say_so(tmp_path):
    from importlib import resources

    from foncier.io.gpu import DEFAULT_ZONE_RULES

    builtin = resources.files("foncier") / "rules" / "nomenclatures" / DEFAULT_ZONE_RULES
    text = builtin.read_text(encoding="utf-8")
    assert 'on_conflict = "activity"' in text
    rules = tmp_path / "mes_regles.toml"
    rules.write_text(text.replace('on_conflict = "activity"', 'on_conflict = "destdomi"'))
    zones = read_gpu_zoning(
        real("plu/gpu_41175_PLU_20140603/41175_ZONE_URBA.shp"), zone_rules=rules
    )
    classes = _classes(zones)
    assert {lab for lab, c in classes.items() if c == "activity"} == {"1AUY"}
    assert str(rules) in zones.attrs["load_report"].notes[0]


def test_real_arpaillargues_says_no_activity_zone_is_recognised():
    zones = read_gpu_zoning(real("plu/gpu_30014_PLU_20171013/30014_ZONE_URBA_20171013.shp"))
    assert (zones["activity_class"] == "other").all()
    warning = [n for n in zones.attrs["load_report"].notes if "aucune zone d'activités" in n]
    assert len(warning) == 1
    for label in ("Ua", "Uc", "IAU", "IIAU", "A", "N", "Ns"):
        assert label in warning[0]
    # the A zone's long label speaks of "valeur économique des sols": the zone type decides first
    assert (
        "zone agricole ou naturelle"
        in zones.set_index("libelle").loc["A", "activity_reason"].iloc[0]
    )


@pytest.mark.parametrize(
    ("libelle", "libelong", "zone_type", "destdomi", "expected"),
    [
        ("Ux", None, "U", None, "activity"),
        ("Ue", None, "U", None, "activity"),
        ("1AUe", None, "AUc", None, "activity"),
        ("AUy1", None, "AUc", None, "activity"),
        ("IAUx", None, "AUc", None, "activity"),
        ("Ui", None, "U", None, "activity"),
        ("Ua", None, "U", None, "other"),
        ("Ub", None, "U", None, "other"),
        ("Uh", None, "U", None, "other"),
        ("Ue", "Zone d'équipements publics et collectifs", "U", None, "other"),
        ("1AU", "Zone d\u2019activités économiques future", "AUc", None, "activity"),
        ("U3", "zone d activites artisanales", "U", None, "activity"),
        ("Ua", "Centre ancien : habitat et activités artisanales compatibles", "U", None, "other"),
        ("Ny", None, "N", None, "other"),
        ("Ua", None, "U", "02", "activity"),
        ("Ux", None, "U", "00", "activity"),
        ("Ux", None, "U", "01", "activity"),
        ("secteur 02", None, "U", "02", "activity"),
    ],
)
def test_classification_of_hand_written_zones(libelle, libelong, zone_type, destdomi, expected):
    from foncier.io.gpu import classify_zones

    zones = pd.DataFrame(
        {
            "libelle": [libelle],
            "libelong": [libelong],
            "zone_type": [zone_type],
            "destdomi": [destdomi],
        }
    )
    out = classify_zones(zones)
    assert out["activity_class"].iloc[0] == expected
    assert bool(out["conflict"].iloc[0]) == (destdomi == "01" and libelle == "Ux")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[rules]]\nfield = 'nom'\npattern = 'x'\nactivity = true\nreason = 'r'\n", "field"),
        ("[[rules]]\nfield = 'libelle'\npattern = '('\nactivity = true\nreason = 'r'\n", "pattern"),
        ("[[rules]]\nfield = 'libelle'\npattern = 'x'\nactivity = 'oui'\nreason = 'r'\n", "true"),
        ("[[rules]]\nfield='libelle'\npattern='x'\nactivity=true\n", "clés"),
        (
            "on_conflict = 'x'\n[[rules]]\nfield='libelle'\npattern='x'\n"
            "activity=true\nreason='r'\n",
            "on_conflict",
        ),
        ("name = 'x'\n", "aucune règle"),
        ("rules = [", "TOML"),
    ],
)
def test_malformed_zone_rules_are_refused_with_the_file_named(tmp_path, text, match):
    from foncier.errors import RuleSetError
    from foncier.io.gpu import load_zone_rules

    path = tmp_path / "regles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match=match) as info:
        load_zone_rules(path)
    assert "regles.toml" in str(info.value)


def test_real_activity_zones_feed_the_land_supply():
    """Parcels drawn on the Pezou zones: only those in UY, UYi and 1AUY become candidates."""
    from foncier.layers import empty_layer, validate_layer
    from foncier.supply import candidate_land
    from foncier.territory import Territory

    zones = read_gpu_zoning(real("plu/gpu_41175_PLU_20140603/41175_ZONE_URBA.shp"))
    n = len(zones)
    parcels = validate_layer(
        "parcels",
        gpd.GeoDataFrame(
            {
                "idu": [f"41175000AB{i + 1:04d}" for i in range(n)],
                "insee": "41175",
                "section": "AB",
                "numero": [f"{i + 1:04d}" for i in range(n)],
                "contenance_m2": zones.area.to_numpy(),
                "land_cover": "unknown",
            },
            geometry=zones.geometry.buffer(-1.0).to_numpy(),  # one parcel inside each zone
            crs="EPSG:2154",
        ),
    )
    t = Territory(
        name="pezou",
        layers={"parcels": parcels, "plu_zones": zones},
        enaf_consumption=empty_layer("enaf_consumption"),
        projects=empty_layer("projects"),
    )
    cands = candidate_land(t)
    expected = set(parcels.loc[zones["libelle"].isin(["UY", "UYi", "1AUY"]).to_numpy(), "idu"])
    assert set(cands.loc[cands["origin"] == "activity_zone", "idus"]) == expected
    assert len(expected) == int(zones["libelle"].isin(["UY", "UYi", "1AUY"]).sum()) > 0
