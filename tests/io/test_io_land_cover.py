"""Land cover of parcels from cadastre buildings, occupied ZAE plots and OCS GE."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _io_helpers import real, squares
from click.testing import CliRunner

from foncier.cli import main
from foncier.errors import DataSourceError, LayerSchemaError, RuleSetError
from foncier.io import read_cadastre
from foncier.io.assemble import TerritorySources, build_territory
from foncier.io.cadastre import read_buildings
from foncier.io.ocsge import load_ocsge_nomenclature, ocsge_land_cover, read_ocsge
from foncier.land_cover import assign_land_cover, built_share
from foncier.territory import Territory
from foncier.zan import load_rules

X0, Y0 = 700_000.0, 6_300_000.0
L93 = "EPSG:2154"


def parcels9() -> gpd.GeoDataFrame:
    """Nine 1 ha parcels (100 m squares) of commune 30007, row-major from the lower left."""
    return gpd.GeoDataFrame(
        {
            "idu": [f"30007000AB{i + 1:04d}" for i in range(9)],
            "insee": "30007",
            "section": "AB",
            "numero": [f"{i + 1:04d}" for i in range(9)],
            "contenance_m2": 10_000.0,
        },
        geometry=squares(),
        crs=L93,
    )


def rect(i: int, x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in local metres of parcel ``i`` of :func:`parcels9`."""
    ox, oy = X0 + (i % 3) * 100, Y0 + (i // 3) * 100
    return shapely.box(ox + x0, oy + y0, ox + x1, oy + y1)


# -- buildings --------------------------------------------------------------------------
def etalab_buildings(path, geoms_l93: list[shapely.Polygon]):
    """An Etalab ``cadastre-<insee>-batiments.json``: type/nom/commune/created/updated, WGS84."""
    wgs = gpd.GeoSeries(geoms_l93, crs=L93).to_crs("EPSG:4326")
    features = [
        {
            "type": "Feature",
            "id": f"30007000AB{k:04d}",
            "properties": {
                "type": "01" if k % 2 == 0 else "02",
                "nom": None,
                "commune": "30007",
                "created": "2005-11-04",
                "updated": "2023-01-02",
            },
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for k, g in enumerate(wgs)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_hand_checked_building_shares_and_rule(tmp_path):
    path = etalab_buildings(
        tmp_path / "cadastre-30007-batiments.json",
        [
            rect(0, 0, 0, 50, 100),  # parcel 1: half covered
            rect(0, 40, 0, 60, 10),  # overlapping the first one: counted once
            rect(1, 0, 0, 10, 50),  # parcel 2: 5 % covered
            rect(3, 95, 0, 105, 100),  # astride parcels 4 and 5: 5 % of each
        ],
    )
    buildings = read_buildings(path)
    assert buildings["building_type"].tolist() == ["01", "02", "01", "02"]
    assert buildings.crs == L93 and buildings.attrs["load_report"].rows_kept == 4
    parcels = parcels9()
    share = built_share(parcels, buildings)
    assert share[:6] == pytest.approx([0.51, 0.05, 0.0, 0.05, 0.05, 0.0], abs=1e-4)
    out = assign_land_cover(parcels, buildings=buildings)
    assert out["land_cover"].tolist() == ["artificialised"] + ["unknown"] * 8
    assert out["land_cover_source"].tolist()[:2] == ["buildings", "none"]
    note = out.attrs["load_report"].notes[-1]
    assert "1 artificialisées d'après le bâti (part bâtie ≥ 10\xa0%)" in note
    assert "3 bâties en deçà laissées inconnues" in note
    assert "8 parcelles (8,00\xa0ha) de couverture inconnue" in note
    # the threshold is a parameter
    low = assign_land_cover(parcels, buildings=buildings, min_built_share=0.049)
    assert low["land_cover"].tolist()[:6] == [
        "artificialised",
        "artificialised",
        "unknown",
        "artificialised",
        "artificialised",
        "unknown",
    ]
    with pytest.raises(LayerSchemaError, match="min_built_share"):
        assign_land_cover(parcels, buildings=buildings, min_built_share=0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`keep_geom_type=True` in overlay")
def test_real_saint_martin_de_clelles_parcels_get_their_cover_from_the_buildings():
    parcels = read_cadastre(real("cadastre/cadastre-38419-parcelles.geojson"))
    buildings = read_buildings(real("cadastre/pci-38419-batiments.geojson"))
    assert len(parcels) == 1316 and len(buildings) == 191
    # The PCI export names the building type DUR (01 bâti dur 157, 02 bâti léger 34).
    assert buildings["building_type"].value_counts().to_dict() == {"01": 157, "02": 34}
    out = assign_land_cover(parcels, buildings=buildings)

    # Independent count: geopandas overlay of the parcels with the dissolved buildings.
    raw_p = gpd.read_file(real("cadastre/cadastre-38419-parcelles.geojson")).to_crs(L93)
    raw_b = gpd.read_file(real("cadastre/pci-38419-batiments.geojson")).to_crs(L93)
    dissolved = gpd.GeoDataFrame(geometry=[raw_b.union_all()], crs=L93).explode()
    pieces = gpd.overlay(
        raw_p[["id", "geometry"]], dissolved, how="intersection", keep_geom_type=True
    )
    built_m2 = pieces.assign(a=pieces.area).groupby("id")["a"].sum()
    share = (built_m2 / raw_p.set_index("id").area.reindex(built_m2.index)).reindex(
        raw_p["id"], fill_value=0.0
    )
    expected_art = set(share.index[share >= 0.10])
    got = out.set_index("idu")["land_cover"]
    assert set(got.index[got == "artificialised"]) == expected_art
    assert len(expected_art) == 99
    assert set(got.index[got == "unknown"]) == set(raw_p["id"]) - expected_art
    assert (got != "enaf").all()  # buildings never prove a parcel ENAF
    assert out["built_share"].to_numpy() == pytest.approx(
        share.loc[out["idu"]].to_numpy(), abs=1e-6
    )
    partly = int(((built_m2 >= 1.0) & (share.reindex(built_m2.index) < 0.10)).sum())
    note = out.attrs["load_report"].notes[-1]
    assert "99 artificialisées d'après le bâti" in note
    assert f"{partly} bâties en deçà laissées inconnues" in note
    assert f"{1316 - 99} parcelles" in note


def test_pci_and_etalab_building_schemas_read_alike(tmp_path):
    geoms = [rect(4, 10, 10, 60, 60)]
    etalab = etalab_buildings(tmp_path / "etalab.json", geoms)
    pci = gpd.GeoDataFrame(
        {"id": ["Objet_1"], "DUR": ["02"], "DATE_OBS": ["2008-05-21"]},
        geometry=gpd.GeoSeries(geoms, crs=L93).to_crs("EPSG:4326"),
    )
    pci.to_file(tmp_path / "pci.geojson", driver="GeoJSON")
    a, b = read_buildings(etalab), read_buildings(tmp_path / "pci.geojson")
    assert a["building_type"].tolist() == ["01"] and b["building_type"].tolist() == ["02"]
    assert a.area.iloc[0] == pytest.approx(b.area.iloc[0]) == pytest.approx(2500, rel=1e-6)


def test_buildings_file_errors(tmp_path):
    with pytest.raises(DataSourceError, match="nope.json"):
        read_buildings(tmp_path / "nope.json")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(DataSourceError, match="empty"):
        read_buildings(empty)


# -- OCS GE -----------------------------------------------------------------------------
def ocsge_file(path, rows: list[tuple[str, str, shapely.Polygon]], **kw) -> object:
    """An OCS GE layer in the IGN format: ID, CODE_CS, CODE_US, MILLESIME, Lambert-93."""
    gdf = gpd.GeoDataFrame(
        {
            "ID": [f"OCSGE_{k}" for k in range(len(rows))],
            "CODE_CS": [r[0] for r in rows],
            "CODE_US": [r[1] for r in rows],
            "MILLESIME": "2021",
            "SOURCE": "BDTOPO",
        },
        geometry=[r[2] for r in rows],
        crs=L93,
    )
    gdf.to_file(path, **kw)
    return path


@pytest.mark.parametrize(
    ("cs", "us", "expected"),
    [
        ("CS1.1.1.1", "US235", "artificialised"),  # zones bâties
        ("CS1.1.1.1", "US1.1", "artificialised"),  # a farm building is still built
        ("CS1.1.1.2", "US4.1.1", "artificialised"),  # roads
        ("CS1.1.2.1", "US1.3", "enaf"),  # quarry in operation (décret 5°)
        ("CS1.1.2.1", "US4.2", "artificialised"),
        ("CS2.2.1", "US1.1", "enaf"),  # meadow, agriculture
        ("CS2.2.1", "US5", "artificialised"),  # lawn of a house (décret 4°)
        ("CS2.2.1.1", "US235", "artificialised"),  # sub-code of CS2.2.1
        ("CS2.2.1", "US6.3", "enaf"),  # herbaceous, no use
        ("CS2.1.1.1", "US5", "enaf"),  # trees in a garden: not artificialised
        ("CS1.2.2", "US1.4", "enaf"),  # water
        ("cs1111", "us235", "artificialised"),  # undotted, lower case
        ("CS2.2.1", "US4.1.1", "artificialised"),  # road verge
    ],
)
def test_ocsge_codes_mapped_as_the_decree_does(cs, us, expected):
    assert ocsge_land_cover(pd.Series([cs]), pd.Series([us])).tolist() == [expected]


def test_ocsge_decides_by_majority_of_area(tmp_path):
    path = ocsge_file(
        tmp_path / "ocsge.gpkg",
        [
            ("CS1.1.1.1", "US235", rect(0, 0, 0, 100, 100)),  # parcel 1: built
            ("CS2.2.1", "US1.1", rect(1, 0, 0, 100, 100)),  # parcel 2: meadow
            ("CS1.1.1.2", "US4.1.1", rect(2, 0, 0, 40, 100)),  # parcel 3: 40 % road,
            ("CS2.1.1.1", "US1.2", rect(2, 40, 0, 100, 100)),  # 60 % forest -> ENAF
            ("CS1.1.1.1", "US2", rect(3, 0, 0, 30, 100)),  # parcel 4: only 30 % covered
            ("CS2.2.1", "US1.1", rect(4, 0, 0, 100, 100)),  # parcel 5: meadow, but built
        ],
        layer="occupation_sol",
    )
    ocsge = read_ocsge(path)
    assert ocsge["land_cover"].tolist() == [
        "artificialised",
        "enaf",
        "artificialised",
        "enaf",
        "artificialised",
        "enaf",
    ]
    report = ocsge.attrs["load_report"]
    assert report.rows_kept == 6 and "3 polygones artificialisés et 3 ENAF" in report.notes[0]
    house = gpd.GeoDataFrame(geometry=[rect(4, 0, 0, 60, 60)], crs=L93)
    out = assign_land_cover(parcels9(), ocsge=ocsge, buildings=house)
    assert out["land_cover"].tolist()[:6] == [
        "artificialised",
        "enaf",
        "enaf",
        "unknown",
        "enaf",  # OCS GE decides, against the buildings: the disagreement is counted
        "unknown",
    ]
    assert out["land_cover_source"].tolist()[:6] == [
        "ocsge",
        "ocsge",
        "ocsge",
        "none",
        "ocsge",
        "none",
    ]
    note = out.attrs["load_report"].notes[-1]
    assert "4 décidées par l'OCS GE (1 artificialisées), dont 1 ENAF pour l'OCS GE" in note


def test_ocsge_shapefile_with_lower_case_fields_and_undotted_codes(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"code_cs": ["CS1111", "CS221"], "code_us": ["US5", "US11"]},
        geometry=[rect(0, 0, 0, 100, 100), rect(1, 0, 0, 100, 100)],
        crs=L93,
    )
    gdf.to_file(tmp_path / "ocsge.shp")
    ocsge = read_ocsge(tmp_path / "ocsge.shp")
    assert ocsge["code_cs"].tolist() == ["CS1.1.1.1", "CS2.2.1"]
    assert ocsge["code_us"].tolist() == ["US5", "US1.1"]
    out = assign_land_cover(parcels9(), ocsge=ocsge)
    assert out["land_cover"].tolist()[:3] == ["artificialised", "enaf", "unknown"]


def test_ocsge_without_codes_is_refused(tmp_path):
    gdf = gpd.GeoDataFrame({"nature": ["x"]}, geometry=[rect(0, 0, 0, 10, 10)], crs=L93)
    gdf.to_file(tmp_path / "bad.gpkg")
    with pytest.raises(DataSourceError, match="code_cs"):
        read_ocsge(tmp_path / "bad.gpkg")


def test_a_user_ocsge_nomenclature_is_validated(tmp_path):
    path = tmp_path / "nomenclature.toml"
    path.write_text("[[rules]]\ncouverture = ['CS1.1.1.1']\nusage = ['*']\nland_cover = 'bati'\n")
    with pytest.raises(RuleSetError, match="land_cover"):
        load_ocsge_nomenclature(path)
    builtin = load_ocsge_nomenclature()
    assert builtin.version == "2023-1096" and builtin.default == "enaf"


# -- ZAE plots ----------------------------------------------------------------------------
def test_parcels_of_occupied_zae_plots_are_artificialised():
    parcels = parcels9()
    plots = gpd.GeoDataFrame(
        {
            "plot_id": ["T1", "T2", "T3"],
            "site_id": "S1",
            "refcad": ["30007000AB0001|30007000AB0002", None, "30007000AB0009"],
            "servicing_stage": "viabilisé et aménagé",
            "occupancy": ["occupé", "occupé", "vacant"],
        },
        geometry=[rect(0, 0, 0, 100, 100), rect(4, -5, -5, 105, 105), rect(8, 0, 0, 100, 100)],
        crs=L93,
    )
    out = assign_land_cover(parcels, zae_plots=plots)
    art = out.loc[out["land_cover"] == "artificialised", "idu"].str[-1].tolist()
    assert art == ["1", "2", "5"]  # T1 by refcad, T2 by its footprint, T3 vacant
    assert (out.loc[out["land_cover"] == "artificialised", "land_cover_source"] == "zae_plot").all()


# -- import and rule set ------------------------------------------------------------------
def test_import_cli_with_buildings_and_threshold(tmp_path):
    parcels = parcels9().rename(
        columns={"idu": "id", "insee": "commune", "contenance_m2": "contenance"}
    )
    parcels.to_crs("EPSG:4326").to_file(
        tmp_path / "cadastre-30007-parcelles.json", driver="GeoJSON"
    )
    etalab_buildings(
        tmp_path / "cadastre-30007-batiments.json", [rect(0, 0, 0, 50, 100), rect(1, 0, 0, 20, 100)]
    )
    base = [
        "import",
        "--cadastre",
        str(tmp_path / "cadastre-30007-parcelles.json"),
        "--buildings",
        str(tmp_path / "cadastre-30007-batiments.json"),
        "--name",
        "T",
    ]
    result = CliRunner().invoke(main, [*base, "-o", str(tmp_path / "t1")])
    assert result.exit_code == 0, result.output
    assert "2 artificialisées d'après le bâti" in result.output
    t = Territory.from_folder(tmp_path / "t1")
    assert t.parcels["land_cover"].value_counts().to_dict() == {"unknown": 7, "artificialised": 2}
    result = CliRunner().invoke(main, [*base, "--built-share", "0.3", "-o", str(tmp_path / "t2")])
    assert result.exit_code == 0, result.output
    t = Territory.from_folder(tmp_path / "t2")
    assert t.parcels["land_cover"].value_counts().to_dict() == {"unknown": 8, "artificialised": 1}


def test_buildings_without_cadastre_is_a_clear_error(tmp_path):
    etalab_buildings(tmp_path / "b.json", [rect(0, 0, 0, 50, 100)])
    result = CliRunner().invoke(
        main,
        [
            "import",
            "--buildings",
            str(tmp_path / "b.json"),
            "--name",
            "T",
            "-o",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Erreur :")]
    assert len(errors) == 1 and "--cadastre" in errors[0]
    with pytest.raises(DataSourceError, match="--cadastre"):
        build_territory("T", TerritorySources(ocsge=[tmp_path / "b.json"]), tmp_path / "dem.tif")


def test_imported_parcels_without_any_cover_source_are_unknown(tmp_path):
    parcels = parcels9().rename(columns={"idu": "id"})
    parcels.to_file(tmp_path / "p.gpkg")
    t = build_territory("T", TerritorySources(cadastre=[tmp_path / "p.gpkg"]), tmp_path / "d.tif")
    assert (t.parcels["land_cover"] == "unknown").all()
    note = t.reports["parcels"].notes[-1]
    assert "aucune source de couverture" in note and "9 parcelles (9,00\xa0ha)" in note


def test_unknown_land_cover_rule_setting(tmp_path):
    assert load_rules().unknown_land_cover == "enaf"
    path = tmp_path / "r.toml"
    path.write_text('name = "r"\nversion = "1"\nunknown_land_cover = "artificialised"\n')
    assert load_rules(path).unknown_land_cover == "artificialised"
    path.write_text('name = "r"\nversion = "1"\nunknown_land_cover = "inconnu"\n')
    with pytest.raises(RuleSetError, match="unknown_land_cover"):
        load_rules(path)
    assert np.isin(["enaf", "artificialised"], ["enaf", "artificialised"]).all()
